"""``ActionExecution``: one action handling one event of one key, from start to commit or abort.

::

    start() ──▶ running ──(the action returns)──────────────▶ done ──commit()──▶ committed
                  │   ▲                                          ▲
          (waits) ▼   │ resume()                                 │ (on_failure="emit": the
               waiting ──park()──▶ parked                        │  failure is the outcome)
    abort(keep_journal): from any state before committed

The execution owns everything the action does until it commits: the events it sends, its memory
writes (flushed on commit, set aside while it is parked so that other keys' actions start from
clean caches), its durable-call session and, for an async action, the coroutine and the loop it
runs on. Runner contexts are thin APIs over it -- one per language -- and the operator only decides
when to start, resume, park and commit.

Failures: an exception of the action aborts the execution (nothing it did is committed) and
raises :class:`~flink_agents_ctx.ActionExecutionError`, or, with ``on_failure="emit"``, ends it
with an :class:`~flink_agents_ctx.ActionFailedEvent` as its outcome. A journal failure
(:class:`~flink_agents_ctx.errors.DurabilityError`) always fails the job, even when the action
caught it.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from threading import get_ident
from typing import Any, NamedTuple, Protocol

from flink_agents_ctx.agent import ActionSpec, FailurePolicy
from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.durable.execution_ref import ExecutionRef
from flink_agents_ctx.durable.executor import Submit
from flink_agents_ctx.durable.session import DurableSession
from flink_agents_ctx.durable.step_loop import StepLoop
from flink_agents_ctx.errors import (
    ActionExecutionError,
    DurabilityError,
    LongTermMemoryError,
    OperatorStateError,
    UnsupportedAwaitError,
)
from flink_agents_ctx.events import ActionFailedEvent, Event
from flink_agents_ctx.execution.services import ExecutionServices
from flink_agents_ctx.long_term.memory import KeyMemory
from flink_agents_ctx.mailbox import current_durable_call
from flink_agents_ctx.memory.memory_object import MemoryObject
from flink_agents_ctx.metrics.builtin import Tally
from flink_agents_ctx.metrics.group import MetricGroup
from flink_agents_ctx.resources.registry import current_action_metric_group
from flink_agents_ctx.types import ResourceType


class ActionBody(Protocol):
    """Runs the action's code with a runner context of its language over the given execution:
    returns ``None`` (a synchronous action) or, when :attr:`is_async`, a coroutine that the
    execution runs on its step loop."""

    @property
    def is_async(self) -> bool:
        """Whether calling the body returns a coroutine (asked once per execution)."""

    def __call__(self, execution: ActionExecution, /) -> Any: ...


class Status(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    WAITING = "waiting"
    PARKED = "parked"
    DONE = "done"
    COMMITTED = "committed"
    ABORTED = "aborted"


_set_group, _reset_group = current_action_metric_group.set, current_action_metric_group.reset

# Read on every execution: module constants spare the enum class lookups.
_NEW, _RUNNING, _DONE, _COMMITTED = Status.NEW, Status.RUNNING, Status.DONE, Status.COMMITTED


class ActionOutcome(NamedTuple):
    """What a finished action execution committed: the events it sent (stamped with the input's
    timestamp), and whether it wrote sensory memory."""

    events: list[Event]
    wrote_sensory: bool


_outcome = functools.partial(tuple.__new__, ActionOutcome)  # no Python-level __new__ per commit


@dataclass(frozen=True)
class ParkedWrites:
    """The unflushed memory writes of a parked execution, by memory (path -> entry)."""

    sensory: dict[str, Any]
    short_term: dict[str, Any]


class ActionExecution:
    """One action execution (see the module docstring).

    Args:
        services: the operator's collaborators.
        spec: the action.
        event: the event it handles.
        key: the Flink key of the run.
        timestamp: the input's timestamp, stamped on the events it sends.
        body: runs the action's code (see :data:`ActionBody`).
        identify: the execution's :class:`ExecutionRef`, asked for when a durable call needs it
            (an idempotency key, a store record, a call on a worker).
        restored: the execution starts again after a restore: its journal may hold records.
        group: the action's metric group, when the caller has it at hand.
        tally: the action's count of executions, when the caller has it at hand.
    """

    # Most executions are synchronous, make no durable call and commit at once: what they do not
    # use stays at these class-level defaults instead of being set per execution.
    _restored = False
    _session: DurableSession | None = None
    _loop: StepLoop | None = None
    _task: asyncio.Task[Any] | None = None
    _parked: ParkedWrites | None = None
    _failure: ActionFailedEvent | None = None
    _ltm: KeyMemory | None = None

    def __init__(
        self,
        services: ExecutionServices,
        spec: ActionSpec,
        event: Event,
        key: Hashable,
        timestamp: int | None,
        body: ActionBody,
        identify: Callable[[], ExecutionRef],
        restored: bool = False,
        group: MetricGroup | None = None,
        tally: Tally | None = None,
    ) -> None:
        self._services = services
        self.spec = spec
        self.event = event
        self.key = key
        self.timestamp = timestamp
        self._body = body
        self._identify = identify
        self._status = _NEW
        self._events: list[Event] = []
        self._group = group or services.metrics.action_group(spec.name)
        self._tally = tally or services.metrics.action_tally(spec.name)
        if restored:
            self._restored = True
        if body.is_async:
            self._loop = StepLoop(spec.name)  # type: ignore[abstract]

    # -- what the action can do (runner contexts delegate here) -------------------------------

    def send_event(self, event: Event) -> None:
        """Queue an event; it takes effect when the execution commits."""
        mailbox = self._services.mailbox
        if get_ident() != mailbox.thread_id or current_durable_call() is not None:
            mailbox.check("send_event")
        self._events.append(event)

    # Every operation of a MemoryObject checks the mailbox thread itself.
    @property
    def sensory_memory(self) -> MemoryObject:
        return self._services.sensory.root()

    @property
    def short_term_memory(self) -> MemoryObject:
        return self._services.short_term.root()

    @property
    def long_term_memory(self) -> KeyMemory:
        memory = self._ltm
        if memory is None:
            configured = self._services.long_term_memory
            if configured is None:
                raise LongTermMemoryError(
                    "long-term memory is off: set long-term-memory.backend to 'qdrant' (with "
                    "long-term-memory.qdrant.location, ':memory:' by default) in the agent "
                    "configuration"
                )
            self._services.mailbox.check("long_term_memory")
            memory = self._ltm = configured.for_key(self.key)
        return memory

    @property
    def agent_metric_group(self) -> MetricGroup:
        return self._services.metrics.agent_group

    @property
    def action_metric_group(self) -> MetricGroup:
        return self._group

    def durable_execute(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        return self._durable("durable_execute").execute(fn, args, kwargs)

    def durable_execute_async(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        submit: Submit | None = None,
    ) -> asyncio.Future[Any]:
        return self._durable("durable_execute_async").execute_async(fn, args, kwargs, submit)

    def get_resource(self, name: str, resource_type: ResourceType) -> Any:
        return self._services.resources.get(name, resource_type)

    @property
    def config(self) -> AgentConfig:
        return self._services.config

    @property
    def action_config(self) -> Mapping[str, Any]:
        return self.spec.config

    def _durable(self, operation: str) -> DurableSession:
        session = self._session
        if session is None:
            s = self._services
            s.mailbox.check(operation)
            name = self.spec.name
            session = self._session = DurableSession(
                s.journals.open(name, self._identify, self._restored),
                name,
                self.key,
                self._identify,
                s.mismatch_mode,
                s.executor,
                s.mailbox,
                s.stats,
                self._loop,
            )
        return session  # its calls check the mailbox thread themselves

    # -- lifecycle (the operator's side) ------------------------------------------------------

    @property
    def status(self) -> Status:
        return self._status

    @property
    def fatal(self) -> DurabilityError | None:
        """The journal failure this execution met, if any (it fails the job)."""
        return None if self._session is None else self._session.fatal

    def start(self) -> bool:
        """Run the action until it finishes (True: :meth:`commit` next) or waits (False:
        :meth:`park` next, before any other execution runs).

        Raises:
            ActionExecutionError: the action raised (policy ``fail``); nothing was committed.
            DurabilityError: the journal failed.
        """
        if self._status is not _NEW:
            self._expect(Status.NEW, "start")
        self._status = _RUNNING
        if self._loop is not None or self._restored:
            return self._step(first=True)
        # A synchronous action: it finishes (or raises) right here.
        token = _set_group(self._group)
        try:
            self._body(self)
        except BaseException as e:
            return self._failed(e)
        finally:
            _reset_group(token)
        self._status = _DONE
        return True

    def resume(self) -> bool:
        """Go on after a wait: deliver the outcomes of finished calls, expire timed-out ones, run
        the action as far as it goes. Returns and raises as :meth:`start`."""
        parked = self._parked
        if parked is not None:
            s = self._services
            s.sensory.store.put_back(parked.sensory)
            s.short_term.store.put_back(parked.short_term)
            self._parked = None
            self._status = Status.WAITING
        self._expect(Status.WAITING, "resume")
        self._status = Status.RUNNING
        return self._step(first=False)

    def _step(self, first: bool) -> bool:
        token = current_action_metric_group.set(self._group)
        try:
            if first:
                if self._restored:
                    # Its journal must be cleared on commit, even if no call is made this time.
                    self._durable("start")
                result = self._body(self)
                if self._loop is None:
                    self._status = _DONE
                    return True
                self._task = self._loop.create_task(result)
            else:
                # Take every outcome waiting for the key: those of an earlier execution (a call
                # that timed out, or was never awaited) are dropped, or they would keep the key
                # looking ready.
                completions = self._services.executor.take(self.key)
                session = self._session
                if session is not None:
                    for completion in completions:
                        if completion.session == session.token:
                            session.apply(completion)
                    session.expire(time.monotonic())
            return self._run_loop()
        except BaseException as e:
            return self._failed(e)
        finally:
            current_action_metric_group.reset(token)

    def _run_loop(self) -> bool:
        loop, task = self._loop, self._task
        if loop is None or task is None:
            raise OperatorStateError(f"action '{self.spec.name}' resumed without a coroutine")
        loop.run_ready()
        if task.done():
            task.result()  # the action's own exception, if it raised
            self._status = Status.DONE
            return True
        waiting = self._session is not None and self._session.waiting
        if not waiting and loop.next_timer_at() is None:
            raise UnsupportedAwaitError(
                f"async action '{self.spec.name}' is waiting on something that only another "
                "thread or an I/O loop could complete; await ctx.durable_execute_async(...) (or "
                "asyncio.sleep) instead",
                action=self.spec.name,
            )
        self._status = Status.WAITING
        return False

    def _failed(self, error: BaseException) -> bool:
        fatal = self.fatal
        if (
            fatal is not None
            or isinstance(error, DurabilityError)
            or not isinstance(error, Exception)
        ):
            self.abort(keep_journal=True)
            if fatal is not None and fatal is not error:
                raise fatal from error
            raise error
        if self.spec.on_failure is FailurePolicy.EMIT:
            # The run goes on without this action: its journal must not answer a later one.
            self.abort(keep_journal=False)
            self._failure = ActionFailedEvent(
                action=self.spec.name,
                event_type=self.event.type_name(),
                event_id=self.event.id,
                error_type=type(error).__name__,
                message=str(error),
                source_timestamp=self.timestamp,
            )
            self._status = Status.DONE
            return True
        # The job fails and restores its last checkpoint. The journal is kept: Flink may still
        # deliver a callback before it cancels the task, and that must replay, not call again.
        self.abort(keep_journal=True)
        raise self._error(
            f"failed on event {self.event.type_name()} (id {self.event.id}) of key "
            f"{self.key!r}: {type(error).__name__}: {str(error).rstrip('.')}. Nothing the action "
            "did was committed."
        ) from error

    def _error(self, what: str) -> ActionExecutionError:
        return ActionExecutionError(
            f"action '{self.spec.name}' {what}",
            action=self.spec.name,
            event_type=self.event.type_name(),
            event_id=self.event.id,
        )

    def park(self) -> None:
        """Set the waiting execution aside: its buffered call records go to keyed state (a
        checkpoint may follow) and its memory writes are taken out of the shared caches."""
        self._expect(Status.WAITING, "park")
        try:
            self._check_fatal()
            if self._session is not None:
                self._session.flush()
        except BaseException:
            self.abort(keep_journal=True)
            raise
        s = self._services
        self._parked = ParkedWrites(s.sensory.store.take_writes(), s.short_term.store.take_writes())
        self._status = Status.PARKED

    def commit(self) -> ActionOutcome:
        """Commit a finished execution: flush its memory writes, drop its journal, hand back its
        events (or, after a failure routed by ``on_failure="emit"``, the ActionFailedEvent).

        Raises:
            DurabilityError: the journal failed during the action (nothing is committed).
            ActionExecutionError: writing the action's memory to state failed.
        """
        if self._status is not _DONE:
            self._expect(Status.DONE, "commit")
        if self._failure is not None:
            self._status = Status.COMMITTED
            return ActionOutcome([self._failure], False)
        s = self._services
        session = self._session
        try:
            if session is not None and session.fatal is not None:
                raise session.fatal
            wrote_sensory = s.sensory.store.flush_writes()
            s.short_term.store.flush_writes()
        except DurabilityError:
            self.abort(keep_journal=True)
            raise
        except Exception as e:
            self.abort(keep_journal=True)
            raise self._error(
                f"finished, but writing its memory to state failed: {type(e).__name__}: {e}"
            ) from e
        if session is not None:
            session.close(keep_journal=False)
        if self._loop is not None:
            self._close_loop()
        events, self._events = self._events, []
        timestamp = self.timestamp
        if timestamp is not None:
            for event in events:
                if event.source_timestamp is None:
                    event.source_timestamp = timestamp
        self._tally.pending += 1
        self._status = _COMMITTED
        return _outcome((events, wrote_sensory))

    def abort(self, keep_journal: bool) -> None:
        """Drop everything the execution did: memory writes, events, in-flight calls, and (unless
        ``keep_journal``) its journal. Its key must be current unless it is parked."""
        if self._status in (Status.COMMITTED, Status.ABORTED):
            return
        active = self._status is not Status.PARKED
        self._status = Status.ABORTED
        self._parked = None
        self._events = []
        if self._session is not None:
            self._session.close(keep_journal)
        self._close_loop()
        if active:  # its writes (and cached reads, which may show them) are in the shared caches
            s = self._services
            s.sensory.store.discard()
            s.short_term.store.discard()

    def _close_loop(self) -> None:
        loop, task = self._loop, self._task
        if loop is None:
            return
        if task is not None and not task.done():
            task.cancel()
            loop.run_ready()
        loop.close()

    def _check_fatal(self) -> None:
        fatal = self.fatal
        if fatal is not None:
            raise fatal

    def _expect(self, status: Status, operation: str) -> None:
        if self._status is not status:
            raise OperatorStateError(
                f"{operation}() on the execution of action '{self.spec.name}' in state "
                f"{self._status.value}, expected {status.value}"
            )

    # -- scheduling -----------------------------------------------------------------------------

    def next_due(self) -> float | None:
        """Monotonic time of the earliest call timeout or loop timer (``asyncio.sleep``), if any."""
        times = [
            self._session.next_deadline() if self._session is not None else None,
            self._loop.next_timer_at() if self._loop is not None else None,
        ]
        due = [t for t in times if t is not None]
        return min(due) if due else None

    def has_news(self, now: float) -> bool:
        """Whether resuming now would get anywhere: a call finished, or a timeout or timer is
        due."""
        if self._services.executor.has_completions(self.key):
            return True
        due = self.next_due()
        return due is not None and due <= now
