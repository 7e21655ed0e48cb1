"""``DurableSession``: the durable calls of one action execution, recorded and replayed.

Each call has a *position* in its action execution: the task that makes it (see
:meth:`StepLoop.lineage`) and a counter within that task. Positions do not depend on when calls
finish, so a replay -- where recorded calls answer at once -- gives every call the position it had
in the first run, also under ``asyncio.gather``. A call is matched against the record at its
position by function id and argument digest (or its explicit ``call_id``): a finished record is
returned or re-raised without calling; a started-but-unfinished record uses the call's reconciler
when it has one; a mismatch follows the :class:`MismatchMode`.

The session knows nothing of where records are kept: a :class:`CallJournal` commits them and
answers replays. A :class:`~flink_agents_ctx.errors.DurabilityError` from the journal is kept as
:attr:`DurableSession.fatal`: the execution fails the job with it even if the action caught it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Hashable
from threading import get_ident
from typing import Any, TypeVar

from flink_agents_ctx.durable.calls import (
    Call,
    CallWork,
    as_raisable,
    deadline_of,
    identify,
    make_record,
    timeout_outcome,
)
from flink_agents_ctx.durable.execution_ref import DurableStats, ExecutionRef
from flink_agents_ctx.durable.executor import (
    CallExecutor,
    Completion,
    Outcome,
    Submit,
    run_attempts,
)
from flink_agents_ctx.durable.journal import CallJournal
from flink_agents_ctx.durable.options import CallInfo, MismatchMode
from flink_agents_ctx.durable.records import CallRecord, CallStatus, ErrorInfo
from flink_agents_ctx.durable.step_loop import StepLoop
from flink_agents_ctx.errors import (
    DurabilityError,
    DurableCallError,
    DurableCallTimeoutError,
    FlinkAgentsError,
    JournalMissError,
    NonDeterministicReplayError,
    OperatorStateError,
)
from flink_agents_ctx.mailbox import Mailbox, current_durable_call

_log = logging.getLogger(__name__)
_tokens = itertools.count(1)
_TIMEOUT_TYPE = f"{DurableCallTimeoutError.__module__}.{DurableCallTimeoutError.__qualname__}"
T = TypeVar("T")


class DurableSession:
    """Records and replays the durable calls of one action execution (see the module docstring)."""

    def __init__(
        self,
        journal: CallJournal,
        action: str,
        key: Hashable,
        identify: Callable[[], ExecutionRef],
        mode: MismatchMode,
        executor: CallExecutor,
        mailbox: Mailbox,
        stats: DurableStats,
        loop: StepLoop | None = None,
    ) -> None:
        self.token = next(_tokens)
        self.action = action
        self.key = key
        self._identify = identify
        self._journal = journal
        self._mode = mode
        self._executor = executor
        self._mailbox = mailbox
        self._stats = stats
        self._loop = loop
        self._counters: dict[str, int] = {}
        self._inflight: dict[str, CallWork] = {}

    # Until set otherwise (most sessions make one call and end).
    fatal: DurabilityError | None = None
    _ref: ExecutionRef | None = None
    _records: dict[str, CallRecord] | None = None
    _closed = False

    @property
    def ref(self) -> ExecutionRef:
        """The execution's identity, fixed on first use (task thread only: it may number the
        key's input)."""
        ref = self._ref
        if ref is None:
            ref = self._ref = self._identify()
        return ref

    # -- journal access: every failure of the journal is fatal --------------------------------

    def _journaled(self, op: Callable[..., T], *args: Any) -> T:
        self.check()
        try:
            return op(*args)
        except DurabilityError as e:
            self.fatal = e
            raise

    def check(self) -> None:
        """Raise the journal failure this execution already met (an action that caught it must
        not make further calls without records)."""
        if self.fatal is not None:
            raise self.fatal

    def load(self) -> dict[str, CallRecord]:
        """The records this execution replays from (read from the journal once)."""
        if self._records is None:
            self._records = self._journaled(self._journal.load)
        return self._records

    # -- making calls ------------------------------------------------------------------------

    def execute(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``fn`` on this thread (or replay it) and return its result or raise its exception."""
        mailbox = self._mailbox
        if get_ident() != mailbox.thread_id or current_durable_call() is not None:
            mailbox.check("durable_execute")
        call = self._prepare(fn, args, kwargs)
        record = self._match(call)
        if record is not None and record.status is not CallStatus.PENDING:
            return self._replay(call, record)
        options = call.options
        timeout = options.timeout_s
        if record is None and timeout is None and options.reconciler is None:
            # The common case: a new call, made here and now.
            outcome = self._run_here(call)
        else:
            work = self._work(call, record, timeout is not None)
            if options.reconciler is not None:
                self._journaled(self._journal.started, call.pending(), True)
            if timeout is None:
                outcome = work()
            else:
                finished = self._executor.run_blocking(work, timeout)
                if finished is None:
                    work.abandon()  # a call still queued never starts; one running is ignored
                    outcome = timeout_outcome(self.action, call)
                else:
                    outcome = finished
        if outcome.journal:
            record = make_record(call, outcome)  # raises JournalEncodingError
            self._commit_and_keep(record)  # before the action goes on
        if outcome.ok:
            return outcome.value
        raise as_raisable(outcome.error)

    def _run_here(self, call: Call) -> Outcome:
        """Run a new call without a timeout on this thread: what :meth:`_work` does for it, without
        building a :class:`CallWork` (about 5,000 instructions per call, measured with callgrind)."""
        if self._mode is MismatchMode.REPLAY_ONLY:
            return self._work(call, None, False)()  # raises JournalMissError
        self._stats.calls += 1
        return run_attempts(
            call.fn,
            call.args,
            call.kwargs,
            function_id=call.function_id,
            info=self._call_info(call, on_worker=False),
            retry=call.options.retry,
        )

    def _call_info(self, call: Call, on_worker: bool) -> CallInfo:
        """What the call can know about itself. On a worker the idempotency key is made now (on
        the task thread: it may number the key's input); here, only if the call asks for it."""
        position = call.position
        if on_worker:
            key = self.ref.idempotency_key(position)
            return CallInfo(self.action, position, 1, lambda: key, call.function_id)
        return CallInfo(
            self.action, position, 1, lambda: self.ref.idempotency_key(position), call.function_id
        )

    def _commit_and_keep(self, record: CallRecord) -> None:
        """Commit a finished call's record and keep it for the next checkpoint (task thread)."""
        if self.fatal is not None:
            raise self.fatal
        journal = self._journal
        try:
            journal.commit(record)
            journal.write(record)
        except DurabilityError as e:
            self.fatal = e
            raise
        records = self._records
        if records is None:
            records = self.load()
        records[record.position] = record

    def execute_async(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        submit: Submit | None = None,
    ) -> asyncio.Future[Any]:
        """Start ``fn`` on a worker (or replay it); the future completes on the task thread.

        ``submit`` starts the call's work instead of the worker pool (a call another runtime
        makes: see :meth:`CallExecutor.deferred`)."""
        self._mailbox.check("durable_execute_async")
        loop = self._loop
        if loop is None:
            raise FlinkAgentsError(
                f"durable_execute_async was called from the synchronous action "
                f"'{self.action}'; declare the action with 'async def' and await it, or "
                "use ctx.durable_execute(fn, ...)"
            )
        call = self._prepare(fn, args, kwargs)
        record = self._match(call)
        future = loop.create_future()
        if record is not None and record.status is not CallStatus.PENDING:
            try:
                future.set_result(self._replay(call, record))
            except DurabilityError:
                raise
            except Exception as e:
                future.set_exception(e)
            return future
        work = self._work(call, record, True, self._journal)
        work.future = future
        self._journaled(self._journal.started, call.pending(), call.options.reconciler is not None)
        self._inflight[call.position] = work
        (submit or self._executor.submit)(self.key, self.token, call.position, work)
        return future

    def _prepare(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Call:
        if self.fatal is not None:
            raise self.fatal
        if self._closed:
            raise OperatorStateError(
                f"action '{self.action}' made a durable call after its execution ended (from code "
                "that runs while the action is cancelled); the call is not made"
            )
        lineage = "" if self._loop is None else self._loop.lineage()
        n = self._counters.get(lineage, 0)
        self._counters[lineage] = n + 1
        return identify(fn, args, kwargs, f"{lineage}{n}" if lineage else str(n))

    def _match(self, call: Call) -> CallRecord | None:
        records = self._records
        if records is None:
            records = self.load()
        record = records.get(call.position)
        if record is None:
            return None
        if record.function_id == call.function_id and record.digest == call.digest:
            return record
        if self._mode is not MismatchMode.LENIENT:
            raise NonDeterministicReplayError(
                f"action '{self.action}' made call {call.position} to {call.identity}, but "
                f"the journal recorded {record.identity} at that position; the action is not "
                "deterministic between runs (branching on time, randomness or unrecorded reads?). "
                "Make the calls depend only on the event, memory and earlier call results, or set "
                "durable-execution.mismatch-mode: lenient to call again",
                action=self.action,
                call_position=call.position,
                expected=record.identity,
                actual=call.identity,
            )
        _log.warning(
            "action %s: call %s is %s but the journal recorded %s; calling again",
            self.action,
            call.position,
            call.identity,
            record.identity,
        )
        self._stats.mismatches += 1
        return None

    def _work(
        self,
        call: Call,
        record: CallRecord | None,
        on_worker: bool,
        journal: CallJournal | None = None,
    ) -> CallWork:
        """The work of a call that runs away from the action, or that a restore finds started:
        its attempts, or its reconciler when ``record`` (a start without an outcome) and the
        call has one. With ``journal``, the work also commits the outcome's record."""
        info = self._call_info(call, on_worker)
        if record is not None and call.options.reconciler is not None:
            _log.info(
                "action %s: call %s (%s) started before the restore and has no outcome; asking "
                "its reconciler",
                self.action,
                call.position,
                call.identity,
            )
            return CallWork(call, info, deadline_of(call), True, journal)
        if self._mode is MismatchMode.REPLAY_ONLY:
            state = "no outcome" if record is not None else "no record"
            raise JournalMissError(
                f"action '{self.action}': call {call.position} ({call.identity}) has {state} "
                "in the journal and durable-execution.mismatch-mode is replay-only, so it is not "
                "made",
                action=self.action,
                call_position=call.position,
            )
        if record is not None:
            _log.info(
                "action %s: call %s (%s) was running at the restored checkpoint; calling again "
                "(give it a reconciler to check its outcome instead)",
                self.action,
                call.position,
                call.identity,
            )
        self._stats.calls += 1
        return CallWork(call, info, deadline_of(call), False, journal)

    # -- outcomes ----------------------------------------------------------------------------

    def apply(self, completion: Completion) -> None:
        """Record and deliver a finished async call (task thread, key current)."""
        flight = self._inflight.pop(completion.position, None)
        if flight is None:  # timed out already, or the action ended without awaiting it
            return
        outcome = completion.outcome
        if outcome.fatal and isinstance(outcome.error, DurabilityError):
            self.fatal = outcome.error
            raise outcome.error  # the journal failed: the job fails, the action sees nothing
        if outcome.record is not None:
            self._keep(outcome.record)
        future = flight.future
        if future is None or future.cancelled():
            return
        if outcome.ok:
            future.set_result(outcome.value)
        else:
            future.set_exception(as_raisable(outcome.error))

    def expire(self, now: float) -> None:
        """Fail in-flight calls whose timeout has passed (and record the timeout)."""
        for position, flight in list(self._inflight.items()):
            if flight.deadline is not None and flight.deadline <= now:
                flight.abandon()
                outcome = timeout_outcome(self.action, flight.call)
                record = make_record(flight.call, outcome)
                self._journaled(self._journal.commit, record)
                self.apply(Completion(self.token, position, outcome._replace(record=record)))

    def next_deadline(self) -> float | None:
        deadlines = [f.deadline for f in self._inflight.values() if f.deadline is not None]
        return min(deadlines) if deadlines else None

    @property
    def waiting(self) -> bool:
        """Whether a call is still running on a worker."""
        return bool(self._inflight)

    def _keep(self, record: CallRecord) -> None:
        self.load()[record.position] = record
        self._journaled(self._journal.write, record)

    def _replay(self, call: Call, record: CallRecord) -> Any:
        self._stats.replayed += 1
        if record.status is CallStatus.SUCCEEDED:
            return self._journaled(self._journal.recorded_value, record)
        info = record.error or ErrorInfo("builtins.Exception", "unknown failure", "")
        if info.type_name == _TIMEOUT_TYPE:
            # Recorded by the library itself: rebuilt exactly, without unpickling anything.
            raise DurableCallTimeoutError(
                info.message, action=self.action, call_position=record.position
            )
        rebuilt = self._journaled(self._journal.recorded_error, record)
        if rebuilt is not None:
            raise rebuilt
        raise DurableCallError(
            f"action '{self.action}': call {record.position} ({record.identity}) failed with "
            f"{info.type_name}: {info.message} (replayed from the journal; the exception could "
            "not be rebuilt as its own type)",
            action=self.action,
            call_position=record.position,
            type_name=info.type_name,
            error_message=info.message,
            remote_traceback=info.traceback,
        )

    # -- end of the execution -----------------------------------------------------------------

    def flush(self) -> None:
        """Write buffered records to the journal's storage (before the action suspends)."""
        self._journaled(self._journal.flush)

    def close(self, keep_journal: bool) -> None:
        """The execution is over: drop in-flight calls (late outcomes are ignored) and, unless
        ``keep_journal``, its journal."""
        self._closed = True
        for flight in self._inflight.values():
            flight.abandoned = True  # without its guard: a commit under way may finish
        self._inflight.clear()
        if not keep_journal:
            self._journal.clear()
