"""The event log's configuration options (registered in the configuration table)."""

from __future__ import annotations

import logging

from flink_agents_ctx.config import ConfigOption, register_options

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def parse_levels(raw: str) -> dict[str, int]:
    """``"Type=LEVEL,..."`` as record type -> logging level; raises ``ValueError`` saying what
    is wrong."""
    levels = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, sep, level = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(
                "write it as 'EventType=LEVEL,...' (for example 'InputEvent=DEBUG,action=DEBUG')"
            )
        if level.strip().upper() not in LEVELS:
            raise ValueError(
                f"level {level.strip()!r} of {name.strip()!r} is not one of {', '.join(LEVELS)}"
            )
        levels[name.strip()] = level_number(level)
    return levels


def _levels_problem(raw: str) -> str | None:
    try:
        parse_levels(raw)
    except ValueError as e:
        return str(e)
    return None


EVENT_LOG_SINK: ConfigOption[str] = ConfigOption(
    "event-log.sink",
    str,
    None,
    "Where the event log goes: 'file' (JSON lines in event-log.file) or 'logger' (Python's "
    "logger 'flink_agents_ctx.event_log', which the TaskManager's log receives). Unset: no event "
    "log (the default; it then costs one check per event).",
    choices=("file", "logger"),
)
EVENT_LOG_FILE: ConfigOption[str] = ConfigOption(
    "event-log.file",
    str,
    None,
    "The event log's file with event-log.sink 'file'; '{subtask}' in it becomes the operator "
    "instance's index (use it with parallelism above 1). Lines are appended.",
)
EVENT_LOG_LEVEL: ConfigOption[str] = ConfigOption(
    "event-log.level",
    str,
    "INFO",
    "The lowest level written: DEBUG, INFO, WARNING or ERROR.",
    choices=LEVELS,
)
EVENT_LOG_LEVELS: ConfigOption[str] = ConfigOption(
    "event-log.levels",
    str,
    "",
    "Levels of record types, as 'Type=LEVEL,...': an event class name (InputEvent, OutputEvent, "
    "your own), or 'action' for action records. Unlisted events are INFO, ActionFailedEvent "
    "WARNING, actions DEBUG.",
    check=_levels_problem,
)
EVENT_LOG_MAX_STRING: ConfigOption[int] = ConfigOption(
    "event-log.max-string-length",
    int,
    256,
    "Longer strings are cut to this many characters (and say how long they were).",
    minimum=8,
)
EVENT_LOG_MAX_ITEMS: ConfigOption[int] = ConfigOption(
    "event-log.max-items",
    int,
    20,
    "Longer lists and dicts keep this many items (and say how many they had).",
    minimum=1,
)
EVENT_LOG_MAX_DEPTH: ConfigOption[int] = ConfigOption(
    "event-log.max-depth",
    int,
    4,
    "Values nested deeper than this are replaced by a short description.",
    minimum=1,
)

register_options(
    EVENT_LOG_SINK,
    EVENT_LOG_FILE,
    EVENT_LOG_LEVEL,
    EVENT_LOG_LEVELS,
    EVENT_LOG_MAX_STRING,
    EVENT_LOG_MAX_ITEMS,
    EVENT_LOG_MAX_DEPTH,
)


def level_number(name: str) -> int:
    return int(logging.getLevelName(name.strip().upper()))
