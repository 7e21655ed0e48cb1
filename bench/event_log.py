"""Cost of the event log per input: off (the default), on at INFO (every event), on at DEBUG
(events and action records), and on but filtered out (level ERROR), printed as microseconds per
input and as ratios against "off" measured in the same run.

The agent is the two-action reference chain (input -> Middle -> output) driven through the test
harness, so the numbers are the operator's Python cost alone (a mini-cluster job adds the same
absolute cost on top of Flink's own per-record work). Variants run interleaved in ``--rounds``
rounds; the best time of each is kept. The log goes to a JSON-lines file in a temporary directory.

usage: ./dev bench event_log [--inputs N] [--keys K] [--rounds R]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from flink_agents_ctx import Agent, Event, InputEvent, OutputEvent, RunnerContext, action
from flink_agents_ctx.testing import AgentTestHarness


class Middle(Event):
    value: int
    text: str


class Chain(Agent):
    @action(InputEvent)
    @staticmethod
    def first(event: InputEvent, ctx: RunnerContext) -> None:
        record = event.input
        ctx.send_event(Middle(value=record["n"] + 1, text=record["text"]))

    @action(Middle)
    @staticmethod
    def second(event: Middle, ctx: RunnerContext) -> None:
        ctx.send_event(OutputEvent(output=event.value * 2))


def per_input_us(config: dict[str, Any], inputs: int, keys: int) -> float:
    harness = AgentTestHarness(Chain(), config)
    text = "a support ticket body of about one hundred characters, as an input would carry it."
    records = [({"n": n, "text": text}, n % keys) for n in range(inputs)]
    start = time.perf_counter()
    for record, key in records:
        harness.send(key, record)
    elapsed = time.perf_counter() - start
    harness.close()
    return elapsed / inputs * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=20_000)
    parser.add_argument("--keys", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-event-log-") as tmp:
        log = str(Path(tmp) / "events.jsonl")
        variants = {
            "off": {},
            "on, INFO (events)": {"event-log.sink": "file", "event-log.file": log},
            "on, DEBUG (events + actions)": {
                "event-log.sink": "file",
                "event-log.file": log,
                "event-log.level": "DEBUG",
            },
            "on, filtered out (ERROR)": {
                "event-log.sink": "file",
                "event-log.file": log,
                "event-log.level": "ERROR",
            },
        }
        best = {name: float("inf") for name in variants}
        for round_no in range(1, args.rounds + 1):
            for name, config in variants.items():
                best[name] = min(best[name], per_input_us(config, args.inputs, args.keys))
                Path(log).unlink(missing_ok=True)
            print(f"  round {round_no}: " + ", ".join(f"{n} {best[n]:.1f}" for n in variants))
        lines = 0
        per_input_us({**variants["on, DEBUG (events + actions)"]}, 100, 10)
        lines = len(Path(log).read_text().splitlines())
    print(
        f"event log, two-action agent, {args.inputs:,} inputs over {args.keys:,} keys, harness, "
        f"best of {args.rounds} rounds ({lines // 100} records per input at DEBUG)"
    )
    off = best["off"]
    for name, us in best.items():
        print(f"  {name:30s} {us:7.2f} us/input   {us / off:5.2f}x off")


if __name__ == "__main__":
    main()
