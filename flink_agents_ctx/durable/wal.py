"""The write-ahead action-state store: call records committed outside Flink before an action goes on.

Keyed state rolls back to the last checkpoint, so a call that finished after it would run again
after a failure. With a store configured, every call outcome (and, for calls with a reconciler, a
PENDING record before the call starts) is committed to the store before the action sees it, from the
thread that ran the call. On replay the records of an action execution are looked up by
:class:`ExecutionId` -- job identity, key, the key's input sequence number, action and step -- so a
call that finished before the failure is answered from the store instead of being made again.

This module holds the port (:class:`ActionStateStore`), an in-memory fake, and the journal that
writes through to a store. SQL adapters live in :mod:`flink_agents_ctx.stores`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from flink_agents_ctx.config import scrub
from flink_agents_ctx.durable.codec import JsonCodec
from flink_agents_ctx.durable.identity import canonical_bytes
from flink_agents_ctx.durable.journal import CallJournal
from flink_agents_ctx.durable.records import CallRecord, CallStatus
from flink_agents_ctx.errors import ActionStateStoreError, ConfigError, NonCanonicalArgumentError

_log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ExecutionId:
    """One action execution: ``action`` running as step ``step`` of input ``seq`` of ``key``.

    ``input_digest`` identifies the input itself: after a restore, a key's inputs from several
    upstream subtasks may arrive in another order, and the records of another input that got the
    same sequence number must not answer this one's calls."""

    job_id: str
    key_digest: str
    key_text: str
    seq: int
    input_digest: str
    action: str
    step: int


def input_digest(value: object) -> str:
    """A process-independent digest of an input record (of its repr when it has no canonical
    encoding: such inputs are then matched only within one process's lifetime)."""
    try:
        canonical = canonical_bytes(value)
    except (NonCanonicalArgumentError, TypeError, ValueError):
        canonical = b"repr:" + repr(value).encode()
    return hashlib.sha256(canonical).hexdigest()[:32]


def key_columns(key: Hashable) -> tuple[str, str]:
    """``(digest, text)`` of a Flink key: a process-independent SHA-256 of its canonical encoding,
    and the key as tagged JSON for people reading the store. Keys are never joined into strings
    with separators, so no two keys can collide by their rendering."""
    try:
        canonical = canonical_bytes(key)
        text = JsonCodec().encode(key).decode()
    except (NonCanonicalArgumentError, TypeError, ValueError):
        # Flink keys hash and compare by value, so their repr is stable for one key type.
        canonical = b"repr:" + repr(key).encode()
        text = json.dumps({"repr": repr(key)})
    return hashlib.sha256(canonical).hexdigest(), text


class ActionStateStore(Protocol):
    """Durable call records by action execution. Implementations are thread-safe: records are
    written from worker threads as calls finish."""

    @property
    def address(self) -> str:
        """Where the store is, without any password (for logs and errors)."""
        ...

    @property
    def secrets(self) -> list[str]:
        """The password in the store's address (every form), to scrub from driver messages."""
        ...

    def load(self, execution: ExecutionId) -> dict[int, CallRecord]:
        """The records of ``execution`` by call index (empty when it has none)."""
        ...

    def save(self, execution: ExecutionId, record: CallRecord) -> None:
        """Commit ``record`` (replacing one of the same index) before returning."""
        ...

    def delete_from(self, execution: ExecutionId, index: int) -> None:
        """Delete the records of ``execution`` from call ``index`` on (a lenient replay found
        the action's calls changed there; the old ones must not answer a later replay)."""
        ...

    def prune(self, older_than: float) -> int:
        """Delete records written before ``older_than`` (Unix time); return how many."""
        ...

    def count(self, job_id: str | None = None) -> int:
        """How many records the store holds (of ``job_id`` when given)."""
        ...

    def close(self) -> None: ...


class InMemoryActionStateStore:
    """:class:`ActionStateStore` in a dict, for tests (shared by name within a process)."""

    _shared: dict[str, dict[ExecutionId, dict[int, tuple[CallRecord, float]]]] = {}
    _lock = threading.Lock()

    def __init__(self, name: str = "default", clock: Callable[[], float] = time.time) -> None:
        self._name = name
        self._clock = clock
        with self._lock:
            self._rows = self._shared.setdefault(name, {})
        # A test switch: this many upcoming saves raise, as a flaky or unreachable store would.
        self.failing_saves = 0

    @property
    def address(self) -> str:
        return f"memory://{self._name}"

    secrets: list[str] = []

    def load(self, execution: ExecutionId) -> dict[int, CallRecord]:
        with self._lock:
            return {i: rec for i, (rec, _) in self._rows.get(execution, {}).items()}

    def save(self, execution: ExecutionId, record: CallRecord) -> None:
        if self.failing_saves > 0:
            self.failing_saves -= 1
            raise ConnectionError(f"{self.address} is unavailable")
        with self._lock:
            self._rows.setdefault(execution, {})[record.index] = (record, self._clock())

    def delete_from(self, execution: ExecutionId, index: int) -> None:
        with self._lock:
            records = self._rows.get(execution, {})
            for i in [i for i in records if i >= index]:
                del records[i]

    def prune(self, older_than: float) -> int:
        removed = 0
        with self._lock:
            for execution in list(self._rows):
                records = self._rows[execution]
                for index in [i for i, (_, at) in records.items() if at < older_than]:
                    del records[index]
                    removed += 1
                if not records:
                    del self._rows[execution]
        return removed

    def count(self, job_id: str | None = None) -> int:
        with self._lock:
            return sum(
                len(records)
                for execution, records in self._rows.items()
                if job_id is None or execution.job_id == job_id
            )

    def close(self) -> None:
        pass

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls._shared.clear()


def with_retries(
    address: str, what: str, attempts: int, op: Callable[[], T], secrets: list[str] | None = None
) -> T:
    """Run ``op``, retrying transient failures with backoff from 50 ms; after ``attempts`` raise
    :class:`ActionStateStoreError` (the job fails; durability is never switched off silently)."""
    delay = 0.05
    for attempt in range(1, attempts + 1):
        try:
            return op()
        except (ActionStateStoreError, ConfigError):
            raise
        except Exception as e:
            if attempt == attempts:
                detail = scrub(str(e), secrets or [])
                raise ActionStateStoreError(
                    f"could not {what} in the action-state store {address} after {attempts} "
                    f"attempts: {type(e).__name__}: {detail}. The job fails so that no call runs "
                    "without its record; check that the store is reachable and writable, then "
                    "restart from the last checkpoint",
                    store=address,
                ) from None
            _log.warning(
                "action-state store %s: %s failed (%s), attempt %d of %d; retrying in %.0f ms",
                address,
                what,
                type(e).__name__,
                attempt,
                attempts,
                delay * 1000,
            )
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")  # pragma: no cover


class WriteAheadJournal:
    """A :class:`CallJournal` that also commits every record to an :class:`ActionStateStore`.

    ``load`` merges the keyed-state journal with the store's records of the same execution (a
    finished record beats a PENDING one), so a restore finds calls that finished after the
    checkpoint. Records the store gave back are remembered as untrusted: see
    :attr:`from_store`.
    """

    def __init__(
        self,
        keyed: CallJournal,
        store: ActionStateStore,
        execution: ExecutionId,
        attempts: int,
    ) -> None:
        self._keyed = keyed
        self._store = store
        self._execution = execution
        self._attempts = attempts
        self.from_store: set[int] = set()

    @property
    def address(self) -> str:
        return self._store.address

    def load(self) -> dict[int, CallRecord]:
        records = self._keyed.load()
        store = self._store
        stored = with_retries(
            store.address,
            "read call records",
            self._attempts,
            lambda: store.load(self._execution),
            store.secrets,
        )
        for index, record in stored.items():
            mine = records.get(index)
            pending = mine is not None and mine.status is CallStatus.PENDING
            if mine is None or (pending and record.status is not CallStatus.PENDING):
                records[index] = record
                self.from_store.add(index)
        return records

    def commit(self, record: CallRecord) -> None:
        """Write ``record`` to the store now (any thread), retrying transient failures."""
        store = self._store
        with_retries(
            store.address,
            f"record call {record.index} of action {self._execution.action}",
            self._attempts,
            lambda: store.save(self._execution, record),
            store.secrets,
        )

    def write(self, record: CallRecord) -> None:
        self._keyed.write(record)

    def drop_from(self, index: int) -> None:
        self._keyed.drop_from(index)
        store = self._store
        with_retries(
            store.address,
            f"drop changed call records of action {self._execution.action}",
            self._attempts,
            lambda: store.delete_from(self._execution, index),
            store.secrets,
        )
        self.from_store = {i for i in self.from_store if i < index}

    def flush(self) -> None:
        self._keyed.flush()

    def clear(self) -> None:
        self._keyed.clear()


def untrusted_record_error(address: str, action: str, index: int) -> ActionStateStoreError:
    return ActionStateStoreError(
        f"call {index} of action '{action}' was recorded with the pickle codec, and records "
        f"read from the action-state store {address} are not unpickled: pickle data runs code "
        "when loaded. Use the json codec for this call, or set action-state.allow-pickle: true "
        "if nobody else can write to the store",
        store=address,
    )
