"""In-memory fakes of the storage ports, for unit tests and the test harness.

- :class:`InMemoryKeyedState`: keyed state as Flink's behaves where the operator can tell: values
  are stored as copies (pickled, so a value that would not survive a checkpoint fails here too),
  state is scoped to a current key set by the driver, and time-to-live follows Flink's update-type
  and visibility rules on an injectable clock (expired entries are left out of snapshots, as with
  Flink's full-snapshot cleanup).
- :class:`InMemoryMetricBackend`: a metric group tree that reads back.
- :class:`InMemoryActionStateStore`: the action-state store port in a dict, with a switch that
  makes saves fail.
"""

from __future__ import annotations

import collections
import pickle
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any

from flink_agents_ctx.backends.protocols import StateTtl
from flink_agents_ctx.durable.execution_ref import ExecutionRef
from flink_agents_ctx.durable.records import CallRecord

_NO_KEY = object()


class InMemoryKeyedState:
    """All keyed states of one operator instance, in dicts: ``{state name: {key: contents}}``."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock or time.monotonic
        self._maps: dict[str, dict[Any, dict[str, tuple[bytes, float]]]] = {}
        self._values: dict[str, dict[Any, tuple[bytes, float]]] = {}
        self._ttl: dict[str, StateTtl | None] = {}
        self.current_key: Hashable = _NO_KEY
        #: Value-state reads by state name (what a JVM call per read would cost in Flink).
        self.value_reads: collections.Counter[str] = collections.Counter()

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

    def value_state(self, name: str, ttl: StateTtl | None = None) -> InMemoryValueStore:
        self._values.setdefault(name, {})
        self._ttl[name] = ttl
        return InMemoryValueStore(self, name, ttl)

    def keys(self) -> list[Any]:
        """Every key that holds any state."""
        found: dict[Any, None] = {}
        for maps in self._maps.values():
            found.update((key, None) for key, contents in maps.items() if contents)
        for values in self._values.values():
            found.update((key, None) for key in values)
        return list(found)

    def snapshot(self) -> bytes:
        """Every live entry of every state and key, as bytes (what a checkpoint would hold)."""
        now = self.now_ms()
        maps = {
            name: {
                key: live
                for key, contents in per_key.items()
                if (live := {p: e for p, e in contents.items() if e[1] > now})
            }
            for name, per_key in self._maps.items()
        }
        values = {
            name: {key: e for key, e in per_key.items() if e[1] > now}
            for name, per_key in self._values.items()
        }
        return pickle.dumps((maps, values), protocol=5)

    def entries(self) -> int:
        """How many live entries all states of all keys hold (what a checkpoint would write)."""
        maps, values = pickle.loads(self.snapshot())
        return sum(len(c) for per_key in maps.values() for c in per_key.values()) + sum(
            len(per_key) for per_key in values.values()
        )

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

    def items(self) -> Iterator[tuple[str, Any]]:
        for key in list(self._owner._map(self._name)):
            entry = self._live(key)
            if entry is not None:
                yield key, pickle.loads(entry[0])

    def clear(self) -> None:
        self._owner._map(self._name).clear()


class InMemoryValueStore:
    """``ValueStore`` over :class:`InMemoryKeyedState`, honouring TTL like Flink does."""

    def __init__(self, owner: InMemoryKeyedState, name: str, ttl: StateTtl | None) -> None:
        self._owner = owner
        self._name = name
        self._ttl = ttl

    def _slot(self) -> dict[Any, tuple[bytes, float]]:
        if self._owner.current_key is _NO_KEY:
            raise RuntimeError("keyed state accessed with no current key set")
        return self._owner._values[self._name]

    def value(self) -> Any:
        self._owner.value_reads[self._name] += 1
        slot, key = self._slot(), self._owner.current_key
        entry = slot.get(key)
        if entry is None:
            return None
        ttl = self._ttl
        if ttl is not None and self._owner.now_ms() >= entry[1]:
            del slot[key]
            if ttl.visibility == "NeverReturnExpired":
                return None
        elif ttl is not None and ttl.update_type == "OnReadAndWrite":
            slot[key] = (entry[0], self._owner.now_ms() + ttl.ttl_ms)
        return pickle.loads(entry[0])

    def update(self, value: Any) -> None:
        if value is None:
            self.clear()
            return
        expiry = float("inf") if self._ttl is None else self._owner.now_ms() + self._ttl.ttl_ms
        self._slot()[self._owner.current_key] = (pickle.dumps(value, protocol=5), expiry)

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


class InMemoryActionStateStore:
    """:class:`~flink_agents_ctx.action_state.port.ActionStateStore` in a dict, for tests.

    Pass one instance to several harnesses (``AgentTestHarness(agent, store=store)``) to share
    records between "jobs"; set :attr:`failing_saves` to make that many upcoming saves fail as an
    unreachable store would.
    """

    def __init__(self, name: str = "memory", clock: Callable[[], float] = time.time) -> None:
        self._name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._rows: dict[tuple[Any, ...], dict[str, tuple[CallRecord, float]]] = {}
        self.failing_saves = 0
        self.closed = False

    @property
    def address(self) -> str:
        return f"memory://{self._name}"

    @property
    def secrets(self) -> list[str]:
        return []

    @staticmethod
    def _row_key(execution: ExecutionRef) -> tuple[Any, ...]:
        e = execution
        return (e.job, e.key_digest, e.seq, e.input_digest, e.action, e.step)

    def load(self, execution: ExecutionRef) -> dict[str, CallRecord]:
        with self._lock:
            rows = self._rows.get(self._row_key(execution), {})
            return {position: record for position, (record, _) in rows.items()}

    def save(self, execution: ExecutionRef, record: CallRecord) -> None:
        if self.failing_saves > 0:
            self.failing_saves -= 1
            raise ConnectionError(f"{self.address} is unavailable")
        with self._lock:
            rows = self._rows.setdefault(self._row_key(execution), {})
            rows[record.position] = (record, self._clock())

    def prune(self, older_than: float) -> int:
        removed = 0
        with self._lock:
            for row_key in list(self._rows):
                rows = self._rows[row_key]
                for position in [p for p, (_, at) in rows.items() if at < older_than]:
                    del rows[position]
                    removed += 1
                if not rows:
                    del self._rows[row_key]
        return removed

    def count(self, job_id: str | None = None) -> int:
        with self._lock:
            return sum(
                len(rows)
                for row_key, rows in self._rows.items()
                if job_id is None or row_key[0] == job_id
            )

    def close(self) -> None:
        self.closed = True
