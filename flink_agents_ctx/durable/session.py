"""``DurableSession``: the durable calls of one action execution, recorded and replayed.

Call ``i`` of the execution is matched against journal record ``i`` by function id and argument
digest (or the explicit ``call_id``). A finished record is returned or re-raised without calling; a
started-but-unfinished record uses the call's reconciler when it has one; a mismatch follows the
configured mode. Indices are assigned when a call is *made*, in program order, so calls running
concurrently under ``asyncio.gather`` are journaled and matched in a deterministic order however
they complete.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flink_agents_ctx.durable.codec import get_codec
from flink_agents_ctx.durable.executor import CallExecutor, Completion, Outcome, run_attempts
from flink_agents_ctx.durable.identity import (
    argument_digest,
    call_arguments,
    call_keywords,
    function_id,
)
from flink_agents_ctx.durable.journal import CallJournal
from flink_agents_ctx.durable.options import NO_RETRY, CallInfo, DurableFunction
from flink_agents_ctx.durable.records import CallRecord, CallStatus, ErrorInfo
from flink_agents_ctx.durable.scope import CallScope, DurableStats
from flink_agents_ctx.durable.wal import WriteAheadJournal, untrusted_record_error
from flink_agents_ctx.errors import (
    ActionStateStoreError,
    DurableCallError,
    DurableCallTimeoutError,
    FlinkAgentsError,
    JournalMissError,
    NonDeterministicReplayError,
)
from flink_agents_ctx.mailbox import Mailbox

_log = logging.getLogger(__name__)
_tokens = itertools.count(1)
_TIMEOUT_TYPE = f"{DurableCallTimeoutError.__module__}.{DurableCallTimeoutError.__qualname__}"

LENIENT = "lenient"
STRICT = "strict"
REPLAY_ONLY = "replay-only"


@dataclass(frozen=True)
class _Call:
    index: int
    function_id: str
    digest: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    options: DurableFunction

    @property
    def identity(self) -> str:
        return f"{self.function_id}({self.digest})"


@dataclass
class _InFlight:
    call: _Call
    future: asyncio.Future[Any]
    deadline: float | None
    # Held while the worker commits the outcome and while a timeout abandons the call, so a late
    # outcome is never committed after the timeout was (see ``_committing``).
    guard: threading.Lock
    abandoned: list[bool]


class DurableSession:
    """Records and replays the durable calls of one action execution (see the module docstring)."""

    def __init__(
        self,
        *,
        journal: CallJournal,
        scope: CallScope,
        mode: str,
        executor: CallExecutor,
        mailbox: Mailbox,
        stats: DurableStats,
        trusted_journal: bool = True,
        allow_pickle_from_store: bool = False,
    ) -> None:
        self.token = next(_tokens)
        self.scope = scope
        self._journal = journal
        self._wal = journal if isinstance(journal, WriteAheadJournal) else None
        # A store failure the action may have caught: the operator fails the job with it anyway.
        self.store_error: ActionStateStoreError | None = None
        self._allow_pickle_from_store = allow_pickle_from_store
        self._records = journal.load()
        self._mode = mode
        self._executor = executor
        self._mailbox = mailbox
        self._stats = stats
        self._trusted = trusted_journal
        self._next_index = 0
        self._inflight: dict[int, _InFlight] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- making calls ------------------------------------------------------------------------

    def execute(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``fn`` on this thread (or replay it) and return its result or raise its exception."""
        self._mailbox.check("durable_execute")
        self.check_store()
        call = self._prepare(fn, args, kwargs)
        record = self._match(call)
        if record is not None and record.status is not CallStatus.PENDING:
            return self._replay(record)
        work = self._work(call, record, [False], self._deadline(call))
        self._commit_pending(call)
        if call.options.timeout_s is None:
            outcome = work()
        else:
            finished = self._executor.run_blocking(work, call.options.timeout_s)
            outcome = finished if finished is not None else self._timeout_outcome(call)
        self._record(call, outcome)
        return self._deliver(outcome)

    def execute_async(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> asyncio.Future[Any]:
        """Start ``fn`` on a worker (or replay it); the future completes on the task thread."""
        self._mailbox.check("durable_execute_async")
        self.check_store()
        if self.loop is None:
            raise FlinkAgentsError(
                f"durable_execute_async was called from the synchronous action "
                f"'{self.scope.action}'; declare the action with 'async def' and await it, or "
                "use ctx.durable_execute(fn, ...)"
            )
        call = self._prepare(fn, args, kwargs)
        record = self._match(call)
        future = self.loop.create_future()
        if record is not None and record.status is not CallStatus.PENDING:
            try:
                future.set_result(self._replay(record))
            except Exception as e:
                future.set_exception(e)
            return future
        abandoned = [False]
        guard = threading.Lock()
        deadline = self._deadline(call)
        work = self._work(call, record, abandoned, deadline)
        self._commit_pending(call)
        if self._wal is not None:
            work = self._committing(self._wal, call, work, abandoned, guard)
        flight = _InFlight(call, future, deadline, guard, abandoned)
        self._inflight[call.index] = flight
        # A checkpoint taken while the call runs keeps this: on restore the reconciler decides.
        self._journal.write(
            CallRecord(
                call.index, call.function_id, call.digest, CallStatus.PENDING, call.options.codec
            )
        )
        self._executor.submit(self.scope.key, self.token, call.index, work)
        return future

    def _commit_pending(self, call: _Call) -> None:
        """With a store and a reconciler: record that the call started, so a restore after a
        crash asks the reconciler instead of calling again."""
        if self._wal is not None and call.options.reconciler is not None:
            self._commit(
                self._wal,
                CallRecord(
                    call.index,
                    call.function_id,
                    call.digest,
                    CallStatus.PENDING,
                    call.options.codec,
                ),
            )

    def check_store(self) -> None:
        """Raise the store failure this execution already met (an action that caught it must
        not make further calls without records)."""
        if self.store_error is not None:
            raise self.store_error

    def _commit(self, wal: WriteAheadJournal, record: CallRecord) -> None:
        try:
            wal.commit(record)
        except ActionStateStoreError as e:
            self.store_error = e
            raise

    def _committing(
        self,
        wal: WriteAheadJournal,
        call: _Call,
        work: Callable[[], Outcome],
        abandoned: list[bool],
        guard: threading.Lock,
    ) -> Callable[[], Outcome]:
        """``work`` followed, on the same worker, by committing its record to the store: the
        record is durable even if a checkpoint or savepoint is taken before the task thread sees
        the outcome. An outcome that arrives after the call timed out is not committed: the
        action saw the timeout, and that is what the store keeps."""

        def run() -> Outcome:
            outcome = work()
            if not outcome.journal:
                return outcome
            try:
                record = self._make_record(call, outcome)
            except Exception:
                return outcome  # the task thread reports the encoding error to the action
            with guard:
                if abandoned[0]:
                    return outcome
                try:
                    wal.commit(record)
                except ActionStateStoreError as e:
                    return Outcome(False, error=e, journal=False, fatal=True)
            return dataclasses.replace(outcome, record=record)

        return run

    def _prepare(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> _Call:
        options = fn if isinstance(fn, DurableFunction) else DurableFunction(fn)
        index = self._next_index
        self._next_index += 1
        if options.call_id is not None:
            fid, digest = f"id:{options.call_id}", "-"
        else:
            target = options.fn
            fid = function_id(target)
            digest = argument_digest(call_arguments(target, args), call_keywords(target, kwargs))
        return _Call(index, fid, digest, options.fn, args, kwargs, options)

    def _match(self, call: _Call) -> CallRecord | None:
        record = self._records.get(call.index)
        if record is None:
            return None
        if record.function_id == call.function_id and record.digest == call.digest:
            return record
        if self._mode != LENIENT:
            raise NonDeterministicReplayError(
                f"action '{self.scope.action}' made call {call.index} to {call.identity}, but the "
                f"journal recorded {record.identity} at that position; the action is not "
                "deterministic between runs (branching on time, randomness or unrecorded reads?). "
                "Make the calls depend only on the event, memory and earlier call results, or set "
                "durable-execution.mismatch-mode: lenient to call again",
                action=self.scope.action,
                call_index=call.index,
                expected=record.identity,
                actual=call.identity,
            )
        _log.warning(
            "action %s: call %d is %s but the journal recorded %s; dropping the journal from "
            "this call on and calling again",
            self.scope.action,
            call.index,
            call.identity,
            record.identity,
        )
        self._stats.mismatches += 1
        for i in [i for i in self._records if i >= call.index]:
            del self._records[i]
        try:
            self._journal.drop_from(call.index)
        except ActionStateStoreError as e:
            self.store_error = e
            raise
        return None

    def _work(
        self,
        call: _Call,
        record: CallRecord | None,
        abandoned: list[bool],
        deadline: float | None,
    ) -> Callable[[], Outcome]:
        info = CallInfo(self.scope.idempotency_key(call.index), self.scope.action, call.index, 1)
        if record is not None and call.options.reconciler is not None:
            _log.info(
                "action %s: call %d (%s) started before the restore and has no outcome; asking "
                "its reconciler",
                self.scope.action,
                call.index,
                call.identity,
            )
            reconciler = call.options.reconciler
            return lambda: run_attempts(
                reconciler, (), {}, function_id=call.function_id, info=info, retry=NO_RETRY
            )
        if self._mode == REPLAY_ONLY:
            state = "no outcome" if record is not None else "no record"
            raise JournalMissError(
                f"action '{self.scope.action}': call {call.index} ({call.identity}) has {state} "
                "in the journal and durable-execution.mismatch-mode is replay-only, so it is not "
                "made",
                action=self.scope.action,
                call_index=call.index,
            )
        if record is not None:
            _log.info(
                "action %s: call %d (%s) was running at the restored checkpoint; calling again "
                "(give it a reconciler to check its outcome instead)",
                self.scope.action,
                call.index,
                call.identity,
            )
        self._stats.calls += 1
        fn, args, kwargs, retry = call.fn, call.args, call.kwargs, call.options.retry

        def work() -> Outcome:
            return run_attempts(
                fn,
                args,
                kwargs,
                function_id=call.function_id,
                info=info,
                retry=retry,
                deadline=deadline,
                abandoned=lambda: abandoned[0],
            )

        return work

    @staticmethod
    def _deadline(call: _Call) -> float | None:
        timeout = call.options.timeout_s
        return None if timeout is None else time.monotonic() + timeout

    # -- outcomes ----------------------------------------------------------------------------

    def apply(self, completion: Completion) -> None:
        """Record and deliver a finished async call (task thread, key current)."""
        flight = self._inflight.pop(completion.index, None)
        if flight is None:  # timed out already, or the action ended without awaiting it
            return
        outcome = completion.outcome
        if outcome.fatal and isinstance(outcome.error, ActionStateStoreError):
            self.store_error = outcome.error
            raise outcome.error  # the store failed: the job fails, the action sees nothing
        try:
            self._record(flight.call, outcome)
        except Exception as e:
            outcome = Outcome(False, error=e, journal=False)
        if flight.future.cancelled():
            return
        if outcome.ok:
            flight.future.set_result(outcome.value)
        else:
            flight.future.set_exception(_as_raisable(outcome.error))

    def expire(self, now: float) -> None:
        """Fail in-flight calls whose timeout has passed."""
        for index, flight in list(self._inflight.items()):
            if flight.deadline is not None and flight.deadline <= now:
                with flight.guard:
                    flight.abandoned[0] = True
                self.apply(Completion(self.token, index, self._timeout_outcome(flight.call)))

    def next_deadline(self) -> float | None:
        deadlines = [f.deadline for f in self._inflight.values() if f.deadline is not None]
        return min(deadlines) if deadlines else None

    @property
    def waiting(self) -> bool:
        """Whether a call is still running on a worker."""
        return bool(self._inflight)

    def abandon(self) -> None:
        """The action ended: drop in-flight calls (late outcomes are ignored)."""
        for flight in self._inflight.values():
            flight.abandoned[0] = True
        self._inflight.clear()

    def _timeout_outcome(self, call: _Call) -> Outcome:
        error = DurableCallTimeoutError(
            f"action '{self.scope.action}': call {call.index} ({call.identity}) did not finish "
            f"within {call.options.timeout_s:g} s",
            action=self.scope.action,
            call_index=call.index,
        )
        return Outcome(False, error=error)

    def _record(self, call: _Call, outcome: Outcome) -> None:
        if not outcome.journal:
            return
        record = outcome.record
        if record is None:
            record = self._make_record(call, outcome)
            if self._wal is not None:
                self._commit(self._wal, record)  # a sync call: committed before it goes on
        self._records[call.index] = record
        self._journal.write(record)

    @staticmethod
    def _make_record(call: _Call, outcome: Outcome) -> CallRecord:
        codec = call.options.codec
        if outcome.ok:
            payload = get_codec(codec).encode(outcome.value)
            return CallRecord(
                call.index, call.function_id, call.digest, CallStatus.SUCCEEDED, codec, payload
            )
        return CallRecord(
            call.index,
            call.function_id,
            call.digest,
            CallStatus.FAILED,
            codec,
            error=ErrorInfo.capture(_as_raisable(outcome.error)),
        )

    def _deliver(self, outcome: Outcome) -> Any:
        if outcome.ok:
            return outcome.value
        raise _as_raisable(outcome.error)

    def _replay(self, record: CallRecord) -> Any:
        self._stats.replayed += 1
        trusted = self._trusted
        if self._wal is not None and record.index in self._wal.from_store:
            trusted = self._allow_pickle_from_store
            if not trusted and record.codec != "json" and record.status is CallStatus.SUCCEEDED:
                self.store_error = untrusted_record_error(
                    self._wal.address, self.scope.action, record.index
                )
                raise self.store_error
        if record.status is CallStatus.SUCCEEDED:
            return record.value()
        info = record.error or ErrorInfo("builtins.Exception", "unknown failure", "")
        if info.type_name == _TIMEOUT_TYPE:
            # Recorded by the library itself: rebuilt exactly, without unpickling anything.
            raise DurableCallTimeoutError(
                info.message, action=self.scope.action, call_index=record.index
            )
        rebuilt = info.rebuild(allow_pickle=trusted)
        if rebuilt is not None:
            raise rebuilt
        raise DurableCallError(
            f"action '{self.scope.action}': call {record.index} ({record.identity}) failed with "
            f"{info.type_name}: {info.message} (replayed from the journal; the exception could "
            "not be rebuilt as its own type)",
            action=self.scope.action,
            call_index=record.index,
            type_name=info.type_name,
            error_message=info.message,
            remote_traceback=info.traceback,
        )

    def flush(self) -> None:
        """Write buffered records to the journal's storage (before the action suspends)."""
        self._journal.flush()

    def close(self) -> None:
        """The action execution is over: drop its journal."""
        self.abandon()
        self._journal.clear()


def _as_raisable(error: BaseException | None) -> BaseException:
    if error is None:  # pragma: no cover - an Outcome that is not ok always has an error
        return RuntimeError("durable call failed without an exception")
    return error
