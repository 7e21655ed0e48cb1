"""Agents for the durable-execution scenarios, shared by harness tests and mini-cluster jobs.

Calls are counted in :data:`CALLS` (in-process tests) and, when ``FLINK_AGENTS_CALL_LOG`` names a
file, appended to it one line per real call (mini-cluster jobs, whose actions run in another
process).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

from flink_agents_ctx import Agent, Event, InputEvent, OutputEvent, RunnerContext, action
from tests.support.reference_agents import Middle


class _Calls:
    """Real calls by name. ``list.append`` is atomic, so workers need no lock (a lock would also
    keep the module from being shipped to a TaskManager)."""

    def __init__(self) -> None:
        self.made: list[str] = []

    def add(self, name: str) -> None:
        self.made.append(name)

    def __getitem__(self, name: str) -> int:
        return self.made.count(name)

    def clear(self) -> None:
        self.made.clear()


CALLS = _Calls()


def count(name: str, detail: Any = "") -> None:
    CALLS.add(name)
    path = os.environ.get("FLINK_AGENTS_CALL_LOG")
    if path:
        with open(path, "a") as f:  # one short append per call: atomic on POSIX
            f.write(f"{name} {detail}\n")


class Gate:
    """Blocks calls until opened (to hold an action in flight while a test takes a snapshot)."""

    event = threading.Event()

    @classmethod
    def reset(cls) -> None:
        cls.event = threading.Event()


def slow_times_ten(x: int) -> int:
    count("times_ten", x)
    time.sleep(0.05)
    return x * 10


def plus_hundred(x: int) -> int:
    count("plus_hundred", x)
    time.sleep(0.05)
    return x + 100


def double(x: int) -> int:
    count("double", x)
    time.sleep(0.05)
    return x * 2


def triple(x: int) -> int:
    count("triple", x)
    return x * 3


def gated(x: int) -> int:
    count("gated", x)
    if not Gate.event.wait(30):
        raise TimeoutError("gate never opened")
    return x


def boom(x: int) -> int:
    count("boom", x)
    raise ValueError(f"no luck with {x}")


def value_of(event: InputEvent) -> Any:
    """The input, or its value when jobs send (key, value) pairs."""
    return event.input[1] if isinstance(event.input, (tuple, list)) else event.input


class AsyncChainAgent(Agent):
    """x -> await x*10 (50 ms) -> short-term tmp -> Middle -> Output(tmp * 2)."""

    @action(InputEvent)
    @staticmethod
    async def first(event: InputEvent, ctx: RunnerContext) -> None:
        result = await ctx.durable_execute_async(slow_times_ten, value_of(event))
        ctx.short_term_memory.set("tmp", result)
        ctx.send_event(Middle(value=result))

    @action(Middle)
    @staticmethod
    def second(event: Middle, ctx: RunnerContext) -> None:
        ctx.send_event(OutputEvent(output=ctx.short_term_memory.get("tmp") * 2))


class TwoCallsAgent(Agent):
    """x -> await x+100 -> await *2 -> Output."""

    @action(InputEvent)
    @staticmethod
    async def chain(event: InputEvent, ctx: RunnerContext) -> None:
        a = await ctx.durable_execute_async(plus_hundred, value_of(event))
        b = await ctx.durable_execute_async(double, a)
        ctx.send_event(OutputEvent(output=b))


class SyncTripleAgent(Agent):
    """x -> durable x*3 -> Output."""

    @action(InputEvent)
    @staticmethod
    def run(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.send_event(OutputEvent(output=ctx.durable_execute(triple, event.input)))


class TripleThenWaitAgent(Agent):
    """A sync durable call, then an async one that waits on the gate, then Output(x*3)."""

    @action(InputEvent)
    @staticmethod
    async def run(event: InputEvent, ctx: RunnerContext) -> None:
        tripled = ctx.durable_execute(triple, event.input)
        ctx.short_term_memory.set("seen", event.input)
        await ctx.durable_execute_async(gated, event.input)
        ctx.send_event(OutputEvent(output=tripled))


class CaughtFailureAgent(Agent):
    """A call that raises, caught: Output("ERROR:<message>")."""

    @action(InputEvent)
    @staticmethod
    def run(event: InputEvent, ctx: RunnerContext) -> None:
        try:
            ctx.durable_execute(boom, event.input)
        except ValueError as e:
            ctx.send_event(OutputEvent(output=f"ERROR:{e}"))


class UncaughtFailureAgent(Agent):
    @action(InputEvent)
    @staticmethod
    def run(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.send_event(OutputEvent(output=ctx.durable_execute(boom, event.input)))


class GatherAgent(Agent):
    """Three 50 ms calls at once under asyncio.gather -> Output(list)."""

    @action(InputEvent)
    @staticmethod
    async def fan_out(event: InputEvent, ctx: RunnerContext) -> None:
        x = value_of(event)
        results = await asyncio.gather(
            ctx.durable_execute_async(slow_times_ten, x),
            ctx.durable_execute_async(plus_hundred, x),
            ctx.durable_execute_async(double, x),
        )
        ctx.send_event(OutputEvent(output=list(results)))


class Done(Event):
    value: int
