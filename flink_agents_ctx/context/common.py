"""The runner-context implementation shared by every action language."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from flink_agents_ctx.agent import ActionSpec
from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.context.base import RunnerContext
from flink_agents_ctx.durable.executor import CallExecutor
from flink_agents_ctx.durable.session import DurableSession
from flink_agents_ctx.durable.step_loop import StepLoop
from flink_agents_ctx.errors import OperatorStateError
from flink_agents_ctx.events import Event
from flink_agents_ctx.mailbox import Mailbox
from flink_agents_ctx.memory.memory_object import MemoryObject, MemoryTree
from flink_agents_ctx.memory.updates import MemoryUpdate
from flink_agents_ctx.metrics.builtin import BuiltinMetrics
from flink_agents_ctx.metrics.group import MetricGroup
from flink_agents_ctx.resources.registry import ResourceRegistry
from flink_agents_ctx.types import ResourceType

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class ContextServices:
    """The per-operator collaborators every runner context is built from."""

    mailbox: Mailbox
    sensory: MemoryTree
    short_term: MemoryTree
    agent_metrics: MetricGroup
    builtin_metrics: BuiltinMetrics
    resources: ResourceRegistry
    config: AgentConfig
    executor: CallExecutor
    long_term_memory: Any = None


_Stash = tuple[dict[str, Any], set[str]]


@dataclass(eq=False)
class ActionFrame:
    """One action execution: what the context needs while it runs, and keeps while it waits.

    An action that suspends on an async call parks its unflushed memory writes, update log and
    sent events here, so the next key's actions start from clean caches; they are put back when the
    action resumes and committed together when it finishes.
    """

    spec: ActionSpec
    event: Event
    key: Hashable
    timestamp: int | None
    # Builds the frame's durable session; most actions make no durable call, so it is built on
    # first use (see ``session``).
    new_session: Callable[[], DurableSession]
    pending: list[Event] = field(default_factory=list)
    parked: tuple[_Stash, _Stash, list[MemoryUpdate], list[MemoryUpdate]] | None = None
    loop: StepLoop | None = None
    task: asyncio.Task[Any] | None = None
    _session: DurableSession | None = None

    @property
    def session(self) -> DurableSession:
        """The frame's durable-call session (built on first use)."""
        return self.open_session()

    def open_session(self) -> DurableSession:
        if self._session is None:
            self._session = self.new_session()
        return self._session

    @property
    def has_session(self) -> bool:
        return self._session is not None

    def next_due(self) -> float | None:
        """Monotonic time of the frame's earliest call timeout or loop timer, if any."""
        times = [
            self._session and self._session.next_deadline(),
            self.loop and self.loop.next_timer_at(),
        ]
        due = [t for t in times if t]
        return min(due) if due else None


@dataclass(frozen=True)
class ActionOutcome:
    """What a finished action committed."""

    events: list[Event]
    updates: list[MemoryUpdate]
    wrote_sensory: bool


class BaseRunnerContext(RunnerContext):
    """Common implementation; subclasses add what is specific to a language."""

    def __init__(self, services: ContextServices) -> None:
        self._s = services
        self._mailbox = services.mailbox
        self._frame: ActionFrame | None = None
        self._action: ActionSpec | None = None
        self._action_group: MetricGroup = services.agent_metrics
        self._key: Hashable = None
        self._timestamp: int | None = None
        self._pending: list[Event] = []
        self._sensory_root = services.sensory.root()
        self._short_term_root = services.short_term.root()

    # -- per-action switching (operator side) ------------------------------------------------

    def begin(self, frame: ActionFrame) -> None:
        """Switch the context to ``frame`` (a new action execution, or one resuming)."""
        self.check_no_pending_events()
        self._frame = frame
        self._action = frame.spec
        self._key = frame.key
        self._timestamp = frame.timestamp
        self._pending = frame.pending
        self._action_group = self._s.builtin_metrics.action_group(frame.spec.name)
        if frame.parked is not None:
            sensory, short_term = self._s.sensory, self._s.short_term
            sensory_cache, short_term_cache, sensory_updates, short_term_updates = frame.parked
            sensory.store.attach(sensory_cache)
            short_term.store.attach(short_term_cache)
            sensory.updates.extend(sensory_updates)
            short_term.updates.extend(short_term_updates)
            frame.parked = None

    def park(self) -> None:
        """The action waits: move its unflushed writes and events into its frame."""
        frame = self._frame
        if frame is None:
            raise OperatorStateError("park() without an action in progress")
        sensory, short_term = self._s.sensory, self._s.short_term
        frame.parked = (
            sensory.store.detach(),
            short_term.store.detach(),
            list(sensory.updates),
            list(short_term.updates),
        )
        sensory.updates.clear()
        short_term.updates.clear()
        self._release()

    def finish(self) -> ActionOutcome:
        """Commit the action: flush memory writes, hand back its events stamped with the input's
        timestamp."""
        sensory, short_term = self._s.sensory, self._s.short_term
        wrote_sensory = sensory.store.has_changes
        sensory.store.persist_cache()
        short_term.store.persist_cache()
        updates = [*sensory.updates, *short_term.updates]
        sensory.updates.clear()
        short_term.updates.clear()
        events = self.drain_events(self._timestamp)
        self._release()
        return ActionOutcome(events, updates, wrote_sensory)

    def abort(self) -> None:
        """Drop everything the failed action did."""
        for tree in (self._s.sensory, self._s.short_term):
            tree.store.discard()
            tree.updates.clear()
        self._pending.clear()
        self._release()

    def _release(self) -> None:
        self._frame = None
        self._action = None
        self._pending = []

    def drain_events(self, timestamp: int | None) -> list[Event]:
        """Take the pending events, stamping ``timestamp`` on those that have none."""
        events = list(self._pending)
        self._pending.clear()
        for event in events:
            if event.source_timestamp is None:
                event.source_timestamp = timestamp
        return events

    def check_no_pending_events(self) -> None:
        if self._pending:
            raise OperatorStateError(
                f"{len(self._pending)} event(s) of a previous action were never drained"
            )

    def _session(self, operation: str) -> DurableSession:
        self._mailbox.check(operation)
        if self._frame is None:
            raise OperatorStateError(f"{operation} called with no action in progress")
        return self._frame.session

    # -- RunnerContext -----------------------------------------------------------------------

    @property
    def key(self) -> Hashable:
        return self._key

    def send_event(self, event: Event) -> None:
        self._mailbox.check("send_event")
        self._validate_event(event)
        self._pending.append(event)

    def _validate_event(self, event: Event) -> None:
        """Hook for languages that restrict what events may carry."""

    @property
    def sensory_memory(self) -> MemoryObject:
        self._mailbox.check("sensory_memory")
        return self._sensory_root

    @property
    def short_term_memory(self) -> MemoryObject:
        self._mailbox.check("short_term_memory")
        return self._short_term_root

    @property
    def long_term_memory(self) -> Any | None:
        return self._s.long_term_memory

    @property
    def agent_metric_group(self) -> MetricGroup:
        return self._s.agent_metrics

    @property
    def action_metric_group(self) -> MetricGroup:
        return self._action_group

    def durable_execute(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return self._session("durable_execute").execute(fn, args, kwargs)

    def durable_execute_async(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Awaitable[Any]:
        return self._session("durable_execute_async").execute_async(fn, args, kwargs)

    def get_resource(self, name: str, resource_type: ResourceType) -> Any:
        return self._s.resources.get(name, resource_type)

    @property
    def config(self) -> AgentConfig:
        return self._s.config

    @property
    def action_config(self) -> Mapping[str, Any]:
        return self._action.config if self._action is not None else _EMPTY

    def get_action_config_value(self, key: str) -> Any:
        return self.action_config.get(key)

    def close(self) -> None:
        self._pending.clear()
