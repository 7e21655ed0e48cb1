"""The store journal: a call journal that commits every record to the action-state store.

Keyed state rolls back to the last checkpoint, so a call that finished after it would run again
after a failure. The store journal commits every call outcome (and, for calls with a reconciler, a
PENDING record before the call starts) to the store before the action sees it, from the thread
that ran the call, and keeps the keyed-state journal too. On replay it merges the two: a record
only the store has answers the call, and a finished record beats a PENDING one.

Records read back from the store crossed a trust boundary: they are never unpickled unless
``action-state.allow-pickle`` is set, and a record that does not decode fails the job with
:class:`~flink_agents_ctx.ActionStateStoreError` saying what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flink_agents_ctx.action_state.port import ActionStateStore
from flink_agents_ctx.action_state.retries import with_retries
from flink_agents_ctx.durable.codec import CODECS
from flink_agents_ctx.durable.execution_ref import ExecutionRef
from flink_agents_ctx.durable.journal import KeyedJournal, KeyedJournals
from flink_agents_ctx.durable.records import CallRecord, CallStatus
from flink_agents_ctx.errors import ActionStateStoreError


class StoreJournal:
    """:class:`~flink_agents_ctx.durable.journal.CallJournal` over the keyed journal and the
    store (see the module docstring)."""

    def __init__(
        self,
        keyed: KeyedJournal,
        store: ActionStateStore,
        ref: ExecutionRef,
        attempts: int,
        allow_pickle: bool,
    ) -> None:
        self._keyed = keyed
        self._store = store
        self._ref = ref
        self._attempts = attempts
        self._allow_pickle = allow_pickle
        self._from_store: set[str] = set()

    def _retried(self, what: str, op: Any) -> Any:
        store = self._store
        return with_retries(store.address, what, self._attempts, op, store.secrets)

    def load(self) -> dict[str, CallRecord]:
        records = self._keyed.load()
        stored: dict[str, CallRecord] = self._retried(
            "read call records", lambda: self._store.load(self._ref)
        )
        for position, record in stored.items():
            mine = records.get(position)
            pending = mine is not None and mine.status is CallStatus.PENDING
            if mine is None or (pending and record.status is not CallStatus.PENDING):
                records[position] = record
                self._from_store.add(position)
        return records

    def started(self, record: CallRecord, durable: bool) -> None:
        self._keyed.started(record, durable)
        if durable:
            self.commit(record)

    def commit(self, record: CallRecord) -> None:
        self._retried(
            f"record call {record.position} of action {self._ref.action}",
            lambda: self._store.save(self._ref, record),
        )

    def write(self, record: CallRecord) -> None:
        self._from_store.discard(record.position)
        self._keyed.write(record)

    def recorded_value(self, record: CallRecord) -> Any:
        if record.position not in self._from_store:
            return self._keyed.recorded_value(record)
        if record.payload is None:
            raise self._corrupt(record, "it is a result without a payload")
        if record.codec not in CODECS:
            raise self._corrupt(
                record, f"its codec {record.codec!r} is not one this library writes"
            )
        if record.codec != "json" and not self._allow_pickle:
            raise ActionStateStoreError(
                f"call {record.position} of action '{self._ref.action}' was recorded with the "
                f"{record.codec} codec, and records read from the action-state store "
                f"{self._store.address} are not unpickled: pickle data runs code when loaded. Use "
                "the json codec for this call, or set action-state.allow-pickle: true if nobody "
                "else can write to the store",
                store=self._store.address,
            )
        try:
            return record.value()
        except Exception as e:
            raise self._corrupt(
                record, f"its payload is not valid {record.codec} data ({type(e).__name__}: {e})"
            ) from None

    def recorded_error(self, record: CallRecord) -> BaseException | None:
        if record.position not in self._from_store:
            return self._keyed.recorded_error(record)
        if record.error is None:
            raise self._corrupt(record, "it is a failure without an error")
        return record.error.rebuild(allow_pickle=self._allow_pickle)

    def _corrupt(self, record: CallRecord, what: str) -> ActionStateStoreError:
        return ActionStateStoreError(
            f"the record of call {record.position} ({record.identity}) of action "
            f"'{self._ref.action}' in the action-state store {self._store.address} is corrupt: "
            f"{what}. The job fails rather than guess the call's outcome; delete the row (the "
            "call is then made again) or restore it, and restart from the last checkpoint",
            store=self._store.address,
        )

    def flush(self) -> None:
        self._keyed.flush()

    def clear(self) -> None:
        self._keyed.clear()


class StoreJournals:
    """Opens :class:`StoreJournal`\\ s: the keyed journal of the execution plus the store."""

    def __init__(
        self, keyed: KeyedJournals, store: ActionStateStore, attempts: int, allow_pickle: bool
    ) -> None:
        self._keyed = keyed
        self.store = store
        self._attempts = attempts
        self._allow_pickle = allow_pickle

    def open(
        self, action: str, identify: Callable[[], ExecutionRef], restored: bool
    ) -> StoreJournal:
        keyed = self._keyed.open(action, identify, restored)
        # The store finds records by the execution's identity: it needs one now.
        return StoreJournal(keyed, self.store, identify(), self._attempts, self._allow_pickle)
