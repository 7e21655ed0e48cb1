"""The runner-context implementation shared by every action language."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flink_agents_ctx.agent import ActionSpec
from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.context.base import RunnerContext
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
    long_term_memory: Any = None


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
        self._action: ActionSpec | None = None
        self._action_group: MetricGroup = services.agent_metrics
        self._key: Hashable = None
        self._timestamp: int | None = None
        self._pending: list[Event] = []
        self._sensory_root = services.sensory.root()
        self._short_term_root = services.short_term.root()

    # -- per-action switching (operator side) ------------------------------------------------

    def begin(self, action: ActionSpec, key: Hashable, timestamp: int | None) -> None:
        """Switch the context to ``action`` processing an input of ``key``."""
        self.check_no_pending_events()
        self._action = action
        self._key = key
        self._timestamp = timestamp
        self._action_group = self._s.builtin_metrics.action_group(action.name)

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
        self._action = None
        return ActionOutcome(events, updates, wrote_sensory)

    def abort(self) -> None:
        """Drop everything the failed action did."""
        for tree in (self._s.sensory, self._s.short_term):
            tree.store.discard()
            tree.updates.clear()
        self._pending.clear()
        self._action = None

    def drain_events(self, timestamp: int | None) -> list[Event]:
        """Take the pending events, stamping ``timestamp`` on those that have none."""
        events, self._pending = self._pending, []
        for event in events:
            if event.source_timestamp is None:
                event.source_timestamp = timestamp
        return events

    def check_no_pending_events(self) -> None:
        if self._pending:
            raise OperatorStateError(
                f"{len(self._pending)} event(s) of a previous action were never drained"
            )

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
