"""Cost of one ``ctx.durable_execute`` of a no-op function vs a plain call, per call.

Runs in the test harness (in-memory keyed state, no JVM): one action makes CALLS calls in a loop,
once plain and once through ``durable_execute``; the difference divided by CALLS is the per-call
cost of identity (function id + argument digest), journal lookup and recording.

usage: ./dev bench durable_overhead [--calls N] [--repeat R]
"""

from __future__ import annotations

import argparse
import time

from flink_agents_ctx import Agent, InputEvent, RunnerContext
from flink_agents_ctx.testing import AgentTestHarness


def noop(x: int, label: str) -> int:
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    calls = args.calls
    timings: dict[str, float] = {}

    def plain(event: InputEvent, ctx: RunnerContext) -> None:
        started = time.perf_counter()
        for i in range(calls):
            noop(i, "label")
        timings["plain"] = time.perf_counter() - started

    def durable(event: InputEvent, ctx: RunnerContext) -> None:
        started = time.perf_counter()
        for i in range(calls):
            ctx.durable_execute(noop, i, "label")
        timings["durable"] = time.perf_counter() - started

    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for name, func in (("plain", plain), ("durable", durable)):
            AgentTestHarness(Agent().add_action(name, [InputEvent], func)).run([("k", 0)])
            best[name] = min(best.get(name, float("inf")), timings[name])
    plain_us = best["plain"] / calls * 1e6
    durable_us = best["durable"] / calls * 1e6
    print(f"calls per action: {calls}, best of {args.repeat}")
    print(f"plain call:        {plain_us:8.2f} us")
    print(f"durable_execute:   {durable_us:8.2f} us")
    print(f"overhead per call: {durable_us - plain_us:8.2f} us")


if __name__ == "__main__":
    main()
