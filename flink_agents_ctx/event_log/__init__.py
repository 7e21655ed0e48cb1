"""The optional structured event log (off by default): see :mod:`.log` for what it records and
:mod:`.options` for its configuration."""

from __future__ import annotations

from pathlib import Path

from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.errors import ConfigError
from flink_agents_ctx.event_log.log import (
    EventLog,
    EventLogSink,
    JsonLinesFile,
    Limits,
    LoggerSink,
)
from flink_agents_ctx.event_log.options import (
    EVENT_LOG_FILE,
    EVENT_LOG_LEVEL,
    EVENT_LOG_LEVELS,
    EVENT_LOG_MAX_DEPTH,
    EVENT_LOG_MAX_ITEMS,
    EVENT_LOG_MAX_STRING,
    EVENT_LOG_SINK,
    level_number,
    parse_levels,
)

__all__ = ["EventLog", "open_event_log"]


def open_event_log(config: AgentConfig, agent: str, subtask: int = 0) -> EventLog | None:
    """The event log the configuration asks for, or ``None`` when ``event-log.sink`` is unset."""
    kind = config.get(EVENT_LOG_SINK)
    if kind is None:
        return None
    sink: EventLogSink
    if kind == "file":
        path = config.get(EVENT_LOG_FILE)
        if not path:
            raise ConfigError(
                "event-log.sink is 'file' but event-log.file is not set; give a path (with "
                "'{subtask}' in it when the operator runs with parallelism above 1)",
                key=EVENT_LOG_FILE.key,
            )
        sink = JsonLinesFile(Path(path.replace("{subtask}", str(subtask))))
    else:
        sink = LoggerSink()
    levels = parse_levels(config.get(EVENT_LOG_LEVELS) or "")
    return EventLog(
        sink,
        agent,
        threshold=level_number(config.get(EVENT_LOG_LEVEL) or "INFO"),
        levels=levels,
        limits=Limits(
            config.get(EVENT_LOG_MAX_STRING) or 256,
            config.get(EVENT_LOG_MAX_ITEMS) or 20,
            config.get(EVENT_LOG_MAX_DEPTH) or 4,
        ),
    )
