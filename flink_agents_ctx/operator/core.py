"""``OperatorCore``: runs an agent for one key's input, on whatever keyed state it is given.

A *run* starts with an :class:`InputEvent` for the input record and ends when no event of it is left
to process. Each event is handed to the actions listening to its type, in declaration order; each
action step gets the runner context of its language, and commits when it returns: memory writes are
flushed, events it sent are queued (outputs are emitted at that moment). An action that raises
commits nothing. Sensory memory is cleared when the run ends.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Coroutine, Hashable
from typing import Any

from flink_agents_ctx.agent import ActionSpec, AgentPlan
from flink_agents_ctx.backends.protocols import KeyedStateBackend, MetricBackend, StateTtl
from flink_agents_ctx.config import (
    SHORT_TERM_MEMORY_TTL_MS,
    SHORT_TERM_MEMORY_TTL_UPDATE_TYPE,
    SHORT_TERM_MEMORY_TTL_VISIBILITY,
    AgentConfig,
)
from flink_agents_ctx.context.common import BaseRunnerContext, ContextServices
from flink_agents_ctx.context.kinds import context_factories
from flink_agents_ctx.errors import ActionExecutionError, UnsupportedAwaitError
from flink_agents_ctx.events import Event, InputEvent, OutputEvent
from flink_agents_ctx.mailbox import Mailbox
from flink_agents_ctx.memory.memory_object import MemoryTree
from flink_agents_ctx.memory.store import CachedMemoryStore
from flink_agents_ctx.metrics.builtin import BuiltinMetrics
from flink_agents_ctx.metrics.group import MetricGroup
from flink_agents_ctx.resources.registry import ResourceRegistry, current_action_metric_group
from flink_agents_ctx.types import MemoryType

_log = logging.getLogger(__name__)

SENSORY_STATE = "flink-agents.sensory-memory"
SHORT_TERM_STATE = "flink-agents.short-term-memory"


def short_term_ttl(config: AgentConfig) -> StateTtl | None:
    """The short-term memory TTL the configuration asks for, if any."""
    ttl_ms = config.get(SHORT_TERM_MEMORY_TTL_MS)
    if ttl_ms is None:
        return None
    return StateTtl(
        ttl_ms,
        config.get(SHORT_TERM_MEMORY_TTL_UPDATE_TYPE) or "OnCreateAndWrite",
        config.get(SHORT_TERM_MEMORY_TTL_VISIBILITY) or "NeverReturnExpired",
    )


class OperatorCore:
    """The agent operator's logic, independent of Flink."""

    def __init__(
        self,
        plan: AgentPlan,
        state: KeyedStateBackend,
        metrics: MetricBackend,
        config: AgentConfig,
    ) -> None:
        self._plan = plan
        self.mailbox = Mailbox()
        ttl = short_term_ttl(config)
        self.sensory = MemoryTree(
            CachedMemoryStore(state.map_state(SENSORY_STATE)), MemoryType.SENSORY, self.mailbox
        )
        self.short_term = MemoryTree(
            CachedMemoryStore(state.map_state(SHORT_TERM_STATE, ttl)),
            MemoryType.SHORT_TERM,
            self.mailbox,
            validate_ancestors=ttl is not None,
        )
        for tree in (self.sensory, self.short_term):
            tree.peers[MemoryType.SENSORY] = self.sensory
            tree.peers[MemoryType.SHORT_TERM] = self.short_term
        agent_group = MetricGroup(metrics)
        self.metrics = BuiltinMetrics(agent_group)
        self._resources = ResourceRegistry(plan.resources, config, agent_group, self.mailbox)
        services = ContextServices(
            mailbox=self.mailbox,
            sensory=self.sensory,
            short_term=self.short_term,
            agent_metrics=agent_group,
            builtin_metrics=self.metrics,
            resources=self._resources,
            config=config,
        )
        factories = context_factories()
        self._contexts: dict[Any, BaseRunnerContext] = {}
        for spec in plan.actions:
            if spec.kind not in self._contexts:
                self._contexts[spec.kind] = factories[spec.kind](services)

    def process_input(self, key: Hashable, value: Any, timestamp: int | None) -> list[Any]:
        """Run the agent for one input of ``key`` (the current key of the state backend) and
        return the outputs, in emission order."""
        self.mailbox.enter()
        outputs: list[Any] = []
        wrote_sensory = False
        queue: deque[Event] = deque((InputEvent(input=value, source_timestamp=timestamp),))
        try:
            while queue:
                event = queue.popleft()
                self.metrics.event_processed()
                for spec in self._plan.actions_for(type(event)):
                    sent, wrote = self._execute(spec, event, key, timestamp)
                    wrote_sensory |= wrote
                    for e in sent:
                        if isinstance(e, OutputEvent):
                            outputs.append(e.output)
                        queue.append(e)
        finally:
            if wrote_sensory:
                self.sensory.store.clear()
            self.metrics.maybe_flush()
        return outputs

    def _execute(
        self, spec: ActionSpec, event: Event, key: Hashable, timestamp: int | None
    ) -> tuple[list[Event], bool]:
        ctx = self._contexts[spec.kind]
        ctx.begin(spec, key, timestamp)
        token = current_action_metric_group.set(ctx.action_metric_group)
        try:
            result = spec.func(event, ctx)
            if spec.is_async:
                _run_to_completion(spec, result)
            # Inside the try: a state write failing while the action commits must surface as this
            # action's failure and leave no cached writes or events behind for the next key. Writes
            # that reached Flink state before the failure are undone by the restore that follows.
            outcome = ctx.finish()
        except BaseException as e:
            ctx.abort()
            if not isinstance(e, Exception):
                raise
            raise ActionExecutionError(
                f"action '{spec.name}' failed on event {event.type_name()} (id {event.id}) "
                f"of key {key!r}: {type(e).__name__}: {str(e).rstrip('.')}. Nothing the action did "
                "was committed.",
                action=spec.name,
                event_type=event.type_name(),
                event_id=event.id,
            ) from e
        finally:
            current_action_metric_group.reset(token)
        self.metrics.action_executed(spec.name)
        return outcome.events, outcome.wrote_sensory

    def memory_snapshot(self, memory_type: MemoryType) -> dict[str, Any]:
        """The current key's memory as nested dicts (for tests and debugging)."""
        self.mailbox.enter()
        tree = self.sensory if memory_type is MemoryType.SENSORY else self.short_term
        try:
            return tree.to_dict()
        finally:
            # The cache belongs to one key; never let reads leak into the next key's actions.
            tree.store.discard()

    def close(self) -> None:
        self.metrics.flush()
        for ctx in self._contexts.values():
            ctx.close()
        self._resources.close()


def _run_to_completion(spec: ActionSpec, coroutine: Coroutine[Any, Any, Any]) -> None:
    """Drive an ``async def`` action that never suspends; refuse one that does."""
    try:
        awaited = coroutine.send(None)
    except StopIteration:
        return
    coroutine.close()
    raise UnsupportedAwaitError(
        f"async action '{spec.name}' suspended on {awaited!r}; actions run on the Flink task "
        "thread and cannot wait on outside awaitables (asyncio.sleep, network clients, ...). "
        "Call blocking code directly from the action",
        action=spec.name,
    )
