"""The journal of the action execution in progress for the current key, in keyed state.

Each key runs one action at a time, so a key's journal map holds the records of exactly that action
execution (by call index) and is cleared when the action finishes. Records are buffered and written
to state when the action suspends (:meth:`KeyedJournal.flush`): a Flink checkpoint can only happen
while the task thread is outside the operator, so every checkpoint still holds every call finished
before it, and an action that runs start to finish in one step never writes its journal at all.
"""

from __future__ import annotations

from typing import Protocol

from flink_agents_ctx.backends.protocols import MapStore
from flink_agents_ctx.durable.records import CallRecord

JOURNAL_STATE = "flink-agents.action-journal"


class CallJournal(Protocol):
    """Call records of the current key's action execution (a seam: keyed state, or an external
    write-ahead store)."""

    def load(self) -> dict[int, CallRecord]: ...
    def write(self, record: CallRecord) -> None: ...
    def drop_from(self, index: int) -> None: ...
    def flush(self) -> None: ...
    def clear(self) -> None: ...


class KeyedJournal:
    """:class:`CallJournal` over a keyed map state (index -> record tuple)."""

    __slots__ = ("_dirty", "_dropped", "_persisted", "_state")

    def __init__(self, state: MapStore, restored: bool) -> None:
        self._state = state
        # A fresh action execution cannot have records in state: they are cleared when it ends.
        self._persisted = restored
        self._dirty: dict[int, CallRecord] = {}
        self._dropped: set[int] = set()

    def load(self) -> dict[int, CallRecord]:
        if not self._persisted:
            return {}
        return {int(k): CallRecord.from_state(v) for k, v in self._state.items()}

    def write(self, record: CallRecord) -> None:
        self._dirty[record.index] = record
        self._dropped.discard(record.index)

    def drop_from(self, index: int) -> None:
        for i in [i for i in self._dirty if i >= index]:
            del self._dirty[i]
        if self._persisted:
            self._dropped.update(int(k) for k, _ in self._state.items() if int(k) >= index)

    def flush(self) -> None:
        for i in self._dropped:
            self._state.remove(str(i))
        self._dropped.clear()
        if self._dirty:
            self._state.put_all({str(i): r.to_state() for i, r in self._dirty.items()})
            self._dirty.clear()
            self._persisted = True

    def clear(self) -> None:
        self._dirty.clear()
        self._dropped.clear()
        if self._persisted:
            self._state.clear()
            self._persisted = False
