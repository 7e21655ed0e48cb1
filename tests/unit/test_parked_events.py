"""A parked run keeps its events in their wire form, so an event class that cannot be pickled by
reference (defined in a job script's ``__main__`` and shipped by value, or local to a function)
still parks, checkpoints and restores as an instance of the agent's own class."""

from __future__ import annotations

import pickle
import threading
from typing import Any

import pytest

from flink_agents_ctx import Agent, Event, InputEvent, OutputEvent, RunnerContext
from flink_agents_ctx.testing import AgentTestHarness


def test_an_async_action_on_an_unpicklable_event_class_parks_and_restores() -> None:
    class Local(Event):  # pickle cannot find it by name
        value: int
        tags: list[str]

    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(Local(value=1, tags=[]))

    gate = threading.Event()
    made: list[int] = []

    def slow(value: int) -> int:
        made.append(value)
        gate.wait(10)
        return value * 2

    def first(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.send_event(Local(value=event.input, tags=["a", "b"]))

    async def second(event: Any, ctx: RunnerContext) -> None:
        assert type(event) is Local  # the agent's own class, also after a restore
        doubled = await ctx.durable_execute_async(slow, event.value)
        ctx.send_event(OutputEvent(output=(doubled, event.tags, event.id)))

    agent = Agent().add_action("first", [InputEvent], first).add_action("second", [Local], second)
    h = AgentTestHarness(agent)
    assert h.send("k", 21) == []
    snapshot = h.snapshot()  # pickles the parked run
    gate.set()
    [(doubled, tags, event_id)] = h.drain()
    assert (doubled, tags) == (42, ["a", "b"])

    restored = AgentTestHarness.restore(agent, snapshot)
    [(again, tags_again, id_again)] = restored.drain()
    assert (again, tags_again, id_again) == (42, ["a", "b"], event_id)
