"""``OperatorCore``: schedules an agent's runs on whatever keyed state and timers it is given.

A *run* starts with an :class:`InputEvent` for one input record and ends when no event of it is
left to handle. Each event becomes one *step* per action listening to its type, in declaration
order, and each step is one :class:`ActionExecution`. A step commits when its action returns: memory
writes are flushed and its events are queued (outputs leave at that moment). A key runs one input
at a time; inputs arriving meanwhile wait in keyed state.

An async action that awaits a durable call parks its run: the call runs on a worker, other keys go
on, and a timer brings the run back to apply the outcome. A checkpoint taken while a run is parked
holds the run, its journal and its timers, so after a restore the waiting action starts again from
the top and replays its finished calls. At the end of a bounded input an event-time timer finishes
every parked run before the operator ends.

The core only schedules: executions own what actions do, :mod:`~flink_agents_ctx.operator.wiring`
builds the collaborators, and :mod:`~flink_agents_ctx.operator.probe` is how tests look inside.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Hashable
from threading import get_ident
from typing import Any, NamedTuple

from flink_agents_ctx.agent import ActionSpec
from flink_agents_ctx.backends.protocols import KeySwitch, Timers
from flink_agents_ctx.durable.execution_ref import ExecutionRef
from flink_agents_ctx.durable.journal import KeyedJournal
from flink_agents_ctx.durable.records import CallRecord
from flink_agents_ctx.errors import OperatorStateError
from flink_agents_ctx.events import ActionFailedEvent, Event, InputEvent, OutputEvent
from flink_agents_ctx.execution.action_execution import ActionBody, ActionExecution, ActionOutcome
from flink_agents_ctx.memory.write_behind import WriteBehind
from flink_agents_ctx.metrics.builtin import Tally
from flink_agents_ctx.metrics.group import MetricGroup
from flink_agents_ctx.operator.parts import OperatorParts
from flink_agents_ctx.operator.progress import Progress
from flink_agents_ctx.operator.runs import KeyMeta, Run
from flink_agents_ctx.operator.wakeups import LiveRun, wait_s

_log = logging.getLogger(__name__)

_META_CACHE_SIZE = 65536


class _Action(NamedTuple):
    spec: ActionSpec
    body: ActionBody
    group: MetricGroup
    tally: Tally


class OperatorCore:
    """The agent operator's scheduling, independent of Flink (see the module docstring)."""

    def __init__(self, parts: OperatorParts) -> None:
        self._plan = parts.plan
        self._services = parts.services
        self._mailbox = parts.services.mailbox
        self._metrics = parts.services.metrics
        self._executor = parts.services.executor
        self._runs = parts.runs
        self._journals = parts.journals
        self._switch = parts.key_switch
        self._wakeups = parts.wakeups
        self._sensory = parts.services.sensory.store
        self._short_term = parts.services.short_term.store
        # Only memories that keep reads between callbacks need to be told the key.
        self._entering = tuple(s for s in (self._sensory, self._short_term) if s.keeps_keys)
        # The actions listening to an event class, filled from the plan on first use.
        self._listeners: dict[type[Event], tuple[ActionSpec, ...]] = {}
        self._events_processed = parts.services.metrics.events
        self._maybe_flush = parts.services.metrics.maybe_flush
        metrics = parts.services.metrics
        self._actions = {
            spec.name: _Action(
                spec,
                parts.bodies[spec.name],
                metrics.action_group(spec.name),
                metrics.action_tally(spec.name),
            )
            for spec in parts.plan.actions
        }
        self._housekeeping = parts.housekeeping
        self._closers = parts.closers
        self._progress_file = parts.progress
        self._event_log = parts.event_log
        self._inputs = 0
        self._outputs = 0
        self._live: dict[Hashable, LiveRun] = {}
        # Key meta as last written by this instance (only this instance writes it, and a restore
        # builds a new one), so most inputs skip reading it from state.
        self._metas: dict[Hashable, KeyMeta] = {}
        # The key switch's handle of each key that parked recently (asking for it is a JVM call).
        self._handles: dict[Hashable, object] = {}
        self._defer = parts.defer_writes
        self._behind: WriteBehind | None = None

    # -- entry points (the current key of the state backend is ``key``) ----------------------

    def process_input(
        self, key: Hashable, value: Any, timestamp: int | None, timers: Timers
    ) -> list[Any]:
        """Handle one input of ``key``; return the outputs emitted meanwhile, in order."""
        self._mailbox.thread_id = get_ident()  # what Mailbox.enter does, once per input
        outputs: list[Any] = []
        try:
            self._advance(key, timers, outputs, (value, timestamp))
        finally:
            self._maybe_flush()
        if self._housekeeping is not None:
            self._housekeeping()
        if self._event_log is not None or self._progress_file is not None:
            self._after_callback(1, outputs)
        return outputs

    def on_timer(self, key: Hashable, timers: Timers, end_of_input: bool = False) -> list[Any]:
        """A timer of ``key`` fired: go on with its run, and with every other parked run whose
        call finished meanwhile. At the end of input, return only when every parked run this
        instance knows of (and every input waiting behind it) has finished."""
        self._mailbox.enter()
        outputs: list[Any] = []
        switch = self._switch
        finished = switch is not None and bool(self._executor.keys_with_completions())
        self._wakeups.fired(key, self._live.get(key), timers.now_ms(), finished)
        try:
            self._advance(key, timers, outputs, None)
            if switch is not None:
                self._serve_parked(switch, timers, outputs, drain=end_of_input)
                if self._live:
                    self._wakeups.ensure_poll(timers)
            else:
                while end_of_input and self.is_busy(key):
                    self._executor.wait(key, wait_s([self._live[key]]))
                    self._advance(key, timers, outputs, None)
        finally:
            self._metrics.maybe_flush()
        if self._event_log is not None or self._progress_file is not None:
            self._after_callback(0, outputs)
        return outputs

    def _after_callback(self, inputs: int, outputs: list[Any]) -> None:
        """Flush the event log and count for the progress file (when either is on)."""
        if self._event_log is not None:
            self._event_log.flush()
        if self._progress_file is not None:
            self._inputs += inputs
            self._outputs += len(outputs)
            self._progress_file.maybe_write(self.progress)

    def is_busy(self, key: Hashable) -> bool:
        """Whether ``key`` has a run parked in this operator instance."""
        return key in self._live

    @property
    def busy_keys(self) -> list[Hashable]:
        return list(self._live)

    def progress(self) -> Progress:
        """What this instance did since it opened (inputs and outputs are counted only when it
        keeps a progress file)."""
        stats = self._services.stats
        return Progress(
            inputs=self._inputs,
            outputs=self._outputs,
            actions=self._metrics.actions_executed,
            calls_made=stats.calls,
            calls_replayed=stats.replayed,
            keys_waiting=len(self._live),
        )

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
                        self._executor.take(key)
                        continue
                    if home is None:
                        home = switch.current()
                    switch.switch_to(live.handle)
                    self._advance(key, timers, outputs, None)
                if not drain:
                    return
                if not any(live.handle is not None for live in self._live.values()):
                    return
                if not ready:
                    self._executor.wait(None, self._wakeups.drain_wait_s(time.monotonic()))
        finally:
            if home is not None:
                switch.switch_to(home)

    def _ready_keys(self, due_too: bool) -> list[Hashable]:
        """Parked keys with finished calls (and, with ``due_too``, with a due timeout or sleep)."""
        ready = self._executor.keys_with_completions()
        if due_too:
            due = self._wakeups.due_keys(time.monotonic())
            if due:
                ready.extend(dict.fromkeys(k for k in due if k not in ready))
        return ready

    # -- scheduling runs ---------------------------------------------------------------------

    def _cached_meta(self, key: Hashable) -> KeyMeta:
        meta = self._metas.get(key)
        if meta is None:
            meta = self._metas[key] = self._runs.meta()
        return meta

    def _advance(
        self,
        key: Hashable,
        timers: Timers,
        outputs: list[Any],
        arrival: tuple[Any, int | None] | None,
    ) -> None:
        meta = self._metas.get(key)
        if meta is None:
            if len(self._metas) >= _META_CACHE_SIZE:
                self._metas.clear()  # here, so that a key's cached meta stays one object below
            meta = self._cached_meta(key)
        sensory, short_term = self._sensory, self._short_term
        for store in self._entering:
            store.enter(key)
        was_active = meta.active
        runs = self._runs
        start: tuple[Any, int | None] | None = None
        if arrival is not None:
            if was_active or meta.next_start < meta.next_arrival:  # busy: the input waits
                slot = meta.next_arrival
                meta.next_arrival += 1
                meta.changed = True
                runs.enqueue(slot, *arrival)
            else:
                start = arrival
        try:
            while True:
                live = self._live.get(key)
                if live is None:
                    if meta.active:
                        live = self._live[key] = self._restored_run(key)
                    else:
                        if start is None:
                            if meta.next_start >= meta.next_arrival:
                                break  # nothing waits
                            slot = meta.next_start
                            meta.next_start += 1
                            meta.changed = True
                            start = runs.dequeue(slot)
                        run = self._new_run(key, *start)
                        start = None
                        # Most runs finish right here: no bookkeeping unless they park.
                        parked: ActionExecution | None = self._drive(key, run, None, False, outputs)
                        if parked is None:
                            if run.wrote_sensory:
                                sensory.clear()
                            if meta.next_start >= meta.next_arrival:
                                break  # nothing waits
                            continue
                        # A key busy since before this callback still has its end-of-input
                        # timer (it is dropped only once the key is idle).
                        live = LiveRun(run, parked, end_of_input=was_active)
                        self._live[key] = live
                        self._park(key, live, meta, timers)
                        break
                waiting = live.execution
                if waiting is not None and not waiting.has_news(time.monotonic()):
                    parked = waiting  # a heartbeat or an early poll: nothing to resume for
                else:
                    if waiting is not None:
                        live.wake_delay_ms = 1  # calls finish: poll fast again
                    parked = self._drive(key, live.run, waiting, live.restored, outputs)
                live.restored = False
                if parked is None:
                    del self._live[key]
                    if meta.active:
                        runs.clear_run()
                        meta.active = False
                        meta.changed = True
                    if live.run.wrote_sensory:
                        sensory.clear()
                    continue
                if parked is not live.execution:
                    live.execution = parked
                    live.wake_delay_ms = 1
                self._park(key, live, meta, timers)
                break
        except BaseException:
            # The job fails and restarts from its checkpoint; keep nothing of this key.
            self._live.pop(key, None)
            self._metas.pop(key, None)
            for store in (sensory, short_term):
                store.discard()
                store.leave()
            raise
        if not meta.active and meta.next_start >= meta.next_arrival:  # idle now
            if was_active:  # it was parked: nothing of it is in flight any more
                timers.cancel_end_of_input()
                self._executor.take(key)  # late outcomes of calls nobody waits for
            if meta.next_arrival:
                meta.next_arrival = meta.next_start = 0
                meta.changed = True
        if meta.changed or meta.numbering is not None:
            runs.save(meta)
        sensory.leave()
        short_term.leave()

    def _park(self, key: Hashable, live: LiveRun, meta: KeyMeta, timers: Timers) -> None:
        """The run waits: a restore must find it (with its input's digest, since the input itself
        is not kept), and timers bring it back."""
        run = live.run
        run.keep_input_digest()
        if run.dirty:
            self._runs.save_run(run)
        if not meta.active:
            meta.active = meta.changed = True
        if live.handle is None and self._switch is not None:
            handle = self._handles.get(key)
            if handle is None:
                if len(self._handles) >= _META_CACHE_SIZE:
                    self._handles.clear()
                handle = self._handles[key] = self._switch.current()
            live.handle = handle
        self._wakeups.schedule(key, live, timers)

    def _identify(self, key: Hashable, run: Run, action: str, step: int) -> ExecutionRef:
        meta = self._cached_meta(key)
        runs = self._runs
        seq, job, digest = run.identity(lambda: runs.numbering_of(meta), runs.job_of)
        return ExecutionRef(job, key, seq, digest, action, step)

    def _new_run(self, key: Hashable, value: Any, timestamp: int | None) -> Run:
        run = Run(timestamp, input=value)
        event = InputEvent(value, source_timestamp=timestamp)  # positional: a cheaper call
        if self._event_log is not None:
            self._event_log.event(key, event)
        self._dispatch(run, event)
        return run

    def _restored_run(self, key: Hashable) -> LiveRun:
        # A run from before job identities were kept had the configured one or the agent's name.
        run = self._runs.load_run()
        if run is None:
            raise OperatorStateError(f"key {key!r} is marked busy but has no run in state")
        _log.info(
            "key %r: resuming input %s from the restored state (action %s starts again and "
            "replays its recorded calls)",
            key,
            run.seq,
            run.steps[0].action if run.steps else "-",
        )
        # Its timers were restored with it, the end-of-input one among them.
        return LiveRun(run, restored=True, end_of_input=True)

    def _dispatch(self, run: Run, event: Event) -> None:
        self._events_processed.pending += 1
        actions = self._listeners.get(type(event))
        if actions is None:
            actions = self._listeners[type(event)] = self._plan.actions_for(type(event))
        if actions:
            for spec in actions:
                run.add_step(event, spec.name)
        elif isinstance(event, ActionFailedEvent):
            _log.warning(
                "action %s failed (%s: %s) and no action handles ActionFailedEvent; the run "
                "goes on without it",
                event.action,
                event.error_type,
                event.message,
            )

    def _drive(
        self,
        key: Hashable,
        run: Run,
        waiting: ActionExecution | None,
        restored: bool,
        outputs: list[Any],
    ) -> ActionExecution | None:
        """Advance ``run`` as far as it goes: ``None`` when it is finished, else the execution it
        waits in (parked)."""
        if waiting is not None:
            if not waiting.resume():
                waiting.park()
                return waiting
            self._committed(key, run, waiting.commit(), outputs)
        steps = run.steps
        while steps:
            step = steps[0]
            action = self._actions[step.action]
            execution = ActionExecution(
                self._services,
                action.spec,
                step.event,
                key,
                run.timestamp,
                action.body,
                functools.partial(self._identify, key, run, step.action, step.number),
                restored,
                action.group,
                action.tally,
            )
            restored = False
            if not execution.start():
                execution.park()
                return execution
            self._committed(key, run, execution.commit(), outputs)
        return None

    def _committed(
        self, key: Hashable, run: Run, outcome: ActionOutcome, outputs: list[Any]
    ) -> None:
        step = run.steps.pop(0)
        run.dirty = True
        if outcome.wrote_sensory:
            run.wrote_sensory = True
        log = self._event_log
        if log is not None:
            log.action(key, step.action, step.event, outcome.events)
        for event in outcome.events:
            if isinstance(event, OutputEvent):
                outputs.append(event.output)
            if log is not None:
                log.event(key, event, step.action, step.event.id)
            self._dispatch(run, event)

    # -- checkpoint barriers (see flink_agents_ctx.operator.barrier) --------------------------

    def attach_barrier(self) -> None:
        """The operator calls :meth:`before_snapshot` before every barrier from now on: committed
        short-term memory writes may wait for it (when the configuration allows)."""
        if self._defer is not None and self._behind is None:
            self._behind = self._defer()

    def before_snapshot(self) -> None:
        """A checkpoint barrier is next: write what is held back to keyed state."""
        if self._behind is not None:
            self._behind.write_out()

    # -- tests and shutdown -------------------------------------------------------------------

    def seed_restored_run(
        self,
        key: Hashable,
        value: Any,
        timestamp: int | None,
        records: list[CallRecord],
        timers: Timers,
    ) -> None:
        """Put ``key`` in the state a restore would find: the run of ``value`` parked in its first
        action with ``records`` as that action's journal (for replay tests)."""
        self._mailbox.enter()
        meta = self._cached_meta(key)
        if meta.busy or key in self._live:
            raise OperatorStateError(f"key {key!r} is busy; seed a journal on an idle key")
        run = self._new_run(key, value, timestamp)
        run.identity(lambda: self._runs.numbering_of(meta), self._runs.job_of)
        meta.active = meta.changed = True
        journal = KeyedJournal(self._journals.state, run.steps[0].action, restored=False)
        for record in records:
            journal.write(record)
        journal.flush()
        self._runs.save_run(run)
        self._runs.save(meta)
        self._metas.pop(key, None)
        timers.wake_at(timers.now_ms())
        timers.at_end_of_input()

    def close(self) -> None:
        """Flush metrics, drop parked executions (their journals stay in state), stop the worker
        pool, close the store and the resources."""
        self._metrics.flush()
        if self._progress_file is not None:
            self._progress_file.write(self.progress())
        for live in self._live.values():
            if live.execution is not None:
                live.execution.abort(keep_journal=True)
        self._live.clear()
        self._executor.shutdown()
        for close in self._closers:
            close()
        if self._event_log is not None:
            self._event_log.close()
        self._services.resources.close()
