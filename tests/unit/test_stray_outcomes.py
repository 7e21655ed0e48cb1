"""Outcomes nobody waits for any more: a late outcome of a timed-out call must not keep its key
looking ready (polled at the fastest rate, or spinning at the end of input), and a call that timed
out while still queued must never run."""

from __future__ import annotations

import asyncio
import contextlib
import time

from flink_agents_ctx import (
    Agent,
    DurableCallTimeoutError,
    Event,
    InputEvent,
    OutputEvent,
    RunnerContext,
    durable,
)
from flink_agents_ctx.testing import AgentTestHarness


class Middle(Event):
    value: int


def slow(x: int) -> int:
    time.sleep(0.1)
    return x


async def first(event: InputEvent, ctx: RunnerContext) -> None:
    if event.input == "stray":
        with contextlib.suppress(DurableCallTimeoutError):
            await ctx.durable_execute_async(durable(slow, timeout_s=0.02), 1)
    ctx.send_event(Middle(value=1))


async def second(event: Middle, ctx: RunnerContext) -> None:
    await asyncio.sleep(0.6)
    ctx.send_event(OutputEvent(output="done"))


def fired(kind: str) -> tuple[int, float]:
    agent = Agent().add_action("first", [InputEvent], first).add_action("second", [Middle], second)
    h = AgentTestHarness(agent)
    t0 = time.process_time()
    assert h.run([("k", kind)]) == ["done"]
    cpu = time.process_time() - t0
    n = h.timers_fired
    h.close()
    return n, cpu


def test_stray_completion_does_not_make_the_key_spin() -> None:
    base, base_cpu = fired("clean")
    stray, stray_cpu = fired("stray")
    print(f"timers fired: clean {base} (cpu {base_cpu:.2f}s), stray {stray} (cpu {stray_cpu:.2f}s)")
    assert stray < 3 * base + 10


def test_end_of_input_does_not_spin() -> None:
    agent = Agent().add_action("first", [InputEvent], first).add_action("second", [Middle], second)
    h = AgentTestHarness(agent)
    h.send("k", "stray")
    t_end = time.monotonic() + 0.06
    while time.monotonic() < t_end:  # the call times out; `second` starts sleeping
        h.poll(0.01)
    time.sleep(0.1)  # the timed-out call's late outcome lands in the key's inbox
    t0, c0 = time.monotonic(), time.process_time()
    assert h.end_input() == ["done"]
    wall, cpu = time.monotonic() - t0, time.process_time() - c0
    print(f"end_input: wall {wall:.2f}s cpu {cpu:.2f}s")
    h.close()
    assert cpu < 0.5 * wall


RAN: list[str] = []


def busy(x: int) -> int:
    time.sleep(0.3)
    return x


def side_effect(x: int) -> int:
    RAN.append("side_effect")  # e.g. a payment
    return x


async def pay_or_block(event: InputEvent, ctx: RunnerContext) -> None:
    if event.input == "busy":
        await ctx.durable_execute_async(busy, 1)
        return
    try:
        await ctx.durable_execute_async(durable(side_effect, timeout_s=0.05), 2)
    except DurableCallTimeoutError:
        ctx.send_event(OutputEvent(output="timed out"))


def test_timed_out_queued_call_is_not_made() -> None:
    h = AgentTestHarness(
        Agent().add_action("act", [InputEvent], pay_or_block), {"num-async-threads": 1}
    )
    h.send("a", "busy")
    h.send("b", "pay")
    out = h.drain()
    time.sleep(0.1)
    h.close()
    print(out, RAN)
    assert out == ["timed out"]
    assert RAN == [], "the call recorded as timed out ran afterwards"
