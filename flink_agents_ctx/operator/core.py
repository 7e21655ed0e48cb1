"""``OperatorCore``: runs an agent on whatever keyed state and timers it is given.

A *run* starts with an :class:`InputEvent` for one input record and ends when no event of it is
left to handle. Each event becomes one *step* per action listening to its type, in declaration
order. A step commits when its action returns: memory writes are flushed and its events are queued
(outputs leave at that moment). A key runs one input at a time; inputs arriving meanwhile wait in
keyed state.

An async action that awaits a durable call parks its run: the call runs on a worker, other keys go
on, and a processing-time timer of the key brings the run back to apply the outcome. A checkpoint
taken while a run is parked holds the run, its journal and its timers, so after a restore the waiting
action starts again from the top and replays its finished calls. At the end of a bounded input an
event-time timer finishes every parked run before the operator ends.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Hashable
from typing import Any

from flink_agents_ctx.agent import AgentPlan
from flink_agents_ctx.backends.protocols import (
    KeyedStateBackend,
    KeySwitch,
    MetricBackend,
    StateTtl,
    Timers,
)
from flink_agents_ctx.config import (
    ACTION_STATE_ALLOW_PICKLE,
    ACTION_STATE_RETENTION_MS,
    ACTION_STATE_STORE,
    ACTION_STATE_WRITE_ATTEMPTS,
    ASYNC_MAX_WAKE_INTERVAL_MS,
    DURABLE_MISMATCH_MODE,
    JOB_IDENTIFIER,
    NUM_ASYNC_THREADS,
    SHORT_TERM_MEMORY_TTL_MS,
    SHORT_TERM_MEMORY_TTL_UPDATE_TYPE,
    SHORT_TERM_MEMORY_TTL_VISIBILITY,
    AgentConfig,
)
from flink_agents_ctx.context.common import BaseRunnerContext, ContextServices
from flink_agents_ctx.context.kinds import context_factories
from flink_agents_ctx.durable.executor import CallExecutor
from flink_agents_ctx.durable.journal import JOURNAL_STATE, KeyedJournal
from flink_agents_ctx.durable.records import CallRecord
from flink_agents_ctx.durable.wal import input_digest
from flink_agents_ctx.errors import ActionExecutionError, OperatorStateError
from flink_agents_ctx.events import ActionFailedEvent, Event, InputEvent, OutputEvent
from flink_agents_ctx.mailbox import Mailbox
from flink_agents_ctx.memory.memory_object import MemoryTree
from flink_agents_ctx.memory.store import CachedMemoryStore
from flink_agents_ctx.metrics.builtin import (
    DURABLE_CALLS_MADE,
    DURABLE_CALLS_REPLAYED,
    JOURNAL_MISMATCHES,
    BuiltinMetrics,
)
from flink_agents_ctx.metrics.group import MetricGroup
from flink_agents_ctx.operator.execution import ActionRunner, DurableSettings
from flink_agents_ctx.operator.runs import KeyMeta, KeyRuns, Run
from flink_agents_ctx.operator.wakeups import LiveRun, Wakeups
from flink_agents_ctx.resources.registry import ResourceRegistry
from flink_agents_ctx.stores import open_store
from flink_agents_ctx.stores.pruning import Pruner
from flink_agents_ctx.types import MemoryType

_log = logging.getLogger(__name__)

_META_CACHE_SIZE = 65536

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
        runtime_job_id: str | None = None,
    ) -> None:
        self._plan = plan
        # The job identity of idempotency keys and store records: job-identifier when set,
        # otherwise per key the one in force when the key was first seen (kept in its meta).
        self._configured_job = config.get(JOB_IDENTIFIER)
        self._default_job = self._configured_job or runtime_job_id or plan.name
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
        self.executor = CallExecutor(config.get(NUM_ASYNC_THREADS) or 2 * (os.cpu_count() or 1))
        services = ContextServices(
            mailbox=self.mailbox,
            sensory=self.sensory,
            short_term=self.short_term,
            agent_metrics=agent_group,
            builtin_metrics=self.metrics,
            resources=self._resources,
            config=config,
            executor=self.executor,
        )
        factories = context_factories()
        contexts: dict[Any, BaseRunnerContext] = {}
        for spec in plan.actions:
            if spec.kind not in contexts:
                contexts[spec.kind] = factories[spec.kind](services)
        self._contexts = contexts
        self._runs = KeyRuns(state)
        self._switch = state.key_switch()
        store_url = config.get(ACTION_STATE_STORE)
        store_attempts = config.get(ACTION_STATE_WRITE_ATTEMPTS) or 5
        store = None
        self._pruner: Pruner | None = None
        if store_url:
            store = open_store(store_url, store_attempts)
            _log.info("durable call records go to the action-state store %s", store.address)
            self._pruner = Pruner(store, (config.get(ACTION_STATE_RETENTION_MS) or 0) / 1000)
        self.store = store
        self._journal_state = state.map_state(JOURNAL_STATE)
        self._wakeups = Wakeups(
            self._switch is not None, config.get(ASYNC_MAX_WAKE_INTERVAL_MS) or 20
        )
        self.runner = ActionRunner(
            plan,
            contexts,
            self._journal_state,
            self.executor,
            self.mailbox,
            self.metrics,
            DurableSettings(
                config.get(DURABLE_MISMATCH_MODE) or "lenient",
                store,
                store_attempts,
                config.get(ACTION_STATE_ALLOW_PICKLE) is True,
            ),
        )
        self._live: dict[Hashable, LiveRun] = {}
        # Key meta as last written by this instance (only this instance writes it, and a restore
        # builds a new one), so most inputs skip reading it from state.
        self._metas: dict[Hashable, tuple[int, int, bool, str | None]] = {}
        stats = self.runner.stats
        self.metrics.count_from(DURABLE_CALLS_MADE, lambda: stats.calls)
        self.metrics.count_from(DURABLE_CALLS_REPLAYED, lambda: stats.replayed)
        self.metrics.count_from(JOURNAL_MISMATCHES, lambda: stats.mismatches)

    # -- entry points (the current key of the state backend is ``key``) ----------------------

    def process_input(
        self, key: Hashable, value: Any, timestamp: int | None, timers: Timers
    ) -> list[Any]:
        """Handle one input of ``key``; return the outputs emitted meanwhile, in order."""
        self.mailbox.enter()
        outputs: list[Any] = []
        try:
            self._advance(key, timers, outputs, (value, timestamp))
        finally:
            self.metrics.maybe_flush()
        if self._pruner is not None:
            self._pruner.maybe_prune()
        return outputs

    def on_timer(self, key: Hashable, timers: Timers, end_of_input: bool = False) -> list[Any]:
        """A timer of ``key`` fired: go on with its run, and with every other parked run whose
        call finished meanwhile. At the end of input, return only when every parked run this
        instance knows of (and every input waiting behind it) has finished."""
        self.mailbox.enter()
        outputs: list[Any] = []
        switch = self._switch
        finished = switch is not None and bool(self.executor.keys_with_completions())
        self._wakeups.fired(self._live.get(key), timers.now_ms(), finished)
        try:
            self._advance(key, timers, outputs, None)
            if switch is not None:
                self._serve_parked(switch, timers, outputs, drain=end_of_input)
                if self._live:
                    self._wakeups.ensure_poll(timers)
            else:
                while end_of_input and self.is_busy(key):
                    self.executor.wait(key, self._wait_s([self._live[key]]))
                    self._advance(key, timers, outputs, None)
        finally:
            self.metrics.maybe_flush()
        return outputs

    def is_busy(self, key: Hashable) -> bool:
        """Whether ``key`` has a run parked in this operator instance."""
        return key in self._live

    @property
    def busy_keys(self) -> list[Hashable]:
        return list(self._live)

    def _serve_parked(
        self, switch: KeySwitch, timers: Timers, outputs: list[Any], drain: bool
    ) -> None:
        """Advance the parked runs of other keys from inside this callback: those with finished
        calls, and with ``drain`` every one of them until all have finished."""
        home: object = None
        try:
            while True:
                ready = self._ready_keys(due_too=drain)
                for key in ready:
                    live = self._live.get(key)
                    if live is None or live.handle is None:
                        # Outcomes of calls whose action moved on (timed out, not awaited,
                        # failed): nobody will take them, so they must not keep the key "ready".
                        self.executor.take(key)
                        continue
                    if home is None:
                        home = switch.current()
                    switch.switch_to(live.handle)
                    self._advance(key, timers, outputs, None)
                if not drain:
                    return
                parked = [live for live in self._live.values() if live.handle is not None]
                if not parked:
                    return
                if not ready:
                    self.executor.wait(None, self._wait_s(parked))
        finally:
            if home is not None:
                switch.switch_to(home)

    def _ready_keys(self, due_too: bool) -> list[Hashable]:
        """Parked keys with finished calls (and, with ``due_too``, with a due timeout or sleep)."""
        ready = self.executor.keys_with_completions()
        if due_too:
            now = time.monotonic()
            for key, live in self._live.items():
                due = live.frame.next_due() if live.frame is not None else None
                if due is not None and due <= now and key not in ready:
                    ready.append(key)
        return ready

    @staticmethod
    def _wait_s(parked: list[LiveRun]) -> float:
        dues = [
            due
            for live in parked
            if live.frame is not None and (due := live.frame.next_due()) is not None
        ]
        return 0.05 if not dues else min(0.05, max(0.0, min(dues) - time.monotonic()))

    # -- scheduling runs ---------------------------------------------------------------------

    def _advance(
        self,
        key: Hashable,
        timers: Timers,
        outputs: list[Any],
        arrival: tuple[Any, int | None] | None,
    ) -> None:
        runs = self._runs
        before = self._metas.get(key)
        if before is None:
            meta = runs.meta()
            before = meta.to_state()
        else:
            meta = KeyMeta(*before)
        start: tuple[int, Any, int | None] | None = None
        if arrival is not None:
            seq = meta.next_seq
            busy = meta.active or meta.has_waiting
            meta.next_seq += 1
            if busy:
                runs.enqueue(seq, *arrival)
            else:
                meta.next_start = seq + 1
                start = (seq, *arrival)
        while True:
            live = self._live.get(key)
            if live is None and meta.active:
                live = self._restored_run(key)
            if live is None:
                if start is None and meta.has_waiting:
                    seq = meta.next_start
                    meta.next_start += 1
                    start = (seq, *runs.dequeue(seq))
                if start is None:
                    break
                live = self._new_run(*start, self._job_for(meta))
                start = None
            self._live[key] = live
            try:
                finished = self._drive_run(key, live, outputs)
            except BaseException:
                # The job fails and restarts from its checkpoint; keep nothing of this run.
                self._live.pop(key, None)
                raise
            if finished:
                del self._live[key]
                if meta.active:
                    runs.clear_run()
                    meta.active = False
                if live.run.wrote_sensory:
                    self.sensory.store.clear()
                continue
            runs.save_run(live.run)
            meta.active = True
            if live.handle is None and self._switch is not None:
                live.handle = self._switch.current()
            self._wakeups.schedule(live, timers)
            break
        after = meta.to_state()
        if after != before:
            runs.save_meta(meta)
        if len(self._metas) >= _META_CACHE_SIZE:
            self._metas.clear()
        self._metas[key] = after

    def _job_for(self, meta: KeyMeta) -> str:
        """The key's job identity: the configured one, else the one fixed in its meta when the
        key was first seen."""
        if self._configured_job:
            return self._configured_job
        if meta.job is None:
            meta.job = self._default_job
        return meta.job

    def _new_run(self, seq: int, value: Any, timestamp: int | None, job: str) -> LiveRun:
        run = Run(seq, timestamp, job, input_digest(value) if self.store is not None else "")
        self._dispatch(run, InputEvent(input=value, source_timestamp=timestamp))
        return LiveRun(run)

    def _restored_run(self, key: Hashable) -> LiveRun:
        # A run from before job identities were kept had the configured one or the agent's name.
        run = self._runs.load_run(self._configured_job or self._plan.name)
        if run is None:
            raise OperatorStateError(f"key {key!r} is marked busy but has no run in state")
        _log.info(
            "key %r: resuming input %d from the restored state (action %s starts again and "
            "replays its recorded calls)",
            key,
            run.seq,
            run.steps[0].action if run.steps else "-",
        )
        return LiveRun(run, restored=True)

    def _dispatch(self, run: Run, event: Event) -> None:
        self.metrics.event_processed()
        for spec in self._plan.actions_for(type(event)):
            run.add_step(event, spec.name)
        if isinstance(event, ActionFailedEvent) and not self._plan.actions_for(type(event)):
            _log.warning(
                "action %s failed (%s: %s) and no action handles ActionFailedEvent; the run "
                "goes on without it",
                event.action,
                event.error_type,
                event.message,
            )

    def _drive_run(self, key: Hashable, live: LiveRun, outputs: list[Any]) -> bool:
        """Advance ``live`` as far as it goes; True when the run is finished."""
        run = live.run
        runner = self.runner
        if live.frame is not None and runner.apply_completions(live.frame, time.monotonic()):
            live.wake_delay_ms = 1
        while True:
            if live.frame is None:
                if not run.steps:
                    return True
                live.frame = runner.new_frame(key, run, run.steps[0], live.restored)
                live.restored = False
                live.wake_delay_ms = 1
            frame = live.frame
            try:
                outcome = runner.drive(frame)
            except ActionExecutionError as e:
                if frame.spec.on_failure != "emit":
                    raise
                live.frame = None
                run.steps.pop(0)
                cause = e.__cause__ or e
                self._dispatch(
                    run,
                    ActionFailedEvent(
                        action=frame.spec.name,
                        event_type=frame.event.type_name(),
                        event_id=frame.event.id,
                        error_type=type(cause).__name__,
                        message=str(cause),
                        source_timestamp=run.timestamp,
                    ),
                )
                continue
            if outcome is None:
                return False
            live.frame = None
            run.steps.pop(0)
            run.wrote_sensory |= outcome.wrote_sensory
            for event in outcome.events:
                if isinstance(event, OutputEvent):
                    outputs.append(event.output)
                self._dispatch(run, event)

    # -- inspection and shutdown --------------------------------------------------------------

    def memory_snapshot(self, memory_type: MemoryType) -> dict[str, Any]:
        """The current key's memory as nested dicts (for tests and debugging)."""
        self.mailbox.enter()
        tree = self.sensory if memory_type is MemoryType.SENSORY else self.short_term
        try:
            return tree.to_dict()
        finally:
            # The cache belongs to one key; never let reads leak into the next key's actions.
            tree.store.discard()

    def seed_run(
        self,
        key: Hashable,
        value: Any,
        timestamp: int | None,
        records: list[CallRecord],
        timers: Timers,
    ) -> None:
        """Put ``key`` in the state a restore would find: the run of ``value`` parked in its first
        action with ``records`` as that action's journal (for replay tests)."""
        self.mailbox.enter()
        meta = self._runs.meta()
        if meta.active or meta.has_waiting or key in self._live:
            raise OperatorStateError(f"key {key!r} is busy; seed a journal on an idle key")
        run = self._new_run(meta.next_seq, value, timestamp, self._default_job).run
        meta.next_seq += 1
        meta.next_start = meta.next_seq
        meta.active = True
        journal = KeyedJournal(self._journal_state, restored=False)
        for record in records:
            journal.write(record)
        journal.flush()
        self._runs.save_run(run)
        self._runs.save_meta(meta)
        self._metas.pop(key, None)
        timers.wake_at(timers.now_ms())
        timers.at_end_of_input()

    def key_meta(self) -> KeyMeta:
        """The current key's run bookkeeping."""
        return self._runs.meta()

    def close(self) -> None:
        self.metrics.flush()
        for live in self._live.values():
            if live.frame is not None:
                self.runner.discard(live.frame, clear_journal=False)
        self._live.clear()
        self.executor.shutdown()
        if self.store is not None:
            if self._pruner is not None:
                self._pruner.close()
            self.store.close()
        for ctx in self._contexts.values():
            ctx.close()
        self._resources.close()
