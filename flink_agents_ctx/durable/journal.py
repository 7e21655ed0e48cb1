"""The call journal of an action execution: the port, and its keyed-state implementation.

A journal keeps the records of one action execution's durable calls, by call position. Every
implementation commits records, answers replays and reports its own failures as a
:class:`~flink_agents_ctx.errors.DurabilityError` (the job fails even if the action catches it).
The keyed-state journal here relies on Flink checkpoints for durability; the write-ahead store's
journal (:mod:`flink_agents_ctx.action_state.journal`) also commits each record to a database.

Keyed records are buffered and written to state when the action suspends (:meth:`flush`): a
checkpoint can only happen while the task thread is outside the operator, so every checkpoint still
holds every call finished before it, and an action that runs start to finish within one callback
never writes its journal at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from flink_agents_ctx.backends.protocols import MapStore
from flink_agents_ctx.durable.execution_ref import ExecutionRef
from flink_agents_ctx.durable.records import CallRecord
from flink_agents_ctx.errors import JournalDecodingError


class CallJournal(Protocol):
    """The records of one action execution's durable calls (see the module docstring).

    Methods run on the task thread, except :meth:`commit`, which may run on the worker that made
    the call. Every method may raise :class:`~flink_agents_ctx.errors.DurabilityError`.
    """

    def load(self) -> dict[str, CallRecord]:
        """The records a replay of this execution answers from, by position."""
        ...

    def started(self, record: CallRecord, durable: bool) -> None:
        """A call is about to run (``record`` is PENDING). With ``durable`` (the call has a
        reconciler) the start must survive a crash before the call runs."""
        ...

    def commit(self, record: CallRecord) -> None:
        """Make a finished call's record durable now, before the action sees the outcome (any
        thread; a no-op where checkpoints provide durability)."""
        ...

    def write(self, record: CallRecord) -> None:
        """Keep a finished call's record for the next checkpoint (task thread)."""
        ...

    def recorded_value(self, record: CallRecord) -> Any:
        """The result a SUCCEEDED record answers with."""
        ...

    def recorded_error(self, record: CallRecord) -> BaseException | None:
        """The exception a FAILED record answers with, or ``None`` when its type cannot be
        rebuilt in this process."""
        ...

    def flush(self) -> None:
        """Write buffered records to state (the action suspends; a checkpoint may follow)."""
        ...

    def clear(self) -> None:
        """The execution is over: drop its records from the job's state."""
        ...


class JournalOpener(Protocol):
    """Opens the journal of an action execution (one implementation per kind of journal)."""

    def open(
        self, action: str, identify: Callable[[], ExecutionRef], restored: bool
    ) -> CallJournal:
        """The journal of an execution of ``action``; ``identify`` gives its identity (call it
        only if the journal needs one: it may number the key's input); ``restored`` means keyed
        state may already hold its records (the execution starts again after a restore)."""
        ...


class KeyedJournal:
    """:class:`CallJournal` in a keyed map state (position -> record tuple)."""

    __slots__ = ("_action", "_dirty", "_persisted", "_state")

    def __init__(self, state: MapStore, action: str, restored: bool) -> None:
        self._state = state
        self._action = action
        # A fresh execution cannot have records in state: they are cleared when one ends.
        self._persisted = restored
        self._dirty: dict[str, CallRecord] = {}

    def load(self) -> dict[str, CallRecord]:
        if not self._persisted:
            return {}
        records = (CallRecord.from_state(v) for _, v in self._state.items())
        return {r.position: r for r in records}

    def started(self, record: CallRecord, durable: bool) -> None:
        # A checkpoint taken while the call runs keeps this: on restore its reconciler decides.
        self._dirty[record.position] = record

    def commit(self, record: CallRecord) -> None:
        pass  # keyed state is made durable by the next checkpoint

    def write(self, record: CallRecord) -> None:
        self._dirty[record.position] = record

    def recorded_value(self, record: CallRecord) -> Any:
        try:
            return record.value()
        except Exception as e:
            raise JournalDecodingError(
                f"action '{self._action}': the recorded result of call {record.position} "
                f"({record.identity}, codec {record.codec!r}) cannot be decoded: "
                f"{type(e).__name__}: {e}. If it is a dataclass, enum or pydantic model, import "
                "its module in the job before the agent runs",
                action=self._action,
                call_position=record.position,
            ) from e

    def recorded_error(self, record: CallRecord) -> BaseException | None:
        return None if record.error is None else record.error.rebuild(allow_pickle=True)

    def flush(self) -> None:
        if self._dirty:
            self._state.put_all({p: r.to_state() for p, r in self._dirty.items()})
            self._dirty.clear()
            self._persisted = True

    def clear(self) -> None:
        self._dirty.clear()
        if self._persisted:
            self._state.clear()
            self._persisted = False


class KeyedJournals:
    """Opens :class:`KeyedJournal`\\ s over the operator's journal map state."""

    def __init__(self, state: MapStore) -> None:
        self.state = state

    def open(
        self, action: str, identify: Callable[[], ExecutionRef], restored: bool
    ) -> KeyedJournal:
        return KeyedJournal(self.state, action, restored)

    def records(self) -> Mapping[str, CallRecord]:
        """The current key's journal as it is in state (for inspection)."""
        records = (CallRecord.from_state(v) for _, v in self.state.items())
        return {r.position: r for r in records}
