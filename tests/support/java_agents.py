"""Agents with Java actions (classes from java-bridge/src/test/java/flinkagentsctx/examples)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flink_agents_ctx import (
    Agent,
    Event,
    InputEvent,
    OutputEvent,
    ResourceType,
    RunnerContext,
    action,
)
from tests.support.failures import fail_once_after_a_checkpoint


class Checked(Event):
    note: str


class Misuse(Event):
    what: str


class Back(Event):
    value: Any


class Score(Event):
    n: int


class Scored(Event):
    n: int
    score: int


class MixedAgent(Agent):
    """Python -> Java (RulesCheck) -> Python, each reading the memory the others wrote; inputs
    that are strings go to the Misbehaving Java action instead."""

    @action(InputEvent)
    @staticmethod
    def first(event: InputEvent, ctx: RunnerContext) -> None:
        _key, value = event.input
        if isinstance(value, str):
            ctx.send_event(Misuse(what=value))
            return
        ctx.sensory_memory.set("from_python", value)
        count = ctx.short_term_memory.get("count") or 0
        ctx.short_term_memory.set("count", count + 1)
        ctx.send_event(Checked(note=f"n={value}"))

    @action(Back)
    @staticmethod
    def last(event: Back, ctx: RunnerContext) -> None:
        record = {
            "back": event.value,
            "from_java": ctx.sensory_memory.get("from_java"),
            "seen": ctx.short_term_memory.get("java.seen"),
        }
        ctx.send_event(OutputEvent(output=json.dumps(record, sort_keys=True)))


def mixed_agent() -> Agent:
    return (
        MixedAgent()
        .add_java_action("rules", "flinkagentsctx.examples.RulesCheck", [Checked], limit=3)
        .add_java_action("misbehaving", "flinkagentsctx.examples.Misbehaving", [Misuse])
        .add_java_resource(
            "thresholds", ResourceType.TOOL, "flinkagentsctx.examples.Thresholds", limit=42
        )
    )


class ScoreAgent(Agent):
    """Python -> Java (DurableScore, one durable call per input) -> Python; the last action fails
    once at input ``test.fail-at`` after a checkpoint completed (``test.marker`` remembers it)."""

    @action(InputEvent)
    @staticmethod
    def ask(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.send_event(Score(n=int(event.input)))

    @action(Scored)
    @staticmethod
    def finish(event: Scored, ctx: RunnerContext) -> None:
        fail_once_after_a_checkpoint(ctx.config, event.n)
        ctx.send_event(OutputEvent(output=f"{event.n}:{event.score}"))


def score_agent(call_log: str, two_step_millis: int | None = None) -> Agent:
    if two_step_millis is not None:
        return ScoreAgent().add_java_action(
            "score",
            "flinkagentsctx.examples.TwoStep",
            [Score],
            call_log=call_log,
            millis=two_step_millis,
        )
    return ScoreAgent().add_java_action(
        "score", "flinkagentsctx.examples.DurableScore", [Score], call_log=call_log
    )


def slow_lookup_agent(millis: int) -> Agent:
    return Agent().add_java_action(
        "lookup", "flinkagentsctx.examples.SlowLookup", [InputEvent], millis=millis
    )


class Arrivals:
    """A map after the operator: writes ``[first, last, count]`` arrival times of ``expected``
    records to ``path`` once the last arrived."""

    def __init__(self, path: str, expected: int) -> None:
        self.path, self.expected, self.seen, self.first = path, expected, 0, 0.0

    def __call__(self, value: Any) -> Any:
        import time

        self.seen += 1
        now = time.perf_counter()
        if self.seen == 1:
            self.first = now
        if self.seen == self.expected:
            Path(self.path).write_text(json.dumps([self.first, now, self.seen]))
        return value
