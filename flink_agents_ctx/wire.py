"""The wire format between the Python core and the Java bridge (``java-bridge/``).

Version :data:`WIRE_VERSION`, checked once when the bridge opens. Values are JSON, with single-key
objects whose key starts with ``$`` for what JSON lacks (the Java side is
``flinkagentsctx.bridge.Wire``; ``tests/wire/`` holds cases both sides' tests read)::

    None, bool, int, finite float, str     as JSON (ints of any size)
    bytes                                  {"$bytes": "<base64>"}
    nan, inf, -inf                         {"$float": "NaN"} / "Infinity" / "-Infinity"
    list, tuple                            array
    dict with str keys                     object; a key starting with $ gets one more $
    MemoryRef                              {"$ref": {"memory_type": ..., "path": ...}}
    Event                                  {"$event": {"type", "id", "source_timestamp", "fields"}}
    a memory object (answer of a get)      {"$object": {"memory_type": ..., "path": ...}}

Answers to the bridge are ``"=" + value`` or ``"!" + error``, where an error is an object with
``type`` and ``message`` (and, for a failed Java call, ``class`` and ``stack``).

Events cross with their type name (``module.QualName``); an event made in Java may use the class's
plain name when no other event class of the agent has it (:class:`EventTypes`).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flink_agents_ctx.errors import EventSerializationError, WireFormatError
from flink_agents_ctx.events import ActionFailedEvent, Event, InputEvent, OutputEvent
from flink_agents_ctx.types import MemoryRef, MemoryType

WIRE_VERSION = 1

_PLAIN = (str, int, bool, type(None))


def _no_json_form(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} has no JSON form")


# The C parts of the json module, called directly (made once): the bridge crosses once per memory
# call, and the pure-Python wrappers around them were a third of its cost in Python.
_quote: Callable[[str], str] = getattr(json.encoder, "encode_basestring_ascii")  # noqa: B009
_c_encoder = getattr(json.encoder, "c_make_encoder")(  # noqa: B009
    None, _no_json_form, _quote, None, ":", ",", False, False, False
)
_scan: Callable[[str, int], tuple[Any, int]] = getattr(json.JSONDecoder(), "scan_once")  # noqa: B009


def _dumps(data: Any) -> str:
    """JSON text of plain data (what :func:`to_json` returns), without spaces."""
    return "".join(_c_encoder(data, 0))


@dataclass(frozen=True, slots=True)
class MemoryObjectPath:
    """A memory object named in a wire value (what a memory ``get`` answers for an object)."""

    memory_type: MemoryType
    path: str


def _problem(where: str, value: Any) -> WireFormatError:
    return WireFormatError(
        f"{where} has type {type(value).__name__}, which has no wire form; use None, bool, int, "
        "float, str, bytes, lists, str-keyed dicts, MemoryRef or events",
        where=where,
    )


def to_json(value: Any, where: str = "value", depth: int = 0) -> Any:
    """``value`` as plain JSON data with the wire tags (see the module docstring).

    Raises:
        WireFormatError: a part of ``value`` has no wire form (the message says where).
    """
    kind = type(value)
    if kind in _PLAIN:
        return value
    if depth > 100:
        raise WireFormatError(f"{where} is nested more than 100 levels deep", where=where)
    if kind is float:
        if math.isfinite(value):
            return value
        return {
            "$float": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        }
    if kind is bytes:
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if kind is list or kind is tuple:
        return [to_json(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                raise WireFormatError(
                    f"{where} has a dict key {key!r} of type {type(key).__name__}; wire maps "
                    "have str keys",
                    where=where,
                )
            out["$" + key if key.startswith("$") else key] = to_json(
                item, f"{where}[{key!r}]", depth + 1
            )
        return out
    if isinstance(value, MemoryRef):
        return {"$ref": value.to_dict()}
    if isinstance(value, Event):
        return {"$event": event_json(value, depth + 1)}
    if isinstance(value, MemoryObjectPath):
        return {"$object": {"memory_type": value.memory_type.value, "path": value.path}}
    if isinstance(value, (bool, int, str)):  # subclasses such as IntEnum: their plain value
        return (bool if isinstance(value, bool) else int if isinstance(value, int) else str)(value)
    if isinstance(value, float):
        return to_json(float(value), where, depth)
    raise _problem(where, value)


def encode(value: Any) -> str:
    """``value``'s wire text."""
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    if kind is MemoryRef:
        return (
            f'{{"$ref":{{"memory_type":{_quote(value.memory_type.value)},'
            f'"path":{_quote(value.path)}}}}}'
        )
    return _dumps(to_json(value))


def event_json(event: Event, depth: int = 0) -> dict[str, Any]:
    """An event's wire object (the body of ``$event``)."""
    fields = {}
    for name, value in event.user_fields().items():
        fields["$" + name if name.startswith("$") else name] = to_json(
            value, f"event {event.type_name()} field '{name}'", depth + 1
        )
    return {
        "type": event.type_name(),
        "id": event.id,
        "source_timestamp": event.source_timestamp,
        "fields": fields,
    }


def encode_event(event: Event) -> str:
    """An event's wire text.

    Raises:
        EventSerializationError: a field has no wire form.
    """
    try:
        return _dumps(event_json(event))
    except WireFormatError as e:
        raise EventSerializationError(
            f"event {event.type_name()} (id {event.id}) cannot cross to Java: {e}",
            event_type=event.type_name(),
            event_id=event.id,
            field=e.where,
        ) from None


class EventTypes:
    """The event classes of an agent by wire name: ``module.QualName``, and the plain class name
    when only one of the agent's event classes has it."""

    BUILT_IN: tuple[type[Event], ...] = (InputEvent, OutputEvent, ActionFailedEvent)

    def __init__(self, classes: Iterable[type[Event]]) -> None:
        self._by_name: dict[str, type[Event]] = {}
        plain: dict[str, list[type[Event]]] = {}
        for cls in (*self.BUILT_IN, *classes):
            self._by_name[cls.type_name()] = cls
            found = plain.setdefault(cls.__name__, [])
            if cls not in found:
                found.append(cls)
        self._ambiguous: dict[str, list[type[Event]]] = {}
        for name, found in plain.items():
            if len(found) == 1:
                self._by_name.setdefault(name, found[0])
            else:
                self._ambiguous[name] = found

    def resolve(self, name: str) -> type[Event]:
        """The class of wire type ``name``.

        Raises:
            WireFormatError: no event class of the agent has that name, or several do.
        """
        cls = self._by_name.get(name)
        if cls is not None:
            return cls
        clash = self._ambiguous.get(name)
        if clash is not None:
            raise WireFormatError(
                f"event type '{name}' names {len(clash)} event classes of the agent ("
                f"{', '.join(c.type_name() for c in clash)}); use the full name",
                where="type",
            )
        known = ", ".join(sorted(n for n in self._by_name if "." not in n))
        raise WireFormatError(
            f"event type '{name}' is not an event class of the agent (known: {known}); an event "
            "sent from Java needs a Python Event subclass that some action listens to",
            where="type",
        )


def from_json(
    data: Any,
    types: EventTypes | None = None,
    objects: Callable[[MemoryObjectPath], Any] | None = None,
) -> Any:
    """The value of plain JSON data with wire tags (the reverse of :func:`to_json`)."""
    kind = type(data)
    if kind is list:
        return [from_json(v, types, objects) for v in data]
    if kind is not dict:
        return data
    if len(data) == 1:
        ((key, body),) = data.items()
        if key.startswith("$") and not key.startswith("$$"):
            return _from_tag(key, body, types, objects)
    return {
        (k[1:] if k.startswith("$") else k): from_json(v, types, objects) for k, v in data.items()
    }


def _from_tag(
    tag: str,
    body: Any,
    types: EventTypes | None,
    objects: Callable[[MemoryObjectPath], Any] | None,
) -> Any:
    try:
        if tag == "$bytes":
            return base64.b64decode(body, validate=True)
        if tag == "$float":
            return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[body]
        if tag == "$ref":
            return MemoryRef.from_dict(body)
        if tag == "$object":
            path = MemoryObjectPath(MemoryType(body["memory_type"]), str(body["path"]))
            return path if objects is None else objects(path)
        if tag == "$event":
            return event_from_json(body, types, objects)
    except WireFormatError:
        raise
    except (KeyError, TypeError, ValueError) as e:
        raise WireFormatError(f"bad {tag} value {body!r}: {e}", where=tag) from None
    raise WireFormatError(
        f"unknown wire tag {tag} (this core speaks wire format {WIRE_VERSION})", where=tag
    )


def _parse(text: str) -> Any:
    """Plain JSON data of wire text (the C scanner; the full parser only to explain an error)."""
    try:
        data, end = _scan(text, 0)
    except (StopIteration, ValueError):
        end = -1
    if end != len(text):  # not JSON, or not only JSON: let the full parser say what is wrong
        try:
            data = json.loads(text)
        except ValueError as e:
            raise WireFormatError(f"not wire text ({e}): {text[:200]!r}", where="") from None
    return data


def decode(
    text: str,
    types: EventTypes | None = None,
    objects: Callable[[MemoryObjectPath], Any] | None = None,
) -> Any:
    """The value of wire text."""
    data = _parse(text)
    kind = type(data)
    if kind is list or kind is dict:
        return from_json(data, types, objects)
    return data


def event_from_json(
    data: dict[str, Any],
    types: EventTypes | None,
    objects: Callable[[MemoryObjectPath], Any] | None = None,
) -> Event:
    """An event from its wire object, as an instance of its Python class."""
    if types is None:
        raise WireFormatError("an event arrived where none was expected", where="$event")
    cls = types.resolve(str(data.get("type")))
    fields = from_json(data.get("fields") or {}, types, objects)
    extra: dict[str, Any] = {}
    if data.get("id") is not None:
        extra["id"] = str(data["id"])
    if data.get("source_timestamp") is not None:
        extra["source_timestamp"] = int(data["source_timestamp"])
    try:
        return cls(**fields, **extra)
    except TypeError as e:
        wanted = [n for n in cls._field_names if n not in ("id", "source_timestamp")]
        raise WireFormatError(
            f"event {cls.type_name()} arrived with fields {sorted(fields)}, and the Python "
            f"class takes {wanted} ({e})",
            where="fields",
        ) from None


def decode_event(text: str, types: EventTypes) -> Event:
    """An event from its wire text."""
    data = decode_json_object(text)
    return event_from_json(data, types)


def decode_json_object(text: str) -> dict[str, Any]:
    """The plain JSON object of wire text (an event, an error)."""
    data = _parse(text)
    if type(data) is not dict:
        raise WireFormatError(f"expected a wire object, got {text[:200]!r}", where="")
    return data


def ok(value: Any) -> str:
    """The answer carrying ``value``."""
    return "=" + encode(value)


def failure(error_type: str, message: str, **extra: Any) -> str:
    """The answer carrying an error."""
    return "!" + _dumps({"type": error_type, "message": message, **extra})


def parse_answer(answer: str) -> tuple[bool, Any]:
    """``(True, wire text of the value)`` or ``(False, the error object)`` of an answer of the
    bridge (``""`` is a success without a value)."""
    if answer == "":
        return True, "null"
    if answer.startswith("="):
        return True, answer[1:]
    if answer.startswith("!"):
        return False, decode_json_object(answer[1:])
    raise WireFormatError(f"not a bridge answer: {answer[:200]!r}", where="")
