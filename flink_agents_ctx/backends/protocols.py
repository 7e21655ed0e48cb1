"""The keyed-state and metrics seams the operator core runs on."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class MapStore(Protocol):
    """A keyed map state, scoped to the key the operator is processing (Flink ``MapState``)."""

    def get(self, key: str) -> Any: ...
    def put(self, key: str, value: Any) -> None: ...
    def put_all(self, items: Mapping[str, Any]) -> None: ...
    def remove(self, key: str) -> None: ...
    def items(self) -> Iterable[tuple[str, Any]]: ...
    def clear(self) -> None: ...


class ValueStore(Protocol):
    """A keyed value state (Flink ``ValueState``)."""

    def value(self) -> Any: ...
    def update(self, value: Any) -> None: ...
    def clear(self) -> None: ...


@dataclass(frozen=True)
class StateTtl:
    """Time-to-live of a state's entries, with Flink's update-type and visibility names.

    Expired entries are also left out of full snapshots, so checkpoints stay as small as the live
    state."""

    ttl_ms: int
    update_type: str = "OnCreateAndWrite"
    visibility: str = "NeverReturnExpired"


class KeySwitch(Protocol):
    """Moves the current key (of every state and of the timers) to another key of this operator
    instance, inside one callback; the callback must switch back before it returns."""

    def current(self) -> object:
        """An opaque handle of the current key, valid for :meth:`switch_to` later on."""
        ...

    def switch_to(self, handle: object) -> None: ...


class KeyedStateBackend(Protocol):
    """Creates keyed states; each is scoped to the current key by the runtime."""

    def map_state(self, name: str, ttl: StateTtl | None = None) -> MapStore: ...
    def value_state(self, name: str, ttl: StateTtl | None = None) -> ValueStore: ...

    def key_switch(self) -> KeySwitch | None:
        """How to reach other keys from a callback, or ``None`` where the runtime cannot."""
        ...


class Timers(Protocol):
    """Timers of the current key (Flink's ``TimerService`` in ``process_element``/``on_timer``)."""

    def now_ms(self) -> int:
        """Current processing time in milliseconds."""
        ...

    def wake_at(self, time_ms: int) -> None:
        """Call the operator back for the current key at processing time ``time_ms``."""
        ...

    def at_end_of_input(self) -> None:
        """Call the operator back for the current key when a bounded input has ended."""
        ...

    def cancel_end_of_input(self) -> None:
        """Drop the current key's end-of-input callback (nothing of the key is in flight)."""
        ...


class Counter(Protocol):
    def inc(self, n: int = 1) -> None: ...
    def get_count(self) -> int: ...


class Meter(Protocol):
    def mark_event(self, value: int = 1) -> None: ...
    def get_count(self) -> int: ...


class MetricBackend(Protocol):
    """The shape of a PyFlink ``MetricGroup`` (which satisfies it as is)."""

    def add_group(self, name: str, extra: str | None = None) -> MetricBackend: ...
    def counter(self, name: str) -> Counter: ...
    def meter(self, name: str, time_span_in_seconds: int = 60) -> Meter: ...
    def gauge(self, name: str, obj: Callable[[], Any]) -> None: ...
