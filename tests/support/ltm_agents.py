"""An agent that writes and searches long-term memory from an async action (mini-cluster tests)."""

from __future__ import annotations

import time

from flink_agents_ctx import Agent, Event, InputEvent, OutputEvent, RunnerContext, action
from tests.support.failures import fail_once_after_a_checkpoint


class Remembered(Event):
    n: int
    found: bool
    text: str


def look_up(n: int) -> str:
    time.sleep(0.02)  # a slow service: other keys run meanwhile
    return f"fact {n} about device {n % 5}"


class MemoryAgent(Agent):
    """Per input n: an async call makes a fact, the fact is added to the key's long-term memory
    set and searched back; ``finish`` fails once at input ``test.fail-at`` after a checkpoint."""

    @action(InputEvent)
    @staticmethod
    async def remember(event: InputEvent, ctx: RunnerContext) -> None:
        n = int(event.input)
        facts = ctx.long_term_memory.get_memory_set("facts")
        text = await ctx.durable_execute_async(look_up, n)
        facts.add([text], metadatas=[{"n": n}])
        best = facts.search(text, limit=1)
        ctx.send_event(Remembered(n=n, found=bool(best) and best[0].value == text, text=text))

    @action(Remembered)
    @staticmethod
    def finish(event: Remembered, ctx: RunnerContext) -> None:
        fail_once_after_a_checkpoint(ctx.config, event.n)
        ctx.send_event(OutputEvent(output=f"{event.n}:{event.found}"))
