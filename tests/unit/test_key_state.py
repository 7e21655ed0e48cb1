"""Per-key bookkeeping: a key with nothing in flight costs no state, so state stays flat when keys
churn (a conversation or session id per key)."""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Iterator
from typing import Any

import pytest

from flink_agents_ctx import (
    Agent,
    ConfigError,
    InputEvent,
    OutputEvent,
    RunnerContext,
    current_call,
)
from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.operator.runs import KeyMeta
from flink_agents_ctx.operator.wiring import build_operator
from flink_agents_ctx.testing import AgentTestHarness
from flink_agents_ctx.testing.fakes import InMemoryKeyedState, InMemoryMetricBackend

KEY_TTL_MS = 10_000
GATE = threading.Event()


class Clock:
    """Processing time for state TTL, moved by the test (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def double(x: int) -> int:
    return 2 * x


def gated(x: int) -> int:
    GATE.wait(10)
    return x


def sync_call(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.send_event(OutputEvent(output=ctx.durable_execute(double, event.input)))


def double_with_key(x: int) -> int:
    assert current_call().idempotency_key  # the input needs an identity now
    return 2 * x


def sync_call_with_key(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.send_event(OutputEvent(output=ctx.durable_execute(double_with_key, event.input)))


async def async_call(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.send_event(OutputEvent(output=await ctx.durable_execute_async(double, event.input)))


async def waits_on_gate(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.send_event(OutputEvent(output=await ctx.durable_execute_async(gated, event.input)))


def no_call(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.send_event(OutputEvent(output=event.input))


def one_action(func: Any) -> Agent:
    return Agent().add_action("act", [InputEvent], func)


@pytest.fixture(autouse=True)
def _gate() -> Iterator[None]:
    GATE.clear()
    yield
    GATE.set()


def test_a_key_that_never_made_a_durable_call_keeps_no_state() -> None:
    h = AgentTestHarness(one_action(no_call))
    for n in range(500):
        assert h.send(f"session-{n}", n) == [n]
    assert h.state.entries() == 0


@pytest.mark.parametrize(
    ("func", "per_key"),
    [(sync_call, 0), (sync_call_with_key, 1), (async_call, 1)],
    ids=["sync", "sync-idempotency-key", "async"],
)
def test_state_stays_flat_when_keys_churn(func: Any, per_key: int) -> None:
    """A key keeps bookkeeping only when its input needed an identity (an idempotency key, a
    call on a worker), and only for the key TTL."""
    clock = Clock()
    h = AgentTestHarness(
        one_action(func), {"durable-execution.key-ttl.ms": KEY_TTL_MS}, clock=clock
    )
    entries = []
    for n in range(1, 1201):
        assert h.run([(f"session-{n}", n)]) == [2 * n]
        clock.now += 0.025  # 40 new keys per (state-TTL) second: 400 keys within the TTL
        if n % 400 == 0:
            entries.append(h.state.entries())
    # One bookkeeping entry per key used within the TTL: flat, whatever the number of keys seen.
    assert entries[0] == 400 * per_key
    assert max(entries) - min(entries) <= 1, entries
    assert h.end_of_input_timers == 0  # keys drop their end-of-input timer once idle
    clock.now += KEY_TTL_MS / 1000
    assert h.state.entries() == 0


def test_a_parked_run_keeps_its_bookkeeping_past_the_key_ttl() -> None:
    clock = Clock()
    state = InMemoryKeyedState(clock)
    config = AgentConfig({"durable-execution.key-ttl.ms": KEY_TTL_MS})
    core, probe = build_operator(
        one_action(waits_on_gate).plan(), state, InMemoryMetricBackend(), config
    )
    timers = ClockTimers(clock, state)
    state.set_current_key("k")
    assert core.process_input("k", 5, None, timers) == []
    for _ in range(12):  # 3 x the TTL, visited by its heartbeat every 2.5 s (state time)
        clock.now += KEY_TTL_MS / 4000
        state.set_current_key("k")
        assert core.on_timer("k", timers) == []
        assert probe.key_meta().active
    GATE.set()
    outputs: list[Any] = []
    deadline = time.monotonic() + 5
    while not outputs and time.monotonic() < deadline:
        state.set_current_key("k")
        outputs = core.on_timer("k", timers)
    assert outputs == [5]
    assert not timers.end_of_input
    core.close()


class ClockTimers:
    """Timers on the test's clock; the test fires them itself."""

    def __init__(self, clock: Clock, state: InMemoryKeyedState) -> None:
        self._clock = clock
        self._state = state
        self.end_of_input: set[Hashable] = set()

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    def wake_at(self, time_ms: int) -> None:
        pass

    def at_end_of_input(self) -> None:
        self.end_of_input.add(self._state.current_key)

    def cancel_end_of_input(self) -> None:
        self.end_of_input.discard(self._state.current_key)


def test_key_meta_of_the_previous_format_still_loads() -> None:
    # Format 1: (next_seq, next_start, active, job); every input was numbered on arrival.
    meta = KeyMeta.from_state((5, 3, True, "job-1"))
    assert (meta.next_seq, meta.job, meta.active) == (5, "job-1", True)
    assert (meta.next_arrival, meta.next_start) == (5, 3)  # inputs 3 and 4 still wait
    assert KeyMeta.from_state(meta.to_state()) == meta


def test_key_ttl_must_outlast_the_store_retention() -> None:
    config = {
        "durable-execution.key-ttl.ms": 60_000,
        "action-state.retention.ms": 120_000,
        "job-identifier": "j",
    }
    from flink_agents_ctx.testing import InMemoryActionStateStore

    with pytest.raises(ConfigError, match="durable-execution.key-ttl.ms"):
        AgentTestHarness(one_action(sync_call), config, store=InMemoryActionStateStore())
