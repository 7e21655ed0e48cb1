"""Options of durable calls (per call, and the replay mismatch mode), and what a running call can
learn about itself."""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from flink_agents_ctx.durable.codec import get_codec
from flink_agents_ctx.errors import ConfigError, FlinkAgentsError
from flink_agents_ctx.mailbox import current_durable_call


class MismatchMode(str, enum.Enum):
    """What a replayed call that differs from its record does (``durable-execution.mismatch-mode``)."""

    LENIENT = "lenient"
    """Log, count ``numOfJournalMismatches``, make the call and replace the record."""
    STRICT = "strict"
    """Raise :class:`~flink_agents_ctx.NonDeterministicReplayError`."""
    REPLAY_ONLY = "replay-only"
    """Like strict, and also raise :class:`~flink_agents_ctx.JournalMissError` instead of making
    a call that has no record."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often a durable call is attempted before its failure is recorded.

    Args:
        max_attempts: attempts in total (1 = no retry).
        initial_delay_s: wait before the second attempt.
        backoff: factor applied to the wait after each further attempt.
        max_delay_s: upper bound of one wait.
        retry_on: exception types worth another attempt; others are recorded at once.
        jitter: add up to this fraction of the wait at random, so retries of many keys spread out.
    """

    max_attempts: int = 3
    initial_delay_s: float = 0.5
    backoff: float = 2.0
    max_delay_s: float = 30.0
    retry_on: tuple[type[BaseException], ...] = (Exception,)
    jitter: float = 0.0

    def __post_init__(self) -> None:
        for name, value, minimum in (
            ("max_attempts", self.max_attempts, 1),
            ("initial_delay_s", self.initial_delay_s, 0),
            ("backoff", self.backoff, 1),
            ("max_delay_s", self.max_delay_s, 0),
            ("jitter", self.jitter, 0),
        ):
            if value < minimum:
                raise ConfigError(
                    f"RetryPolicy.{name} is {value!r}; it must be at least {minimum}",
                    key=f"RetryPolicy.{name}",
                    value=value,
                )

    def delay_s(self, failed_attempts: int) -> float:
        """Wait after ``failed_attempts`` failures (1 = after the first attempt)."""
        base = min(self.initial_delay_s * self.backoff ** (failed_attempts - 1), self.max_delay_s)
        return base * (1 + self.jitter * random.random()) if self.jitter else base

    def retries(self, exc: BaseException, failed_attempts: int) -> bool:
        return failed_attempts < self.max_attempts and isinstance(exc, self.retry_on)


NO_RETRY = RetryPolicy(max_attempts=1)


@dataclass(frozen=True)
class DurableFunction:
    """A function with durable-call options; pass it where ``durable_execute`` takes ``fn``.

    Build it with :func:`durable`. Calling it directly just calls the function.
    """

    fn: Callable[..., Any]
    call_id: str | None = None
    retry: RetryPolicy = NO_RETRY
    timeout_s: float | None = None
    reconciler: Callable[[], Any] | None = None
    codec: str = "json"

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise ConfigError(f"durable(): {self.fn!r} is not callable", key="fn")
        if self.call_id is not None and (not isinstance(self.call_id, str) or not self.call_id):
            raise ConfigError("durable(): call_id must be a non-empty str", key="call_id")
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise ConfigError(
                f"durable(): timeout_s is {self.timeout_s!r}; it must be positive",
                key="timeout_s",
                value=self.timeout_s,
            )
        if self.reconciler is not None and not callable(self.reconciler):
            raise ConfigError(
                "durable(): reconciler must be a zero-argument callable", key="reconciler"
            )
        try:
            get_codec(self.codec)
        except ValueError as e:
            raise ConfigError(f"durable(): {e}", key="codec", value=self.codec) from None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


def durable(
    fn: Callable[..., Any] | None = None,
    *,
    call_id: str | None = None,
    retry: RetryPolicy | None = None,
    timeout_s: float | None = None,
    reconciler: Callable[[], Any] | None = None,
    codec: str = "json",
) -> Any:
    """Attach durable-call options to ``fn`` without taking any of its keyword names.

    ::

        charge = durable(payments.charge, retry=RetryPolicy(max_attempts=5), timeout_s=10)
        receipt = ctx.durable_execute(charge, order_id, amount=12)

        @durable(call_id="lookup-customer", reconciler=lambda: crm.last_lookup())
        def lookup(customer_id): ...

    Args:
        fn: the function (omit to use ``durable(...)`` as a decorator).
        call_id: an explicit identity used instead of the function id and argument digest; use it
            when arguments have no canonical encoding or the function is renamed between versions.
        retry: attempts and backoff before a failure is recorded (default: one attempt).
        timeout_s: the call fails with ``DurableCallTimeoutError`` when it has not finished within
            this many seconds, retries included (the function itself cannot be interrupted and is
            left to finish in the background).
        reconciler: zero-argument callable used on recovery when the journal shows the call started
            but recorded no outcome; its result or exception becomes the call's outcome.
        codec: how the result is recorded: ``"json"`` (default, exact for plain data, dataclasses
            and pydantic models) or ``"pickle"`` (anything picklable).
    """

    def wrap(target: Callable[..., Any]) -> DurableFunction:
        base = target.fn if isinstance(target, DurableFunction) else target
        return DurableFunction(base, call_id, retry or NO_RETRY, timeout_s, reconciler, codec)

    return wrap if fn is None else wrap(fn)


class CallInfo(NamedTuple):
    """What a running durable call can know about itself (see :func:`current_call`).

    ``idempotency_key`` is the same every time this call is made for the same input, across
    retries, replays and restores: pass it to services that de-duplicate requests.
    """

    action: str
    call_position: str
    attempt: int
    # Makes the idempotency key: only a call that asks for it gives its input an identity.
    key_source: Callable[[], str]
    function_id: str = ""

    @property
    def idempotency_key(self) -> str:
        return self.key_source()


def current_call() -> CallInfo:
    """Information about the durable call running on this thread.

    Raises:
        FlinkAgentsError: when called outside a durable call.
    """
    info = current_durable_call()
    if not isinstance(info, CallInfo):
        raise FlinkAgentsError(
            "current_call() is only available inside a function run by durable_execute or "
            "durable_execute_async"
        )
    return info
