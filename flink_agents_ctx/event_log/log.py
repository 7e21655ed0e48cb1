"""The event log: one JSON line per event a run handles and per action it executes.

Each input's run leaves a trail: the ``InputEvent``, every event an action sends (with the action
that sent it and the id of the event that caused it) and every action execution (what triggered
it, what it sent, whether it failed). Values are shaped for reading, not for replay: long strings,
lists and dicts are cut and deep nesting is summarised, so one huge input cannot flood the log.

Records go to a :class:`EventLogSink`: a JSON-lines file or Python's logging. With the log off the
operator holds no :class:`EventLog` at all and pays one ``is None`` check per event.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import math
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from flink_agents_ctx.events import ActionFailedEvent, Event

_log = logging.getLogger(__name__)

ACTION_RECORD = "action"
LOGGER_NAME = "flink_agents_ctx.event_log"


@dataclasses.dataclass(frozen=True)
class Limits:
    """How far values are shaped: string length, items per list or dict, nesting depth."""

    max_string: int = 256
    max_items: int = 20
    max_depth: int = 4


_SCALARS = frozenset((type(None), bool, int))
# Larger ints have no decimal form in Python by default (4,300 digits): say how large they are.
_MAX_INT_BITS = 4096


def shape(value: Any, limits: Limits, depth: int = 0) -> Any:
    """``value`` as JSON-ready data within ``limits`` (see the module docstring)."""
    kind = type(value)
    if kind is str:
        if len(value) <= limits.max_string:
            return value
        return f"{value[: limits.max_string]}...(+{len(value) - limits.max_string} chars)"
    if kind in _SCALARS:
        if kind is int and value.bit_length() > _MAX_INT_BITS:
            return f"<int of {value.bit_length()} bits>"
        return value
    if kind is float:
        return value if math.isfinite(value) else str(value)
    if depth >= limits.max_depth and kind not in (bytes, bytearray):
        return f"<{kind.__name__} nested deeper than {limits.max_depth}>"
    if kind is dict:
        return _shape_mapping(value, limits, depth)
    if kind is list or kind is tuple:
        return _shape_items(value, limits, depth)
    return _shape_other(value, limits, depth)


def _shape_mapping(value: Mapping[Any, Any], limits: Limits, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, (k, v) in enumerate(value.items()):
        if i == limits.max_items:
            out["..."] = f"+{len(value) - limits.max_items} items"
            break
        out[k if type(k) is str else str(k)] = shape(v, limits, depth + 1)
    return out


def _shape_items(items: Sequence[Any], limits: Limits, depth: int) -> list[Any]:
    shaped = [shape(v, limits, depth + 1) for v in items[: limits.max_items]]
    if len(items) > limits.max_items:
        shaped.append(f"...(+{len(items) - limits.max_items} items)")
    return shaped


def _shape_other(value: Any, limits: Limits, depth: int) -> Any:
    """Subclasses of the plain types, bytes, events, sets and anything else (as its repr)."""
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return shape(str(value), limits, depth)
    if isinstance(value, (bool, int)):
        return shape(int(value), limits, depth)
    if isinstance(value, float):
        return shape(float(value), limits, depth)
    if isinstance(value, Event):
        fields = {"type": type(value).__name__, "id": value.id, **event_fields(value)}
        return _shape_mapping(fields, limits, depth)
    if isinstance(value, Mapping):
        return _shape_mapping(value, limits, depth)
    if isinstance(value, (list, tuple)):
        return _shape_items(value, limits, depth)
    if isinstance(value, (set, frozenset)):
        return _shape_items(list(value), limits, depth)
    try:
        text = repr(value)
    except Exception as e:
        text = f"<{type(value).__name__}: repr failed: {type(e).__name__}>"
    return shape(text, limits, depth)


def event_fields(event: Event) -> dict[str, Any]:
    """An event's own fields (without its id and source timestamp)."""
    return {n: getattr(event, n) for n in event._field_names if n not in _EVENT_META}


class EventLogSink(Protocol):
    """Where event-log lines go."""

    def write(self, level: int, line: str) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class JsonLinesFile:
    """Appends lines to a file; flushed at the end of each operator callback and on close."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Lone surrogates (from JSON input, say) are written escaped rather than failing.
        self._file = open(path, "a", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115

    def write(self, level: int, line: str) -> None:
        self._file.write(line)
        self._file.write("\n")

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class LoggerSink:
    """Logs each line at its record's level on the logger ``flink_agents_ctx.event_log`` (in a
    TaskManager, Python's log output ends up in the TaskManager's log files)."""

    def __init__(self, name: str = LOGGER_NAME) -> None:
        self._logger = logging.getLogger(name)

    def write(self, level: int, line: str) -> None:
        self._logger.log(level, line)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class EventLog:
    """Shapes and writes records of one operator instance's events and actions.

    Args:
        sink: where lines go.
        agent: the agent's name, in every record.
        threshold: the lowest level written.
        levels: record type name (an event class name, or ``"action"``) -> level.
        limits: how values are shaped.
        clock: epoch seconds, for the records' times.
    """

    def __init__(
        self,
        sink: EventLogSink,
        agent: str,
        threshold: int = logging.INFO,
        levels: Mapping[str, int] | None = None,
        limits: Limits | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._sink = sink
        self._agent = agent
        self._threshold = threshold
        self._levels = {ActionFailedEvent.__name__: logging.WARNING, ACTION_RECORD: logging.DEBUG}
        self._levels.update(levels or {})
        self._limits = limits or Limits()
        self._clock = clock or time.time
        self._by_class: dict[type, int] = {}
        #: Records that could not be written (dropped, with one warning).
        self.dropped = 0
        # Records of one callback share a time: formatting it costs more than a record.
        self._time_s = -1.0
        self._time_text = ""

    def _level_of(self, event: Event) -> int:
        cls = type(event)
        level = self._by_class.get(cls)
        if level is None:
            level = self._by_class[cls] = self._levels.get(cls.__name__, logging.INFO)
        return level

    def event(
        self, key: Hashable, event: Event, by: str | None = None, cause: str | None = None
    ) -> None:
        """An event entered a run: the input's own (``by`` is ``None``), or one that action
        ``by`` sent while handling the event whose id is ``cause``."""
        level = self._level_of(event)
        if level < self._threshold:
            return
        record: dict[str, Any] = {"record": "event", "type": type(event).__name__, "id": event.id}
        if by is not None:
            record["by"] = by
            record["cause"] = cause
        if event.source_timestamp is not None:
            record["source_timestamp"] = event.source_timestamp
        self._write(level, key, record, event_fields(event))

    def action(self, key: Hashable, action: str, trigger: Event, sent: Sequence[Event]) -> None:
        """Action ``action`` finished handling ``trigger`` and sent ``sent``."""
        level = self._levels[ACTION_RECORD]
        if level < self._threshold and self._threshold > logging.WARNING:
            return  # not even a failure's record would be written
        failed = any(isinstance(e, ActionFailedEvent) and e.action == action for e in sent)
        if failed:
            level = max(level, logging.WARNING)
        if level < self._threshold:
            return
        record = {
            "record": ACTION_RECORD,
            "action": action,
            "trigger": type(trigger).__name__,
            "cause": trigger.id,
            "sent": [type(e).__name__ for e in sent],
            "failed": failed,
        }
        self._write(level, key, record)

    def _time(self) -> str:
        now = self._clock()
        if now - self._time_s >= 0.001 or now < self._time_s:
            self._time_s = now
            moment = datetime.datetime.fromtimestamp(now, datetime.UTC)
            self._time_text = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return self._time_text

    def _write(
        self,
        level: int,
        key: Hashable,
        record: dict[str, Any],
        fields: dict[str, Any] | None = None,
    ) -> None:
        # The log describes the job; it must never fail it (the same input would fail again
        # after every restart). A record that cannot be shaped or written is dropped, said once.
        try:
            self._emit(level, key, record, fields)
        except Exception as e:
            self.dropped += 1
            if self.dropped == 1:
                _log.warning(
                    "event log: a %s record of key %r could not be written (%s: %s); such "
                    "records are dropped",
                    record.get("type") or record.get("action"),
                    key,
                    type(e).__name__,
                    e,
                )

    def _emit(
        self, level: int, key: Hashable, record: dict[str, Any], fields: dict[str, Any] | None
    ) -> None:
        head = {
            "time": self._time(),
            "level": logging.getLevelName(level),
            "agent": self._agent,
            "key": shape(key, self._limits),
        }
        head.update(record)
        if fields is not None:
            head["fields"] = shape(fields, self._limits)
        self._sink.write(level, "".join(_encoder(head, 0)))

    def flush(self) -> None:
        self._sink.flush()

    def close(self) -> None:
        self._sink.close()


_EVENT_META = frozenset(("id", "source_timestamp"))
# The json module's C encoder, made once (json.dumps with options builds a new encoder per call,
# which cost more than the rest of a record); values it cannot encode become their str().
_encoder = getattr(json.encoder, "c_make_encoder")(  # noqa: B009
    None,
    str,
    json.encoder.encode_basestring,
    None,
    ": ",
    ", ",
    False,
    False,
    True,
)
