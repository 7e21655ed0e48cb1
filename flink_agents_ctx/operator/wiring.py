"""Building an operator: memory, metrics, resources, the worker pool, journals, the store.

The one place where an agent operator's collaborators are made and connected, used by the Flink
function and by the test harness alike, so both run the same operator.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from flink_agents_ctx import wire
from flink_agents_ctx.action_state import open_store
from flink_agents_ctx.action_state.journal import StoreJournals
from flink_agents_ctx.action_state.options import (
    ACTION_STATE_ALLOW_PICKLE,
    ACTION_STATE_RETENTION_MS,
    ACTION_STATE_SQLITE_BUSY_TIMEOUT_MS,
    ACTION_STATE_STORE,
    ACTION_STATE_WRITE_ATTEMPTS,
)
from flink_agents_ctx.action_state.port import ActionStateStore
from flink_agents_ctx.action_state.pruning import (
    Pruner,
    default_retention_s,
    longest_record_life_s,
)
from flink_agents_ctx.agent import AgentPlan
from flink_agents_ctx.backends.protocols import (
    KeyedStateBackend,
    KeySwitch,
    MetricBackend,
    StateTtl,
)
from flink_agents_ctx.config import (
    ASYNC_MAX_WAKE_INTERVAL_MS,
    DURABLE_KEY_TTL_MS,
    DURABLE_MISMATCH_MODE,
    JOB_IDENTIFIER,
    NUM_ASYNC_THREADS,
    SHORT_TERM_MEMORY_CACHE_KEYS,
    SHORT_TERM_MEMORY_TTL_MS,
    SHORT_TERM_MEMORY_TTL_UPDATE_TYPE,
    SHORT_TERM_MEMORY_TTL_VISIBILITY,
    SHORT_TERM_MEMORY_WRITE_BEHIND,
    AgentConfig,
)
from flink_agents_ctx.context.java import JavaRuntime, RuntimeFactory
from flink_agents_ctx.context.java_actions import JavaActions
from flink_agents_ctx.context.python import python_body
from flink_agents_ctx.durable.execution_ref import DurableStats
from flink_agents_ctx.durable.executor import CallExecutor
from flink_agents_ctx.durable.journal import JournalOpener, KeyedJournals
from flink_agents_ctx.durable.options import MismatchMode
from flink_agents_ctx.errors import ConfigError
from flink_agents_ctx.event_log import open_event_log
from flink_agents_ctx.execution.action_execution import ActionBody
from flink_agents_ctx.execution.services import ExecutionServices
from flink_agents_ctx.long_term.embedders import EmbeddingModel, HashingEmbedder
from flink_agents_ctx.long_term.memory import LongTermMemory, LongTermMemorySettings
from flink_agents_ctx.long_term.options import (
    LTM_BACKEND,
    LTM_CAPACITY,
    LTM_CAPACITY_POLICY,
    LTM_COLLECTION,
    LTM_COMPACT_COUNT,
    LTM_EMBEDDING_MODEL,
    LTM_QDRANT_API_KEY,
    LTM_QDRANT_LOCATION,
    LTM_SWEEP_INTERVAL_MS,
    LTM_TTL_MS,
)
from flink_agents_ctx.long_term.vector_store import QdrantVectorStore
from flink_agents_ctx.mailbox import Mailbox
from flink_agents_ctx.memory.memory_object import MemoryTree
from flink_agents_ctx.memory.store import CachedMemoryStore
from flink_agents_ctx.memory.write_behind import WriteBehind
from flink_agents_ctx.metrics.builtin import (
    DURABLE_CALLS_MADE,
    DURABLE_CALLS_REPLAYED,
    JOURNAL_MISMATCHES,
    BuiltinMetrics,
)
from flink_agents_ctx.metrics.group import MetricGroup
from flink_agents_ctx.operator.core import OperatorCore
from flink_agents_ctx.operator.parts import OperatorParts
from flink_agents_ctx.operator.probe import OperatorProbe
from flink_agents_ctx.operator.progress import ProgressFile
from flink_agents_ctx.operator.runs import KeyRuns
from flink_agents_ctx.operator.wakeups import Wakeups
from flink_agents_ctx.resources.registry import ResourceRegistry
from flink_agents_ctx.state_layout import ACTION_JOURNAL, SENSORY_MEMORY, SHORT_TERM_MEMORY
from flink_agents_ctx.types import ActionKind, MemoryType, ResourceType

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobFacts:
    """What the operator learns about its job from Flink (nothing, in the test harness): the job
    id (the default job identity), the checkpointing the store's retention derives from, and,
    under ``flink-agents-ctx run``, where this instance (``subtask``) writes its progress."""

    job_id: str | None = None
    checkpoint_interval_ms: int | None = None
    retained_checkpoints: int | None = None
    checkpoint_timeout_ms: int | None = None
    progress_dir: str | None = None
    subtask: int = 0
    # The operator's name (its uid): names its progress file.
    operator: str | None = None


class BuiltOperator(NamedTuple):
    core: OperatorCore
    probe: OperatorProbe


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


def build_operator(
    plan: AgentPlan,
    state: KeyedStateBackend,
    metrics: MetricBackend,
    config: AgentConfig,
    facts: JobFacts | None = None,
    store: ActionStateStore | None = None,
    java_runtime: RuntimeFactory | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> BuiltOperator:
    """An operator core for ``plan`` on ``state`` and ``metrics``, and its probe.

    Args:
        store: an action-state store to use instead of opening ``action-state.store`` (the
            caller keeps owning it).
        java_runtime: makes the Java side of the operator's Java actions (default: the bridge in
            this JVM, through pemja).
        wall_clock: epoch seconds, for long-term memory's times and for how long a key's
            numbering can be trusted without reading state (the clock of state time-to-live;
            tests pass their own).
    """
    facts = facts or JobFacts()
    key_ttl_ms = config.get(DURABLE_KEY_TTL_MS)
    keyed = KeyedJournals(state.map_state(ACTION_JOURNAL))
    journals: JournalOpener = keyed
    closers: list[Callable[[], None]] = []
    housekeeping = None
    store_url: str | None = config.get(ACTION_STATE_STORE)
    owned = store is None and bool(store_url)
    if owned:
        store = open_store(
            store_url or "",
            config.get(ACTION_STATE_WRITE_ATTEMPTS) or 5,
            config.get(ACTION_STATE_SQLITE_BUSY_TIMEOUT_MS) or 0,
        )
    if store is not None:
        journals = StoreJournals(
            keyed,
            store,
            config.get(ACTION_STATE_WRITE_ATTEMPTS) or 5,
            config.get(ACTION_STATE_ALLOW_PICKLE) is True,
        )
        retention_s = _retention_s(config, facts, key_ttl_ms)
        _log.info(
            "durable call records go to the action-state store %s (kept %.0f s)",
            store.address,
            retention_s,
        )
        pruner = Pruner(store, retention_s)
        housekeeping = pruner.maybe_prune
        closers.append(pruner.close)
        if owned:
            closers.append(store.close)
    services = build_services(plan, state, metrics, config, journals, wall_clock)
    ltm = services.long_term_memory
    if ltm is not None and ltm.settings.ttl_ms is not None:
        housekeeping = _in_turn(housekeeping, ltm.maybe_sweep)
    bodies: dict[str, ActionBody] = {}
    java: JavaActions | None = None
    for spec in plan.actions:
        if spec.kind is ActionKind.JAVA:
            if java is None:
                java = JavaActions(services, plan, java_runtime or _pemja_runtime)
                closers.insert(0, java.close)
            bodies[spec.name] = java.body(spec)
        else:
            bodies[spec.name] = python_body(spec)
    key_switch = state.key_switch()
    parts = OperatorParts(
        plan=plan,
        services=services,
        runs=KeyRuns(
            state,
            None if key_ttl_ms is None else StateTtl(key_ttl_ms),
            wire.EventTypes(plan.event_classes),
            configured_job=config.get(JOB_IDENTIFIER),
            default_job=facts.job_id or plan.name,
            legacy_job=plan.name,
            ttl_clock=wall_clock,
        ),
        journals=keyed,
        key_switch=key_switch,
        wakeups=Wakeups(key_switch is not None, config.get(ASYNC_MAX_WAKE_INTERVAL_MS) or 20),
        bodies=bodies,
        housekeeping=housekeeping,
        closers=tuple(closers),
        event_log=open_event_log(config, plan.name, facts.subtask),
        progress=(
            ProgressFile(Path(facts.progress_dir), f"{facts.operator or plan.name}-{facts.subtask}")
            if facts.progress_dir
            else None
        ),
        defer_writes=_write_behind(services, key_switch, config),
    )
    return BuiltOperator(OperatorCore(parts), OperatorProbe(parts, store))


def _write_behind(
    services: ExecutionServices, switch: KeySwitch | None, config: AgentConfig
) -> Callable[[], WriteBehind] | None:
    """What starts holding short-term memory writes back until checkpoint barriers, where that is
    possible (a key switch, reads cached between callbacks) and allowed."""
    store = services.short_term.store
    if switch is None or not store.keeps_keys:
        return None
    if config.get(SHORT_TERM_MEMORY_WRITE_BEHIND) is not True:
        return None

    def start() -> WriteBehind:
        _log.info(
            "short-term memory writes are held until the next checkpoint barrier "
            "(short-term-memory.write-behind)"
        )
        return store.defer(switch)

    return start


def build_services(
    plan: AgentPlan,
    state: KeyedStateBackend,
    metrics: MetricBackend,
    config: AgentConfig,
    journals: JournalOpener | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> ExecutionServices:
    """The collaborators every action execution of one operator uses: the two memories, metrics,
    resources, the worker pool and the call journals (keyed state unless ``journals`` says
    otherwise)."""
    mailbox = Mailbox()
    ttl = short_term_ttl(config)
    sensory = MemoryTree(
        CachedMemoryStore(state.map_state(SENSORY_MEMORY)), MemoryType.SENSORY, mailbox
    )
    # Reads can stay cached between callbacks only while state changes through this cache alone.
    keep_keys = 0 if ttl is not None else config.get(SHORT_TERM_MEMORY_CACHE_KEYS) or 0
    short_term = MemoryTree(
        CachedMemoryStore(state.map_state(SHORT_TERM_MEMORY, ttl), keep_keys),
        MemoryType.SHORT_TERM,
        mailbox,
        validate_ancestors=ttl is not None,
    )
    for tree in (sensory, short_term):
        tree.peers[MemoryType.SENSORY] = sensory
        tree.peers[MemoryType.SHORT_TERM] = short_term
    builtin = BuiltinMetrics(MetricGroup(metrics))
    stats = DurableStats()
    builtin.count_from(DURABLE_CALLS_MADE, lambda: stats.calls)
    builtin.count_from(DURABLE_CALLS_REPLAYED, lambda: stats.replayed)
    builtin.count_from(JOURNAL_MISMATCHES, lambda: stats.mismatches)
    mode: str = config.get(DURABLE_MISMATCH_MODE) or MismatchMode.LENIENT.value
    resources = ResourceRegistry(plan.resources, config, builtin.agent_group, mailbox)
    return ExecutionServices(
        mailbox=mailbox,
        sensory=sensory,
        short_term=short_term,
        metrics=builtin,
        resources=resources,
        config=config,
        executor=CallExecutor(config.get(NUM_ASYNC_THREADS) or 2 * (os.cpu_count() or 1)),
        journals=journals or KeyedJournals(state.map_state(ACTION_JOURNAL)),
        mismatch_mode=MismatchMode(mode),
        stats=stats,
        long_term_memory=long_term_memory(plan, config, resources, wall_clock),
    )


def long_term_memory(
    plan: AgentPlan,
    config: AgentConfig,
    resources: ResourceRegistry,
    wall_clock: Callable[[], float] = time.time,
) -> LongTermMemory | None:
    """The operator's long-term memory as configured (``None`` when the backend is unset). Its
    items belong to the job identity (``job-identifier``, or the agent's name), which stays the
    same when a job is restored."""
    if config.get(LTM_BACKEND) is None:
        return None
    if config.get(JOB_IDENTIFIER) is None:
        _log.warning(
            "long-term memory items are kept under the agent's name %r: jobs of the same agent "
            "sharing a Qdrant location see each other's items; set job-identifier to keep a "
            "job's memory apart",
            plan.name,
        )
    settings = LongTermMemorySettings(
        collection=config.get(LTM_COLLECTION) or "flink_agents_memory",
        job=config.get(JOB_IDENTIFIER) or plan.name,
        ttl_ms=config.get(LTM_TTL_MS),
        capacity=config.get(LTM_CAPACITY),
        policy=config.get(LTM_CAPACITY_POLICY) or "evict-oldest",
        compact_count=config.get(LTM_COMPACT_COUNT) or 10,
        sweep_interval_ms=config.get(LTM_SWEEP_INTERVAL_MS) or 60_000,
    )
    location = config.get(LTM_QDRANT_LOCATION) or ":memory:"
    api_key = config.get(LTM_QDRANT_API_KEY)
    model_name = config.get(LTM_EMBEDDING_MODEL)

    def store() -> QdrantVectorStore:
        embedder: EmbeddingModel = (
            resources.get(model_name, ResourceType.EMBEDDING_MODEL)
            if model_name
            else HashingEmbedder()
        )
        return QdrantVectorStore(location, embedder, api_key)

    return LongTermMemory(settings, store, wall_clock)


def _in_turn(first: Callable[[], None] | None, second: Callable[[], None]) -> Callable[[], None]:
    if first is None:
        return second

    def both() -> None:
        first()
        second()

    return both


def _pemja_runtime() -> JavaRuntime:
    from flink_agents_ctx.context.pemja_runtime import PemjaRuntime

    return PemjaRuntime()


def _retention_s(config: AgentConfig, facts: JobFacts, key_ttl_ms: int | None) -> float:
    configured = config.get(ACTION_STATE_RETENTION_MS)
    if configured is not None:
        retention_s = configured / 1000
    else:
        retention_s = default_retention_s(
            None if facts.checkpoint_interval_ms is None else facts.checkpoint_interval_ms / 1000,
            facts.retained_checkpoints,
            None if facts.checkpoint_timeout_ms is None else facts.checkpoint_timeout_ms / 1000,
        )
    needed_s = longest_record_life_s(retention_s) + 60
    if key_ttl_ms is not None and key_ttl_ms / 1000 <= needed_s:
        raise ConfigError(
            f"durable-execution.key-ttl.ms ({key_ttl_ms}) must be longer than the action-state "
            f"store keeps a record: its retention ({retention_s * 1000:.0f} ms) plus the time to "
            f"the next pruning pass, and a minute to spare ({needed_s * 1000:.0f} ms in all). A "
            "key that forgets its numbering while the store still has its records could be "
            "answered with another input's. Raise durable-execution.key-ttl.ms or lower "
            "action-state.retention.ms",
            key=DURABLE_KEY_TTL_MS.key,
            value=key_ttl_ms,
        )
    return retention_s
