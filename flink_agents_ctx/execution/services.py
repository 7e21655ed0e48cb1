"""The per-operator collaborators every action execution is built from."""

from __future__ import annotations

from dataclasses import dataclass

from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.durable.execution_ref import DurableStats
from flink_agents_ctx.durable.executor import CallExecutor
from flink_agents_ctx.durable.journal import JournalOpener
from flink_agents_ctx.durable.options import MismatchMode
from flink_agents_ctx.long_term.memory import LongTermMemory
from flink_agents_ctx.mailbox import Mailbox
from flink_agents_ctx.memory.memory_object import MemoryTree
from flink_agents_ctx.metrics.builtin import BuiltinMetrics
from flink_agents_ctx.resources.registry import ResourceRegistry


@dataclass(frozen=True, eq=False)
class ExecutionServices:
    """What one operator instance gives each of its action executions (built once, by
    :mod:`flink_agents_ctx.operator.wiring`).

    Attributes:
        mailbox: the task-thread rule every agent operation checks.
        sensory, short_term: the two memories of the current key.
        metrics: built-in metrics and the agent and per-action metric groups.
        resources: the agent's lazily built resources.
        config: the agent configuration.
        executor: the worker pool of async durable calls.
        journals: opens an execution's call journal (keyed state, or keyed state plus the
            write-ahead store).
        mismatch_mode: what a replayed call that differs from its record does.
        stats: durable-call counts (reported as metrics).
        long_term_memory: long-term memory, when ``long-term-memory.backend`` is set.
    """

    mailbox: Mailbox
    sensory: MemoryTree
    short_term: MemoryTree
    metrics: BuiltinMetrics
    resources: ResourceRegistry
    config: AgentConfig
    executor: CallExecutor
    journals: JournalOpener
    mismatch_mode: MismatchMode
    stats: DurableStats
    long_term_memory: LongTermMemory | None = None
