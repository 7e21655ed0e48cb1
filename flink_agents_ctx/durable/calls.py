"""One durable call of a session: its identity, the record of its outcome, and the work that runs it
away from the action (with its bookkeeping while it runs on a worker)."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from flink_agents_ctx.durable.codec import get_codec
from flink_agents_ctx.durable.executor import Outcome, run_attempts
from flink_agents_ctx.durable.identity import (
    argument_digest,
    call_arguments,
    call_keywords,
    function_id,
)
from flink_agents_ctx.durable.options import NO_RETRY, CallInfo, DurableFunction
from flink_agents_ctx.durable.records import CallRecord, CallStatus, ErrorInfo
from flink_agents_ctx.errors import DurabilityError, DurableCallTimeoutError

# The options of a plain function passed to durable_execute (no call id, retry, timeout...).
_PLAIN = DurableFunction(len)


class Call(NamedTuple):
    """A durable call as its session matches and records it."""

    position: str
    function_id: str
    digest: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    options: DurableFunction

    @property
    def identity(self) -> str:
        return f"{self.function_id}({self.digest})"

    def pending(self) -> CallRecord:
        return CallRecord(
            self.position, self.function_id, self.digest, CallStatus.PENDING, self.options.codec
        )


_new_call = functools.partial(tuple.__new__, Call)  # no Python-level __new__ per call


def identify(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], position: str
) -> Call:
    """The call of ``fn`` at ``position``: its options, function id and argument digest (raises
    the ConfigError of a non-callable, NonCanonicalArgumentError for arguments without a
    canonical encoding)."""
    if isinstance(fn, DurableFunction):
        options, target = fn, fn.fn
    elif callable(fn):
        options, target = _PLAIN, fn
    else:
        options, target = DurableFunction(fn), fn  # raises the ConfigError that says so
    if options.call_id is not None:
        fid, digest = f"id:{options.call_id}", "-"
    elif isinstance(target, functools.partial):
        fid = function_id(target)
        digest = argument_digest(call_arguments(target, args), call_keywords(target, kwargs))
    else:
        fid, digest = function_id(target), argument_digest(args, kwargs)
    return _new_call((position, fid, digest, target, args, kwargs, options))


class CallWork:
    """What runs one call away from the action -- on a worker, or in the task thread's wait for a
    timed call -- and, for an async call, its bookkeeping until the outcome is applied.

    Calling it makes the attempts (or asks the reconciler); with a ``journal`` (async calls) it
    then records the outcome and commits the record on the same worker, so the record is durable
    even if a checkpoint is taken before the task thread sees it. One object per call, instead of
    nested closures: a call waiting on a worker keeps a handful of objects alive, not dozens.
    """

    __slots__ = ("abandoned", "call", "deadline", "future", "guard", "info", "journal", "reconcile")

    def __init__(
        self,
        call: Call,
        info: CallInfo,
        deadline: float | None,
        reconcile: bool,
        journal: _Committer | None = None,
    ) -> None:
        self.call = call
        self.info = info
        # Monotonic time by which the call must finish (its timeout), if it has one.
        self.deadline = deadline
        # Ask the call's reconciler instead of calling (a call started before a restore).
        self.reconcile = reconcile
        self.journal = journal
        # Set once the action moved on (timeout, end of the execution): not started if still
        # queued, and its outcome is not committed.
        self.abandoned = False
        # Held while the worker commits the outcome and while a timeout abandons the call, so a
        # late outcome is never committed after the timeout was (async calls only).
        self.guard: threading.Lock | None = None if journal is None else threading.Lock()
        # Completed on the task thread with the outcome (async calls only).
        self.future: asyncio.Future[Any] | None = None

    def _abandoned(self) -> bool:
        return self.abandoned

    def __call__(self) -> Outcome:
        call = self.call
        if self.reconcile:
            reconciler = call.options.reconciler
            assert reconciler is not None
            outcome = run_attempts(
                reconciler, (), {}, function_id=call.function_id, info=self.info, retry=NO_RETRY
            )
        else:
            outcome = run_attempts(
                call.fn,
                call.args,
                call.kwargs,
                function_id=call.function_id,
                info=self.info,
                retry=call.options.retry,
                deadline=self.deadline,
                abandoned=self._abandoned,
            )
        journal = self.journal
        if journal is None or not outcome.journal:
            return outcome
        try:
            record = make_record(call, outcome)
        except Exception as e:  # the action gets the encoding error as the call's outcome
            return Outcome(False, error=e, journal=False)
        guard = self.guard
        assert guard is not None
        with guard:
            if self.abandoned:
                return outcome
            try:
                journal.commit(record)
            except DurabilityError as e:
                return Outcome(False, error=e, journal=False, fatal=True)
        return outcome._replace(record=record)

    def abandon(self) -> None:
        """The action moved on without this call's outcome."""
        guard = self.guard
        if guard is None:
            self.abandoned = True
        else:
            with guard:
                self.abandoned = True


class _Committer(Protocol):
    def commit(self, record: CallRecord) -> None: ...


def deadline_of(call: Call) -> float | None:
    """Monotonic time by which the call must finish (its timeout from now), if it has one."""
    timeout = call.options.timeout_s
    return None if timeout is None else time.monotonic() + timeout


def timeout_outcome(action: str, call: Call) -> Outcome:
    error = DurableCallTimeoutError(
        f"action '{action}': call {call.position} ({call.identity}) did not finish "
        f"within {call.options.timeout_s:g} s",
        action=action,
        call_position=call.position,
    )
    return Outcome(False, error=error)


def make_record(call: Call, outcome: Outcome) -> CallRecord:
    """The record of a finished call (raises JournalEncodingError when the result cannot be
    encoded by the call's codec)."""
    codec = call.options.codec
    if outcome.ok:
        payload = get_codec(codec).encode(outcome.value)
        return CallRecord(
            call.position, call.function_id, call.digest, CallStatus.SUCCEEDED, codec, payload
        )
    return CallRecord(
        call.position,
        call.function_id,
        call.digest,
        CallStatus.FAILED,
        codec,
        error=ErrorInfo.capture(as_raisable(outcome.error)),
    )


def as_raisable(error: BaseException | None) -> BaseException:
    if error is None:  # pragma: no cover - an Outcome that is not ok always has an error
        return RuntimeError("durable call failed without an exception")
    return error
