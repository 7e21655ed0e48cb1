"""Per-key bookkeeping: a key with nothing in flight costs no state, so state stays flat when keys
churn (a conversation or session id per key)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
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
from flink_agents_ctx.operator.runs import KeyMeta
from flink_agents_ctx.testing import AgentTestHarness, InMemoryActionStateStore

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


def test_a_parked_run_restored_after_the_key_ttl_still_finishes() -> None:
    """The parked run and the input waiting behind it outlive the key TTL: the in-flight
    bookkeeping has no time-to-live, only the numbering does."""
    clock = Clock()
    config = {"durable-execution.key-ttl.ms": KEY_TTL_MS}
    agent = one_action(waits_on_gate)
    h = AgentTestHarness(agent, config, clock=clock)
    assert h.send("k", 1) == []
    assert h.send("k", 2) == []  # waits behind the parked run
    snapshot = h.snapshot()
    h.close()
    GATE.set()
    clock.now += 3 * KEY_TTL_MS / 1000  # restored three key TTLs later
    restored = AgentTestHarness.restore(agent, snapshot, config, clock=clock)
    assert sorted(restored.drain() + restored.end_input()) == [1, 2]
    restored.close()


def keyed_call(x: int) -> str:
    KEYS_SEEN.append(x)
    return current_call().idempotency_key


KEYS_SEEN: list[int] = []


def exposes_key(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.send_event(OutputEvent(output=ctx.durable_execute(keyed_call, event.input)))


@pytest.mark.parametrize("with_store", [False, True], ids=["keyed-state", "store"])
def test_an_input_after_the_key_ttl_keeps_its_identity_across_a_restore(with_store: bool) -> None:
    """The numbering is read from state whenever a callback needs it, never from a cache that
    outlives its TTL: a replay gets the identity (and the store record) of its first attempt."""
    KEYS_SEEN.clear()
    clock = Clock()
    config: dict[str, Any] = {"job-identifier": "j", "durable-execution.key-ttl.ms": 100_000}
    store = InMemoryActionStateStore() if with_store else None
    if with_store:
        config["action-state.retention.ms"] = 5_000
    agent = one_action(exposes_key)
    h = AgentTestHarness(agent, config, clock=clock, store=store)
    h.send("k", 1)
    clock.now += 200  # idle for longer than the key TTL: its numbering expired in state
    snapshot = h.snapshot()
    [first_attempt] = h.send("k", 2)
    h.close()
    restored = AgentTestHarness.restore(agent, snapshot, config, clock=clock, store=store)
    [replay] = restored.send("k", 2)
    restored.close()
    assert replay == first_attempt
    assert ([1, 2] if with_store else [1, 2, 2]) == KEYS_SEEN  # the store answered the replay


@pytest.mark.parametrize(
    "raw",
    [(5, 3, True, "job-1"), (2, 5, "job-1", True, 5, 3)],
    ids=["format-1", "format-2"],
)
def test_key_meta_of_the_previous_formats_still_loads(raw: tuple[Any, ...]) -> None:
    # Format 1 numbered every input on arrival; both kept the numbering with the in-flight
    # counters, and a key read in them moves it to its own state.
    meta = KeyMeta.from_state(raw)
    assert (meta.active, meta.next_arrival, meta.next_start) == (True, 5, 3)  # 3 and 4 wait
    assert meta.numbering is not None and meta.changed and meta.numbering.changed
    assert (meta.numbering.next_seq, meta.numbering.job) == (5, "job-1")
    assert KeyMeta.from_state(meta.to_state()) == meta


def test_key_ttl_must_outlast_the_store_records() -> None:
    # A record lives its retention (9 s) and until the next pruning pass (a quarter of it): with
    # a minute to spare the key TTL must exceed 71.25 s.
    config = {
        "durable-execution.key-ttl.ms": 70_000,
        "action-state.retention.ms": 9_000,
        "job-identifier": "j",
    }
    with pytest.raises(ConfigError, match="durable-execution.key-ttl.ms"):
        AgentTestHarness(one_action(sync_call), config, store=InMemoryActionStateStore())


def test_a_keys_numbering_is_read_once_and_again_only_near_its_ttl() -> None:
    """After writing a key's numbering the operator keeps it, for as long as state certainly holds
    that write (TTL 100 s: 50 s), instead of reading it back for each input."""
    from flink_agents_ctx.state_layout import KEY_NUMBERING

    KEYS_SEEN.clear()
    clock = Clock()
    config = {"job-identifier": "j", "durable-execution.key-ttl.ms": 100_000}
    h = AgentTestHarness(one_action(exposes_key), config, clock=clock)
    first = [h.send("k", n)[0] for n in range(5)]
    assert h.state.value_reads[KEY_NUMBERING] == 1
    clock.now += 49
    [fifth] = h.send("k", 5)
    assert h.state.value_reads[KEY_NUMBERING] == 1
    clock.now += 51  # 51 s after the last write: read back (state still holds it: same numbering)
    late = h.send("k", 6)[0]
    assert h.state.value_reads[KEY_NUMBERING] == 2
    h.close()
    # The identities went on counting: a fresh harness replaying the same inputs agrees.
    again = AgentTestHarness(one_action(exposes_key), config, clock=Clock())
    assert [again.send("k", n)[0] for n in range(7)] == [*first, fifth, late]
    assert len({*first, fifth, late}) == 7
