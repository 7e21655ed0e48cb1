"""flink_agents_ctx: event-driven AI agents as a PyFlink operator.

Layers (a module imports only from its own layer or below; ``tests/unit/test_layers.py`` checks it)::

    testing                                      harness over the operator core
    operator                                     OperatorCore, Flink adapter, pipeline wiring
    context                                      runner contexts (Python; Java later)
    memory, durable, metrics, resources          what contexts are made of (durable: journaled calls)
    backends                                     keyed state and metric seams, in-memory and Flink
    errors, types, config, events, agent, mailbox

PyFlink is imported only by ``backends.flink_state`` and ``operator`` modules that touch Flink;
``AgentsExecutionEnvironment`` is loaded lazily so harness-only users do not import PyFlink.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flink_agents_ctx.agent import Agent, action
from flink_agents_ctx.config import AgentConfig, ConfigOption
from flink_agents_ctx.context.base import RunnerContext
from flink_agents_ctx.durable.options import (
    CallInfo,
    DurableFunction,
    RetryPolicy,
    current_call,
    durable,
)
from flink_agents_ctx.errors import (
    ActionExecutionError,
    ActionStateStoreError,
    AgentDefinitionError,
    ConfigError,
    DurableCallError,
    DurableCallTimeoutError,
    DurableScopeError,
    EventSerializationError,
    FlinkAgentsError,
    JournalEncodingError,
    JournalMissError,
    MailboxThreadError,
    MemoryPathError,
    MemoryValueError,
    MetricNameError,
    NonCanonicalArgumentError,
    NonDeterministicReplayError,
    UnknownResourceError,
    UnsupportedAwaitError,
)
from flink_agents_ctx.events import ActionFailedEvent, Event, InputEvent, OutputEvent
from flink_agents_ctx.memory.memory_object import NESTED_OBJECT, MemoryObject
from flink_agents_ctx.metrics.group import Gauge, Histogram, MetricGroup
from flink_agents_ctx.resources.registry import ResourceContext
from flink_agents_ctx.types import MemoryRef, MemoryType, ResourceType

if TYPE_CHECKING:
    from flink_agents_ctx.operator._compat import stop_with_savepoint, trigger_savepoint
    from flink_agents_ctx.operator.pipeline import AgentsExecutionEnvironment

__all__ = [
    "NESTED_OBJECT",
    "ActionExecutionError",
    "ActionFailedEvent",
    "ActionStateStoreError",
    "Agent",
    "AgentConfig",
    "AgentDefinitionError",
    "AgentsExecutionEnvironment",
    "CallInfo",
    "ConfigError",
    "ConfigOption",
    "DurableCallError",
    "DurableCallTimeoutError",
    "DurableFunction",
    "DurableScopeError",
    "Event",
    "EventSerializationError",
    "FlinkAgentsError",
    "Gauge",
    "Histogram",
    "InputEvent",
    "JournalEncodingError",
    "JournalMissError",
    "MailboxThreadError",
    "MemoryObject",
    "MemoryPathError",
    "MemoryRef",
    "MemoryType",
    "MemoryValueError",
    "MetricGroup",
    "MetricNameError",
    "NonCanonicalArgumentError",
    "NonDeterministicReplayError",
    "OutputEvent",
    "ResourceContext",
    "ResourceType",
    "RetryPolicy",
    "RunnerContext",
    "UnknownResourceError",
    "UnsupportedAwaitError",
    "action",
    "current_call",
    "durable",
    "stop_with_savepoint",
    "trigger_savepoint",
]


def __getattr__(name: str) -> Any:
    if name == "AgentsExecutionEnvironment":
        from flink_agents_ctx.operator.pipeline import AgentsExecutionEnvironment

        return AgentsExecutionEnvironment
    if name in ("stop_with_savepoint", "trigger_savepoint"):
        from flink_agents_ctx.operator import _compat

        return getattr(_compat, name)
    raise AttributeError(f"module 'flink_agents_ctx' has no attribute {name!r}")
