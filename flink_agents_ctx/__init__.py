"""flink_agents_ctx: event-driven AI agents as a PyFlink operator.

Layers (a module imports only from its own layer or below; ``tests/unit/test_layers.py`` checks it)::

    cli            the flink-agents-ctx command (run with progress, doctor, local cluster, submit,
                   savepoints)
    testing        the harness, the probe it reads through, in-memory fakes of the storage ports
    operator       OperatorCore (schedules runs), wiring, the probe, progress files, the Flink
                   adapter, pipeline
    context        runner contexts: one API per language over an action execution (Python, and
                   Java through the bridge's endpoint and its pemja runtime)
    execution      ActionExecution: one action execution from start to commit or abort
    action_state   the write-ahead store: port, store journal, SQL adapters, pruning, addresses
    memory, durable, metrics, resources, long_term, event_log
                   memory trees; durable calls (identity, codecs, records, the journal port and its
                   keyed implementation, sessions, the worker pool, the step loop); metrics;
                   resources and chat models; long-term memory on a vector store; the optional
                   structured event log
    backends       keyed-state and metric seams, and their PyFlink implementation
    errors, types, config, events, agent, mailbox, values, state_layout, wire, jdk, bridge_jar,
    run_settings   definitions: typed errors, records, the configuration table, events, agents,
                   the mailbox rule, valid values, every keyed state's name and format, the Java
                   bridge's wire format, the JDK choice, building the bridge jar, what
                   ``flink-agents-ctx run`` hands the job it starts

PyFlink is imported only by ``backends.flink_state`` and ``operator`` modules that touch Flink;
``AgentsExecutionEnvironment`` is loaded lazily so harness-only users do not import PyFlink.
Configuration options are defined by the package of their concept and registered in the one
configuration table; the imports below register them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import flink_agents_ctx.action_state.options
import flink_agents_ctx.event_log.options
import flink_agents_ctx.long_term.options  # noqa: F401  (registers long-term memory's options)
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
    JavaActionError,
    JavaBridgeError,
    JavaCallError,
    JournalDecodingError,
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
    WireFormatError,
)
from flink_agents_ctx.events import ActionFailedEvent, Event, InputEvent, OutputEvent
from flink_agents_ctx.memory.memory_object import NESTED_OBJECT, MemoryObject
from flink_agents_ctx.metrics.group import Gauge, Histogram, MetricGroup
from flink_agents_ctx.resources.registry import ResourceContext
from flink_agents_ctx.run_settings import output_dir
from flink_agents_ctx.types import MemoryRef, MemoryType, ResourceType

if TYPE_CHECKING:
    from flink_agents_ctx.bridge_jar import bridge_jar
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
    "JavaActionError",
    "JavaBridgeError",
    "JavaCallError",
    "JournalDecodingError",
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
    "WireFormatError",
    "action",
    "bridge_jar",
    "current_call",
    "durable",
    "output_dir",
    "stop_with_savepoint",
    "trigger_savepoint",
]


def __getattr__(name: str) -> Any:
    if name == "AgentsExecutionEnvironment":
        from flink_agents_ctx.operator.pipeline import AgentsExecutionEnvironment

        return AgentsExecutionEnvironment
    if name == "bridge_jar":  # lazily, so ``python -m flink_agents_ctx.bridge_jar`` runs it once
        from flink_agents_ctx.bridge_jar import bridge_jar

        return bridge_jar
    if name in ("stop_with_savepoint", "trigger_savepoint"):
        from flink_agents_ctx.operator import _compat

        return getattr(_compat, name)
    raise AttributeError(f"module 'flink_agents_ctx' has no attribute {name!r}")
