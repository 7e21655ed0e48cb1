"""The runner-context interface actions program against."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any

from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.events import Event
from flink_agents_ctx.long_term.memory import KeyMemory
from flink_agents_ctx.memory.memory_object import MemoryObject
from flink_agents_ctx.metrics.group import MetricGroup
from flink_agents_ctx.types import ResourceType


class RunnerContext(ABC):
    """Everything an action can do besides computing: send events, use memory, resources, metrics.

    A context acts for one action execution; keep no reference to it beyond the action call.
    """

    @property
    @abstractmethod
    def key(self) -> Hashable:
        """The key of the input being processed."""

    @abstractmethod
    def send_event(self, event: Event) -> None:
        """Send an event. It takes effect when the action finishes successfully:
        an :class:`~flink_agents_ctx.OutputEvent` leaves the operator, any other event triggers the
        actions listening to its type."""

    @property
    @abstractmethod
    def sensory_memory(self) -> MemoryObject:
        """Memory of the current run (one input and the events it causes)."""

    @property
    @abstractmethod
    def short_term_memory(self) -> MemoryObject:
        """Memory of the key that lasts across runs."""

    @property
    @abstractmethod
    def long_term_memory(self) -> KeyMemory:
        """The key's long-term memory sets (searchable by meaning, in Qdrant).

        Raises:
            LongTermMemoryError: ``long-term-memory.backend`` is not set.
        """

    @property
    @abstractmethod
    def agent_metric_group(self) -> MetricGroup:
        """Metrics of the whole agent operator."""

    @property
    @abstractmethod
    def action_metric_group(self) -> MetricGroup:
        """Metrics of the running action (key-value group ``action=<name>``)."""

    @abstractmethod
    def durable_execute(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)`` on the task thread, record its result or exception, and
        return or raise it. On a replay of this action the recorded outcome is returned without
        calling ``fn`` again.

        ``fn`` may be a :func:`~flink_agents_ctx.durable` function carrying an explicit call id,
        retry policy, timeout, reconciler or codec. It must not use agent memory, events or
        resources (:class:`~flink_agents_ctx.DurableScopeError`).
        """

    @abstractmethod
    def durable_execute_async(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Awaitable[Any]:
        """Like :meth:`durable_execute`, but ``fn`` runs on a worker thread
        (``num-async-threads``) while the operator serves other keys. Await the result in an
        ``async def`` action; several calls may run together under ``asyncio.gather``.
        """

    @abstractmethod
    def get_resource(self, name: str, resource_type: ResourceType) -> Any:
        """A declared resource, built on first use."""

    @property
    @abstractmethod
    def config(self) -> AgentConfig:
        """The agent configuration."""

    @property
    @abstractmethod
    def action_config(self) -> Mapping[str, Any]:
        """The running action's own settings (empty when it has none)."""

    @abstractmethod
    def get_action_config_value(self, key: str) -> Any:
        """One of the running action's settings, or ``None``."""

    @abstractmethod
    def close(self) -> None:
        """Release what the context holds."""
