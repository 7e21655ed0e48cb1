"""One durable call of a session: its identity, the record of its outcome, and its bookkeeping while
it runs on a worker."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from flink_agents_ctx.durable.codec import get_codec
from flink_agents_ctx.durable.executor import Outcome
from flink_agents_ctx.durable.identity import (
    argument_digest,
    call_arguments,
    call_keywords,
    function_id,
)
from flink_agents_ctx.durable.options import DurableFunction
from flink_agents_ctx.durable.records import CallRecord, CallStatus, ErrorInfo
from flink_agents_ctx.errors import DurableCallTimeoutError

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


@dataclass
class InFlight:
    """An async call running on a worker."""

    call: Call
    future: asyncio.Future[Any]
    deadline: float | None
    # Held while the worker commits the outcome and while a timeout abandons the call, so a late
    # outcome is never committed after the timeout was.
    guard: threading.Lock
    abandoned: list[bool]


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
