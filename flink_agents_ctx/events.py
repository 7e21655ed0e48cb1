"""Events: what actions react to and send.

User events subclass :class:`Event` and declare fields with plain annotations; every subclass is
made a dataclass automatically (no decorator)::

    class Middle(Event):
        value: int

    Middle(value=3)        # or Middle(3)

Every event gets a unique ``id`` (random per process, then counting). Fields of events sent from
actions must have a JSON form (None, bool, int, finite float, str, bytes, lists/tuples and
str-keyed dicts of those, nested events, and :class:`~flink_agents_ctx.MemoryRef`; see
:mod:`flink_agents_ctx.values`), so that they can be stored and cross to actions written in other
languages. ``bytes`` travel as base64 in the JSON form.
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
import uuid
from collections.abc import Callable
from typing import Any, ClassVar, dataclass_transform

from flink_agents_ctx.errors import EventSerializationError
from flink_agents_ctx.values import EVENT_FIELD, find_problem

# Unique without a system call per event: a random per-process prefix and a counter, formatted
# in C (a bound ``__next__``: no Python frame per event).
_ID_PREFIX = uuid.uuid4().hex[:16]
_new_event_id: Callable[[], str] = map(f"{_ID_PREFIX}-{{:x}}".format, itertools.count()).__next__


@dataclass_transform(field_specifiers=(dataclasses.field,))
@dataclasses.dataclass(eq=True)
class Event:
    """Base class of all events.

    Attributes:
        id: unique id of this event (a random UUID unless given).
        source_timestamp: the timestamp of the input record that caused this event, stamped by the
            operator when the event leaves an action (``None`` when the input had none).
    """

    id: str = dataclasses.field(default_factory=_new_event_id, kw_only=True)
    source_timestamp: int | None = dataclasses.field(default=None, kw_only=True, compare=False)

    _field_names: ClassVar[tuple[str, ...]] = ("id", "source_timestamp")
    # Lets the value policies recognise nested events without importing this module.
    _is_agent_event: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Applying dataclass here makes plain annotations fields. The base fields are keyword-only,
        # so subclasses may declare fields without defaults in any order.
        dataclasses.dataclass(eq=True)(cls)
        cls._field_names = tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def type_name(cls) -> str:
        """The event type as ``module.QualName``."""
        return f"{cls.__module__}.{cls.__qualname__}"

    def user_fields(self) -> dict[str, Any]:
        """Field values except ``id`` and ``source_timestamp``."""
        return {
            name: getattr(self, name)
            for name in self._field_names
            if name not in ("id", "source_timestamp")
        }


class InputEvent(Event):
    """Wraps one input record of the operator. Its ``input`` is the record as it came from Flink."""

    input: Any


class OutputEvent(Event):
    """Sent by an action to emit ``output`` downstream of the agent operator."""

    output: Any


class ActionFailedEvent(Event):
    """Sent by the operator when an action declared with ``on_failure="emit"`` raises.

    The run goes on with this event instead of failing the job; handle it in an action (for
    example to emit an error record with an :class:`OutputEvent`). Nothing the failed action did was
    committed.
    """

    action: str
    event_type: str
    event_id: str
    error_type: str
    message: str


_PLAIN = (str, int, bool, type(None))
_PLAIN_TYPES = frozenset(_PLAIN)


# Each event class's field values in one C call (every event has at least two fields, so the
# getter returns a tuple).
_field_values: dict[type, Callable[[Event], tuple[Any, ...]]] = {}


def check_json_serialisable(event: Event) -> None:
    """Raise :class:`EventSerializationError` naming the first field the event-field policy of
    :mod:`flink_agents_ctx.values` does not allow."""
    values = _field_values.get(type(event))
    if values is not None and _PLAIN_TYPES.issuperset(map(type, values(event))):
        return  # every field a str, int, bool or None: the common case, checked in C
    if not isinstance(event, Event):
        raise EventSerializationError(
            f"send_event takes an Event, got {type(event).__name__}; wrap the value in an event "
            "class (class MyEvent(Event): value: ...) or OutputEvent(output=...)",
            event_type=type(event).__name__,
            event_id="",
            field="",
        )
    if values is None:
        values = _field_values[type(event)] = operator.attrgetter(*event._field_names)
        if _PLAIN_TYPES.issuperset(map(type, values(event))):
            return
    for name in event._field_names:
        value = getattr(event, name)
        if type(value) in _PLAIN:
            continue
        problem = find_problem(value, EVENT_FIELD)
        if problem is not None:
            where = f"{name}{problem.where}"
            raise EventSerializationError(
                f"event {event.type_name()} (id {event.id}) field '{where}' {problem.reason}; "
                "events must have a JSON form (None, bool, int, finite float, str, bytes, "
                "lists, str-keyed dicts, nested events, MemoryRef): convert the value (e.g. "
                "str(), list(), a dict) or store it in memory and send the MemoryRef",
                event_type=event.type_name(),
                event_id=event.id,
                field=where,
            )
