"""Test harness: run an agent on in-memory state with the same operator Flink runs.

::

    h = AgentTestHarness(MyAgent())
    assert h.run([("k", 0)]) == [2]          # send every input, then drain
    h.send("k", 1)                           # returns outputs emitted so far; async actions may wait
    snap = h.snapshot()                      # everything a checkpoint would hold, at any moment
    h2 = AgentTestHarness.restore(MyAgent(), snap)
    assert h2.drain() == [4]                 # waiting actions start again and replay their journal

The operator is built by the same wiring as in a Flink job; the harness looks inside it only
through its :class:`~flink_agents_ctx.operator.probe.OperatorProbe`. In-memory fakes of the storage
ports are in :mod:`flink_agents_ctx.testing.fakes` (pass an ``InMemoryActionStateStore`` as
``store=`` to test with a write-ahead store).
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flink_agents_ctx.action_state.port import ActionStateStore
from flink_agents_ctx.agent import Agent
from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.context.java import JavaRuntime, RuntimeFactory
from flink_agents_ctx.durable.records import CallRecord
from flink_agents_ctx.errors import JavaBridgeError, OperatorStateError
from flink_agents_ctx.operator.wiring import build_operator
from flink_agents_ctx.testing.fakes import (
    InMemoryActionStateStore,
    InMemoryKeyedState,
    InMemoryMetricBackend,
)
from flink_agents_ctx.types import MemoryType

__all__ = ["AgentTestHarness", "HarnessSnapshot", "InMemoryActionStateStore"]


@dataclass(frozen=True)
class HarnessSnapshot:
    """All keyed state and timers of a harness, as bytes (what a checkpoint of the operator
    holds)."""

    state: bytes
    timers: bytes = b""


class _Timers:
    """In-memory timers of the state's current key (processing time is the monotonic clock)."""

    __slots__ = ("_owner",)

    def __init__(self, owner: AgentTestHarness) -> None:
        self._owner = owner

    def now_ms(self) -> int:
        return int(time.monotonic() * 1000)

    def wake_at(self, time_ms: int) -> None:
        self._owner._wake.setdefault(self._owner.state.current_key, set()).add(time_ms)

    def at_end_of_input(self) -> None:
        self._owner._end_of_input.add(self._owner.state.current_key)

    def cancel_end_of_input(self) -> None:
        self._owner._end_of_input.discard(self._owner.state.current_key)


def _no_jvm() -> JavaRuntime:
    raise JavaBridgeError(
        "the test harness runs without a JVM, so it cannot run Java actions; pass "
        "java_runtime=lambda: ScriptedJavaRuntime({...}) with Python stand-ins for the Java "
        "classes, or test Java actions in a mini-cluster job"
    )


class AgentTestHarness:
    """Drives an agent through :class:`OperatorCore` on in-memory keyed state.

    Args:
        agent: the agent under test.
        config: agent configuration (same keys as in a job).
        clock: seconds as a float, for state time-to-live and long-term memory's item times
            (defaults to ``time.monotonic`` and ``time.time``).
        store: a write-ahead action-state store to use (for example an
            :class:`InMemoryActionStateStore` shared with a restored harness) instead of the one
            ``action-state.store`` names.
        java_runtime: makes the Java side of the agent's Java actions (the harness runs without
            a JVM: pass a :class:`~flink_agents_ctx.testing.scripted_java.ScriptedJavaRuntime`).
    """

    def __init__(
        self,
        agent: Agent,
        config: Mapping[str, Any] | AgentConfig | None = None,
        *,
        clock: Callable[[], float] | None = None,
        store: ActionStateStore | None = None,
        java_runtime: RuntimeFactory | None = None,
    ) -> None:
        self.agent = agent
        self.config = AgentConfig(config)
        self.state = InMemoryKeyedState(clock)
        self.metrics = InMemoryMetricBackend()
        self._core, self._probe = build_operator(
            agent.plan(),
            self.state,
            self.metrics,
            self.config,
            store=store,
            java_runtime=java_runtime or _no_jvm,
            wall_clock=clock or time.time,
        )
        # Like the thread-mode operator: committed short-term memory writes may wait for the
        # next checkpoint barrier, which snapshot() stands for.
        self._core.attach_barrier()
        self._wake: dict[Hashable, set[int]] = {}
        self._end_of_input: set[Hashable] = set()
        self._timers = _Timers(self)
        #: Processing-time timers fired so far (waiting keys should not multiply them).
        self.timers_fired = 0

    def send(self, key: Hashable, value: Any, timestamp: int | None = None) -> list[Any]:
        """Process one input of ``key`` as ``process_element`` does: every action of its run
        runs until it finishes or waits on an async call. Returns the outputs emitted meanwhile
        (also those of other runs of ``key`` that could go on)."""
        self.state.set_current_key(key)
        return self._core.process_input(key, value, timestamp, self._timers)

    def drain(self, timeout_s: float = 30.0) -> list[Any]:
        """Run timers and apply finished async calls until no run is left waiting; return the
        outputs in emission order.

        Raises:
            TimeoutError: runs are still waiting after ``timeout_s`` (names the keys).
        """
        deadline = time.monotonic() + timeout_s
        outputs: list[Any] = []
        while True:
            if self._fire_due(outputs) and time.monotonic() < deadline:
                continue
            waiting = self._waiting_keys()
            if not waiting:
                self._end_of_input.clear()
                return outputs
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                busy = sorted(map(repr, waiting))
                raise TimeoutError(
                    f"runs of keys {', '.join(busy)} are still waiting after {timeout_s:g} s"
                )
            if not self._wake:
                raise OperatorStateError(
                    f"runs of keys {', '.join(sorted(map(repr, waiting)))} wait but no timer "
                    "would bring them back"
                )
            self._wait(remaining)

    def _waiting_keys(self) -> set[Hashable]:
        """Keys with a parked run or waiting inputs: those of this instance, and restored ones
        (found through their timers, as in Flink)."""
        keys = set(self._core.busy_keys)
        for key in self._wake:
            if key not in keys:
                self.state.set_current_key(key)
                if self._probe.key_meta().busy:
                    keys.add(key)
        return keys

    def end_input(self) -> list[Any]:
        """End the input as a bounded Flink source does: fire the end-of-input timers, which
        return once every waiting run has finished (without a time limit, as in Flink), and drop
        the processing-time timers left over. Returns the outputs in emission order."""
        outputs: list[Any] = []
        for key in list(self._end_of_input):
            self.state.set_current_key(key)
            outputs.extend(self._core.on_timer(key, self._timers, end_of_input=True))
        self._end_of_input.clear()
        self._wake.clear()
        return outputs

    @property
    def action_state_store(self) -> ActionStateStore | None:
        """The write-ahead store in use (given as ``store=`` or opened from
        ``action-state.store``), or ``None``."""
        return self._probe.store

    @property
    def busy_keys(self) -> list[Hashable]:
        """Keys whose run is waiting on an async call."""
        return self._core.busy_keys

    def poll(self, timeout_s: float = 0.05) -> list[Any]:
        """Wait up to ``timeout_s`` for the next due timer, fire what is due and return the
        outputs (to observe a run between its steps)."""
        outputs: list[Any] = []
        if not self._fire_due(outputs):
            self._wait(timeout_s)
            self._fire_due(outputs)
        return outputs

    def _wait(self, timeout_s: float) -> None:
        """Sleep until the next timer is due (at most ``timeout_s``)."""
        next_timer = min((min(t) for t in self._wake.values()), default=None)
        if next_timer is not None:
            timeout_s = min(timeout_s, max(0.0, next_timer / 1000 - time.monotonic()))
        time.sleep(timeout_s)

    def _fire_due(self, outputs: list[Any]) -> bool:
        """Fire the due timers, as Flink does (a finished call waits for a timer to be seen)."""
        now_ms = int(time.monotonic() * 1000)
        due = [k for k, times in self._wake.items() if min(times) <= now_ms]
        for key in due:
            times = self._wake.get(key, set())
            times.difference_update({t for t in times if t <= now_ms})
            if not times:
                self._wake.pop(key, None)
            self.state.set_current_key(key)
            self.timers_fired += 1
            outputs.extend(self._core.on_timer(key, self._timers))
        return bool(due)

    def run(self, inputs: Iterable[tuple[Any, ...]], timeout_s: float = 30.0) -> list[Any]:
        """Send ``(key, value)`` or ``(key, value, timestamp)`` inputs in order, then drain;
        return every output in emission order."""
        outputs: list[Any] = []
        for item in inputs:
            outputs.extend(self.send(*item))
        outputs.extend(self.drain(timeout_s))
        return outputs

    def snapshot(self) -> HarnessSnapshot:
        """Capture all keyed state and timers; valid at any moment, also while actions wait.
        Like a checkpoint barrier, it first writes what the operator holds back to state."""
        self._core.before_snapshot()
        timers = pickle.dumps(({k: set(v) for k, v in self._wake.items()}, set(self._end_of_input)))
        return HarnessSnapshot(self.state.snapshot(), timers)

    def journal(self, key: Hashable) -> list[CallRecord]:
        """The recorded calls of ``key``'s waiting action (empty when none waits), by position."""
        self.state.set_current_key(key)
        return self._probe.journal()

    def replay(
        self,
        key: Hashable,
        value: Any,
        records: Iterable[CallRecord],
        timestamp: int | None = None,
        timeout_s: float = 30.0,
    ) -> list[Any]:
        """Run ``value`` for an idle ``key`` as a restore would: its first action starts with
        ``records`` as its journal, so recorded calls are answered without being made. Returns the
        outputs once nothing waits."""
        self.state.set_current_key(key)
        self._core.seed_restored_run(key, value, timestamp, list(records), self._timers)
        return self.drain(timeout_s)

    @property
    def durable_calls(self) -> int:
        """Durable calls made (not replayed) by this harness's operator."""
        return self._probe.stats.calls

    @property
    def durable_replays(self) -> int:
        """Durable calls answered from the journal."""
        return self._probe.stats.replayed

    @property
    def journal_mismatches(self) -> int:
        """Replays that did not match the journal (lenient mode)."""
        return self._probe.stats.mismatches

    @classmethod
    def restore(
        cls,
        agent: Agent,
        snapshot: HarnessSnapshot,
        config: Mapping[str, Any] | AgentConfig | None = None,
        *,
        clock: Callable[[], float] | None = None,
        store: ActionStateStore | None = None,
        java_runtime: RuntimeFactory | None = None,
    ) -> AgentTestHarness:
        """A new harness (a new operator instance) continuing from ``snapshot``."""
        harness = cls(agent, config, clock=clock, store=store, java_runtime=java_runtime)
        harness.state.restore(snapshot.state)
        if snapshot.timers:
            wake, end_of_input = pickle.loads(snapshot.timers)
            harness._wake, harness._end_of_input = wake, end_of_input
        return harness

    def short_term_memory(self, key: Hashable) -> dict[str, Any]:
        """Short-term memory of ``key`` as nested dicts (what the operator holds back is written
        to state first, as at a checkpoint barrier)."""
        self.state.set_current_key(key)
        self._core.before_snapshot()
        return self._probe.memory(MemoryType.SHORT_TERM)

    def sensory_memory(self, key: Hashable) -> dict[str, Any]:
        """Sensory memory of ``key`` as nested dicts (empty between runs)."""
        self.state.set_current_key(key)
        return self._probe.memory(MemoryType.SENSORY)

    def metric(self, *path: str) -> Any:
        """A metric's value, e.g. ``metric("action", "a1", "numOfActionsExecuted")``."""
        self._probe.flush_metrics()
        return self.metrics.read(*path)

    @property
    def end_of_input_timers(self) -> int:
        """Keys with an end-of-input timer registered (keys with something in flight)."""
        return len(self._end_of_input)

    def close(self) -> None:
        """Close the operator (and the resources it built)."""
        self._core.close()
