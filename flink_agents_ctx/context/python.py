"""The runner context of Python actions: the :class:`RunnerContext` API over one action execution."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any

from flink_agents_ctx.agent import ActionSpec
from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.context.base import RunnerContext
from flink_agents_ctx.events import Event, check_json_serialisable
from flink_agents_ctx.execution.action_execution import ActionBody, ActionExecution
from flink_agents_ctx.long_term.memory import KeyMemory
from flink_agents_ctx.memory.memory_object import MemoryObject
from flink_agents_ctx.metrics.group import MetricGroup
from flink_agents_ctx.types import ResourceType


class PythonRunnerContext(RunnerContext):
    """What a Python action receives: every member delegates to its :class:`ActionExecution`.

    A context is made for each action execution (it is one small object), so a coroutine that
    keeps it across ``await`` always acts for its own execution. Events must have a JSON form so
    that they can be stored and handed to actions written in other languages.
    """

    __slots__ = ("_execution",)

    def __init__(self, execution: ActionExecution) -> None:
        self._execution = execution

    @property
    def key(self) -> Hashable:
        return self._execution.key

    def send_event(self, event: Event) -> None:
        check_json_serialisable(event)
        self._execution.send_event(event)

    @property
    def sensory_memory(self) -> MemoryObject:
        return self._execution.sensory_memory

    @property
    def short_term_memory(self) -> MemoryObject:
        return self._execution.short_term_memory

    @property
    def long_term_memory(self) -> KeyMemory:
        return self._execution.long_term_memory

    @property
    def agent_metric_group(self) -> MetricGroup:
        return self._execution.agent_metric_group

    @property
    def action_metric_group(self) -> MetricGroup:
        return self._execution.action_metric_group

    def durable_execute(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return self._execution.durable_execute(fn, args, kwargs)

    def durable_execute_async(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Awaitable[Any]:
        return self._execution.durable_execute_async(fn, args, kwargs)

    def get_resource(self, name: str, resource_type: ResourceType) -> Any:
        return self._execution.get_resource(name, resource_type)

    @property
    def config(self) -> AgentConfig:
        return self._execution.config

    @property
    def action_config(self) -> Mapping[str, Any]:
        return self._execution.action_config

    def get_action_config_value(self, key: str) -> Any:
        return self._execution.action_config.get(key)

    def close(self) -> None:
        """Nothing to release: the execution owns what the action did."""


class _PythonBody:
    """Runs a Python action: ``func(event, ctx)`` with a context over the execution."""

    __slots__ = ("_func", "is_async")

    def __init__(self, spec: ActionSpec) -> None:
        self._func = spec.func
        self.is_async = spec.is_async

    def __call__(self, execution: ActionExecution) -> Any:
        return self._func(execution.event, PythonRunnerContext(execution))


def python_body(spec: ActionSpec) -> ActionBody:
    """The body of a Python action."""
    return _PythonBody(spec)
