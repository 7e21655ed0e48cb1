"""Keyed-state backend over PyFlink state (the only storage module that imports PyFlink).

Values are stored with Flink's pickled-bytes serializer. Only checkpoint-stable values reach it
(memory validates them first), so the stored bytes do not depend on user classes.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping
from typing import Any

from pyflink.common import Time, Types
from pyflink.datastream import RuntimeContext
from pyflink.datastream.state import MapStateDescriptor, StateTtlConfig, ValueStateDescriptor

from flink_agents_ctx.backends.protocols import KeySwitch, MapStore, StateTtl, ValueStore


class _Unread:
    """Stands in for the RocksDB periodic compaction time, which PyFlink 2.3 never reads."""


def _ttl_config(ttl: StateTtl) -> StateTtlConfig:
    """Flink's default TTL cleanup (incremental on the heap backend, the compaction filter on
    RocksDB), plus full-snapshot cleanup, spelled out.

    PyFlink 2.3 builds the default RocksDB strategy with ``Duration.of_days(30)``, which starts a
    py4j gateway -- a whole new JVM, inside the TaskManager in thread mode -- when the state is
    created. Disabling the defaults and naming the same strategies avoids that; only the number of
    entries between time queries is passed on to Java (which keeps its own 30-day default).
    """
    strategies = StateTtlConfig.CleanupStrategies
    builder = StateTtlConfig.new_builder(Time.milliseconds(ttl.ttl_ms))
    if ttl.update_type == "OnReadAndWrite":
        builder = builder.update_ttl_on_read_and_write()
    else:
        builder = builder.update_ttl_on_create_and_write()
    if ttl.visibility == "ReturnExpiredIfNotCleanedUp":
        builder = builder.return_expired_if_not_cleaned_up()
    else:
        builder = builder.never_return_expired()
    builder = (
        builder.disable_cleanup_in_background()
        .cleanup_full_snapshot()
        .cleanup_incrementally(5, False)
    )
    builder._strategies[strategies.Strategies.ROCKSDB_COMPACTION_FILTER] = (
        strategies.RocksdbCompactFilterCleanupStrategy(1000, _Unread())
    )
    return builder.build()


class FlinkKeyedState:
    """Creates PyFlink keyed states from the function's runtime context."""

    def __init__(self, runtime_context: RuntimeContext) -> None:
        self._rc = runtime_context

    def map_state(self, name: str, ttl: StateTtl | None = None) -> MapStore:
        descriptor = MapStateDescriptor(name, Types.STRING(), Types.PICKLED_BYTE_ARRAY())
        if ttl is not None:
            descriptor.enable_time_to_live(_ttl_config(ttl))
        state: Any = self._rc.get_map_state(descriptor)
        if not type(state).__module__.startswith(_THREAD_MODE_STATE):
            return _PairsPutAll(state)
        return _DirectMapState.over(state)  # type: ignore[no-any-return]

    def value_state(self, name: str, ttl: StateTtl | None = None) -> ValueStore:
        descriptor = ValueStateDescriptor(name, Types.PICKLED_BYTE_ARRAY())
        if ttl is not None:
            descriptor.enable_time_to_live(_ttl_config(ttl))
        state: Any = self._rc.get_state(descriptor)
        if not type(state).__module__.startswith(_THREAD_MODE_STATE):
            return state  # type: ignore[no-any-return]
        return _DirectValueState.over(state)  # type: ignore[no-any-return]

    def key_switch(self) -> KeySwitch | None:
        # Thread mode: the runtime context holds the operator's Java keyed state backend. Its
        # current key also scopes the timer service. Process mode has no such handle (state goes
        # through the Beam runner keyed by the element), so there is no switching there.
        backend = getattr(self._rc, "get_keyed_state_backend", lambda: None)()
        java_backend = getattr(backend, "_keyed_state_backend", None)
        return None if java_backend is None else _JavaKeySwitch(java_backend)


_THREAD_MODE_STATE = "pyflink.fn_execution.datastream.embedded"


class _PairsPutAll:
    """Process-mode map state with a ``put_all`` that takes a dict like thread mode's does.

    PyFlink 2.3's process-mode ``put_all`` iterates its argument as ``(key, value)`` pairs, while
    thread mode's calls ``.items()`` on it; handing either the other's shape fails."""

    __slots__ = ("_state",)

    def __init__(self, state: Any) -> None:
        self._state = state

    def put_all(self, items: Mapping[str, Any]) -> None:
        self._state.put_all(list(items.items()))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._state, name)


class _OnJavaState:
    """PyFlink thread-mode state called on the Java state it wraps (``_j``); what a subclass does
    not define goes to PyFlink's wrapper."""

    __slots__ = ("_j", "_wrapper")

    def __init__(self, wrapper: Any) -> None:
        self._wrapper = wrapper
        self._j = wrapper._state

    def clear(self) -> None:
        self._j.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapper, name)


class _DirectMapState(_OnJavaState):
    """Thread-mode map state with string keys and pickled values, called on the Java state itself.

    PyFlink's wrapper converts every key and value through two layers of converter objects (an
    identity for the string key, ``pickle`` for the value); here the same bytes are made with one
    ``pickle.dumps`` per value, which takes a third of the Python calls off an action's memory
    flush. What reaches the state backend is unchanged, so checkpoints stay compatible."""

    __slots__ = ()

    @classmethod
    def over(cls, state: Any) -> Any:
        """Wrap PyFlink's map state when its converters are the ones this class stands in for;
        otherwise keep PyFlink's."""
        keys = type(getattr(state, "_k_converter", None)).__name__
        values = type(getattr(state, "_v_converter", None)).__name__
        if keys == "IdentityDataConverter" and values == "PickleDataConverter":
            return cls(state)
        return state

    def get(self, key: str) -> Any:
        raw = self._j.get(key)
        return None if raw is None else pickle.loads(raw)

    def put(self, key: str, value: Any) -> None:
        self._j.put(key, pickle.dumps(value))

    def put_all(self, items: Mapping[str, Any]) -> None:
        dumps = pickle.dumps
        self._j.putAll({key: dumps(value) for key, value in items.items()})

    def remove(self, key: str) -> None:
        self._j.remove(key)

    def items(self) -> Iterator[tuple[str, Any]]:
        return self._wrapper.items()  # type: ignore[no-any-return]


class _DirectValueState(_OnJavaState):
    """Thread-mode value state with pickled values, called on the Java state itself (what
    :class:`_DirectMapState` does for map state: one ``pickle.dumps`` per update instead of
    PyFlink's converter object; the stored bytes are the same)."""

    __slots__ = ()

    @classmethod
    def over(cls, state: Any) -> Any:
        """Wrap PyFlink's value state when its converter is the pickling one; otherwise keep
        PyFlink's."""
        if type(getattr(state, "_value_converter", None)).__name__ == "PickleDataConverter":
            return cls(state)
        return state

    def value(self) -> Any:
        raw = self._j.value()
        return None if raw is None else pickle.loads(raw)

    def update(self, value: Any) -> None:
        if value is None:
            self._j.update(None)
        else:
            self._j.update(pickle.dumps(value))


class _JavaKeySwitch:
    """Switches keys on the Java keyed state backend. Handles are the Java key objects as pemja
    hands them over (opaque), so the key's type and serializer never go through Python."""

    __slots__ = ("_backend",)

    def __init__(self, java_backend: Any) -> None:
        self._backend = java_backend

    def current(self) -> object:
        return self._backend.getCurrentKey()

    def switch_to(self, handle: object) -> None:
        self._backend.setCurrentKey(handle)
