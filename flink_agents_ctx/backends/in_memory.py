"""In-memory implementations of the storage seams, for unit tests and the test harness.

They behave like Flink's keyed state where the operator can tell: values are stored as copies
(pickled, so a value that would not survive a checkpoint fails here too), state is scoped to a
current key set by the driver, and time-to-live follows Flink's update-type and visibility rules
on an injectable clock.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any

from flink_agents_ctx.backends.protocols import StateTtl

_NO_KEY = object()


class InMemoryKeyedState:
    """All keyed states of one operator instance, in dicts: ``{state name: {key: contents}}``."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock or time.monotonic
        self._maps: dict[str, dict[Any, dict[str, tuple[bytes, float]]]] = {}
        self._values: dict[str, dict[Any, bytes]] = {}
        self._ttl: dict[str, StateTtl | None] = {}
        self.current_key: Hashable = _NO_KEY

    def set_current_key(self, key: Hashable) -> None:
        """Scope every state to ``key`` (what Flink does before ``process_element``)."""
        self.current_key = key

    def now_ms(self) -> float:
        return self._clock() * 1000.0

    def key_switch(self) -> InMemoryKeyedState:
        return self

    def current(self) -> object:
        return self.current_key

    def switch_to(self, handle: object) -> None:
        self.current_key = handle

    def map_state(self, name: str, ttl: StateTtl | None = None) -> InMemoryMapStore:
        self._maps.setdefault(name, {})
        self._ttl[name] = ttl
        return InMemoryMapStore(self, name, ttl)

    def value_state(self, name: str) -> InMemoryValueStore:
        self._values.setdefault(name, {})
        return InMemoryValueStore(self, name)

    def keys(self) -> list[Any]:
        """Every key that holds any state."""
        found: dict[Any, None] = {}
        for maps in self._maps.values():
            found.update((key, None) for key, contents in maps.items() if contents)
        for values in self._values.values():
            found.update((key, None) for key in values)
        return list(found)

    def snapshot(self) -> bytes:
        """Every state of every key, as bytes (what a checkpoint would hold)."""
        return pickle.dumps((self._maps, self._values), protocol=5)

    def restore(self, data: bytes) -> None:
        """Replace every state with a snapshot's contents."""
        self._maps, self._values = pickle.loads(data)

    def _map(self, name: str) -> dict[str, tuple[bytes, float]]:
        if self.current_key is _NO_KEY:
            raise RuntimeError("keyed state accessed with no current key set")
        return self._maps[name].setdefault(self.current_key, {})


class InMemoryMapStore:
    """``MapStore`` over :class:`InMemoryKeyedState`, honouring TTL like Flink does."""

    def __init__(self, owner: InMemoryKeyedState, name: str, ttl: StateTtl | None) -> None:
        self._owner = owner
        self._name = name
        self._ttl = ttl

    def _live(self, key: str) -> tuple[bytes, float] | None:
        entries = self._owner._map(self._name)
        entry = entries.get(key)
        if entry is None:
            return None
        if self._ttl is not None and self._owner.now_ms() >= entry[1]:
            # Flink clears an expired entry when it is read; the visibility decides whether
            # that read still sees it.
            del entries[key]
            if self._ttl.visibility == "NeverReturnExpired":
                return None
        elif self._ttl is not None and self._ttl.update_type == "OnReadAndWrite":
            entries[key] = (entry[0], self._expiry())
        return entry

    def _expiry(self) -> float:
        if self._ttl is None:
            return float("inf")
        return self._owner.now_ms() + self._ttl.ttl_ms

    def get(self, key: str) -> Any:
        entry = self._live(key)
        return None if entry is None else pickle.loads(entry[0])

    def put(self, key: str, value: Any) -> None:
        self._owner._map(self._name)[key] = (pickle.dumps(value, protocol=5), self._expiry())

    def put_all(self, items: Mapping[str, Any]) -> None:
        # Flink's MapState.put_all takes a dict (it calls .items()); so does the fake.
        for key, value in items.items():
            self.put(key, value)

    def remove(self, key: str) -> None:
        self._owner._map(self._name).pop(key, None)

    def contains(self, key: str) -> bool:
        return self._live(key) is not None

    def items(self) -> Iterator[tuple[str, Any]]:
        for key in list(self._owner._map(self._name)):
            entry = self._live(key)
            if entry is not None:
                yield key, pickle.loads(entry[0])

    def is_empty(self) -> bool:
        return next(self.items(), None) is None

    def clear(self) -> None:
        self._owner._map(self._name).clear()


class InMemoryValueStore:
    """``ValueStore`` over :class:`InMemoryKeyedState`."""

    def __init__(self, owner: InMemoryKeyedState, name: str) -> None:
        self._owner = owner
        self._name = name

    def _slot(self) -> dict[Any, bytes]:
        if self._owner.current_key is _NO_KEY:
            raise RuntimeError("keyed state accessed with no current key set")
        return self._owner._values[self._name]

    def value(self) -> Any:
        data = self._slot().get(self._owner.current_key)
        return None if data is None else pickle.loads(data)

    def update(self, value: Any) -> None:
        if value is None:
            self.clear()
        else:
            self._slot()[self._owner.current_key] = pickle.dumps(value, protocol=5)

    def clear(self) -> None:
        self._slot().pop(self._owner.current_key, None)


class InMemoryCounter:
    def __init__(self) -> None:
        self.count = 0

    def inc(self, n: int = 1) -> None:
        self.count += n

    def dec(self, n: int = 1) -> None:
        self.count -= n

    def get_count(self) -> int:
        return self.count


class InMemoryMeter:
    def __init__(self) -> None:
        self.count = 0

    def mark_event(self, value: int = 1) -> None:
        self.count += value

    def get_count(self) -> int:
        return self.count


class InMemoryMetricBackend:
    """A metric group tree in dicts; ``read("action", "a1", "numOfActionsExecuted")`` reads back."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, ...], InMemoryMetricBackend] = {}
        self.counters: dict[str, InMemoryCounter] = {}
        self.meters: dict[str, InMemoryMeter] = {}
        self.gauges: dict[str, Callable[[], Any]] = {}

    def add_group(self, name: str, extra: str | None = None) -> InMemoryMetricBackend:
        path = (name,) if extra is None else (name, extra)
        return self.groups.setdefault(path, InMemoryMetricBackend())

    def counter(self, name: str) -> InMemoryCounter:
        return self.counters.setdefault(name, InMemoryCounter())

    def meter(self, name: str, time_span_in_seconds: int = 60) -> InMemoryMeter:
        return self.meters.setdefault(name, InMemoryMeter())

    def gauge(self, name: str, obj: Callable[[], Any]) -> None:
        self.gauges[name] = obj

    def read(self, *path: str) -> Any:
        """The value of the metric at ``path`` (group names, key/value pairs as two parts, name).

        Counters and meters give their count, gauges their current value. Returns ``None`` when
        there is no such metric.
        """
        *groups, name = path
        node: InMemoryMetricBackend | None = self
        i = 0
        while node is not None and i < len(groups):
            pair = tuple(groups[i : i + 2])
            if len(pair) == 2 and pair in node.groups:
                node, i = node.groups[pair], i + 2
            else:
                node, i = node.groups.get((groups[i],)), i + 1
        if node is None:
            return None
        if name in node.counters:
            return node.counters[name].count
        if name in node.meters:
            return node.meters[name].count
        if name in node.gauges:
            return node.gauges[name]()
        return None
