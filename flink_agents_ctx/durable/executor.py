"""Running durable calls: attempts with retries, and a worker pool whose results come back by key.

Workers never touch agent state. A finished async call becomes a :class:`Completion` in an inbox
keyed by the Flink key; the operator takes a key's completions on the task thread, when that key is
current (in ``process_element`` or ``on_timer``), and applies them there.

Work runs in a copy of the submitting thread's context (``contextvars``), so what the action bound
there -- its metric group for resources, above all -- is what the call sees on the worker.
"""

from __future__ import annotations

import contextvars
import functools
import queue
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple, Protocol

from flink_agents_ctx.durable.options import CallInfo, RetryPolicy
from flink_agents_ctx.durable.records import CallRecord
from flink_agents_ctx.mailbox import enter_durable_scope, exit_durable_scope


class Outcome(NamedTuple):
    """How one durable call ended. ``journal`` is False for ``BaseException``s that are not
    ``Exception``s (KeyboardInterrupt, SystemExit): those are re-raised and never recorded."""

    ok: bool
    value: Any = None
    error: BaseException | None = None
    attempts: int = 1
    journal: bool = True
    # Set by the worker that ran an async call: the record it made and committed, or ``fatal``
    # when committing failed (the job must fail, the action must not see a result).
    record: CallRecord | None = None
    fatal: bool = False


def run_attempts(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    function_id: str,
    info: CallInfo,
    retry: RetryPolicy,
    deadline: float | None = None,
    abandoned: Callable[[], bool] | None = None,
) -> Outcome:
    """Call ``fn`` until it returns or the retry policy gives up; never raises an ``Exception``.
    ``abandoned`` (when given) is asked before each attempt: a call whose action moved on does
    not start."""
    attempt = 0
    if info.function_id != function_id:
        info = info._replace(function_id=function_id)
    while True:
        if abandoned is not None and abandoned():
            # Timed out or dropped while still queued: the action has moved on without it.
            return Outcome(False, error=_ABANDONED, attempts=attempt, journal=False)
        attempt += 1
        # One binding tells the call about itself (current_call) and marks the thread as inside
        # a durable call (agent state is off limits there).
        scope = enter_durable_scope(info if attempt == 1 else info._replace(attempt=attempt))
        try:
            value = fn(*args, **kwargs)
        except Exception as e:
            if not retry.retries(e, attempt) or (abandoned is not None and abandoned()):
                return Outcome(False, error=e, attempts=attempt)
            delay = retry.delay_s(attempt)
            if deadline is not None and time.monotonic() + delay >= deadline:
                return Outcome(False, error=e, attempts=attempt)
            time.sleep(delay)
            continue
        except BaseException as e:
            return Outcome(False, error=e, attempts=attempt, journal=False)
        finally:
            exit_durable_scope(scope)
        return _succeeded((True, value, None, attempt, True, None, False))


_succeeded = functools.partial(tuple.__new__, Outcome)  # no Python-level __new__ per call
_ABANDONED = RuntimeError("the durable call was abandoned before it ran")


class Completion(NamedTuple):
    """A finished async call, waiting for its key to become current."""

    session: int
    position: str
    outcome: Outcome


Submit = Callable[[Hashable, int, str, Callable[[], "Outcome"]], None]
"""How an async call's work is started: ``submit(key, session, position, work)``."""


class CompletionSource(Protocol):
    """Async calls that another runtime makes (a Java thread pool): the task thread collects
    their outcomes (:meth:`pump`) whenever it looks for finished calls."""

    def pending(self) -> bool:
        """Whether any of its calls has not been collected yet."""

    def pump(self) -> None:
        """On the task thread: finish the calls that ended (see :meth:`CallExecutor.deferred`)."""


class CallExecutor:
    """A worker pool for async durable calls plus the inbox their outcomes land in.

    Workers start on the first call and take work from one queue. Each piece of work carries the
    submitting thread's context and says where its outcome goes; a pool no longer referenced stops
    its workers (a failed task attempt is not closed by Flink), so attempts do not pile up threads.
    """

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._started = False
        self._inbox: dict[Hashable, list[Completion]] = {}
        self._ready = threading.Condition()
        self._closed = [False]
        self._sources: list[CompletionSource] = []

    @property
    def threads(self) -> int:
        return self._threads

    def _start(self) -> None:
        self._started = True
        for n in range(self._threads):
            threading.Thread(
                target=_work_loop,
                args=(self._queue, self._closed),
                name=f"flink-agents-call-{n}",
                daemon=True,
            ).start()
        weakref.finalize(self, _stop, self._queue, self._threads)

    def submit(
        self, key: Hashable, session: int, position: str, work: Callable[[], Outcome]
    ) -> None:
        """Run ``work`` on a worker, in a copy of the caller's context; its outcome is delivered to
        ``key``'s inbox."""
        if not self._started:
            self._start()
        where = (self._ready, self._inbox, key, session, position)
        self._queue.put((contextvars.copy_context(), work, _to_inbox, where))

    def add_source(self, source: CompletionSource) -> None:
        """Collect ``source``'s finished calls whenever finished calls are looked for."""
        self._sources.append(source)

    def deferred(
        self, key: Hashable, session: int, position: str, work: Callable[[], Outcome]
    ) -> Callable[[], None]:
        """``work`` for a call another runtime makes: the returned function runs it, in a copy of
        the caller's context, when that runtime says the call ended (on the task thread, from a
        :class:`CompletionSource`), and delivers its outcome to ``key``'s inbox."""
        context = contextvars.copy_context()
        ready, inbox = self._ready, self._inbox

        def run() -> None:
            try:
                outcome = context.run(work)
            except BaseException as e:  # run_attempts does not raise; a last resort
                outcome = Outcome(False, error=e, journal=False)
            with ready:
                inbox.setdefault(key, []).append(Completion(session, position, outcome))
                ready.notify_all()

        return run

    def _pump(self) -> bool:
        """Collect the other runtimes' finished calls; whether any call of theirs is pending."""
        pending = False
        for source in self._sources:
            if source.pending():
                source.pump()
                pending = pending or source.pending()
        return pending

    def run_blocking(self, work: Callable[[], Outcome], timeout_s: float) -> Outcome | None:
        """Run ``work`` on a worker, in a copy of the caller's context, and wait up to
        ``timeout_s``; ``None`` when it timed out."""
        if not self._started:
            self._start()
        done = threading.Event()
        box: list[Outcome] = []

        def deliver(outcome: Outcome) -> None:
            box.append(outcome)
            done.set()

        self._queue.put((contextvars.copy_context(), work, deliver, ()))
        return box[0] if done.wait(timeout_s) else None

    def take(self, key: Hashable) -> list[Completion]:
        """Remove and return the completions waiting for ``key``."""
        if self._sources:
            self._pump()
        with self._ready:
            return self._inbox.pop(key, [])

    def has_completions(self, key: Hashable) -> bool:
        if self._sources:
            self._pump()
        with self._ready:
            return key in self._inbox

    def keys_with_completions(self) -> list[Hashable]:
        if self._sources:
            self._pump()
        with self._ready:
            return list(self._inbox)

    def wait(self, key: Hashable | None, timeout_s: float) -> bool:
        """Block until ``key`` (any key when ``None``) has a completion, or the timeout passes.
        Calls of other runtimes are collected every millisecond meanwhile."""

        def ready() -> bool:
            return bool(self._inbox) if key is None else key in self._inbox

        deadline = time.monotonic() + timeout_s
        while True:
            polling = bool(self._sources) and self._pump()
            remaining = deadline - time.monotonic()
            with self._ready:
                if ready():
                    return True
                if remaining <= 0:
                    return False
                if not polling:
                    return self._ready.wait_for(ready, remaining)
                self._ready.wait_for(ready, min(remaining, 0.001))

    def shutdown(self) -> None:
        """Drop the work not started yet; running calls are left to finish in the background,
        then the workers stop."""
        self._closed[0] = True
        if self._started:
            _stop(self._queue, self._threads)


# (context to run in, work, what receives the outcome, its leading arguments): a tuple rather
# than a closure per call.
_Work = tuple[contextvars.Context, Callable[[], Outcome], Callable[..., None], tuple[Any, ...]]


def _to_inbox(
    ready: threading.Condition,
    inbox: dict[Hashable, list[Completion]],
    key: Hashable,
    session: int,
    position: str,
    outcome: Outcome,
) -> None:
    with ready:
        inbox.setdefault(key, []).append(Completion(session, position, outcome))
        ready.notify_all()


def _work_loop(work_queue: queue.SimpleQueue[_Work | None], closed: list[bool]) -> None:
    while True:
        item = work_queue.get()
        if item is None:
            return
        if closed[0]:
            continue  # the operator closed: its queued calls are not made
        context, work, deliver, where = item
        try:
            outcome = context.run(work)
        except BaseException as e:  # run_attempts does not raise; this is a last resort
            outcome = Outcome(False, error=e, journal=False)
        deliver(*where, outcome)
        # An idle worker must not keep its last call (and the execution behind it) alive.
        del item, context, work, deliver, where, outcome


def _stop(work_queue: queue.SimpleQueue[_Work | None], threads: int) -> None:
    for _ in range(threads):
        work_queue.put(None)
