"""Cost of the write-ahead action-state store per durable call: keyed state only vs SQLite vs
PostgreSQL, in microseconds per ``ctx.durable_execute`` of a no-op.

Runs in the test harness (no JVM): one action makes CALLS calls; each call with a store commits its
record (one transaction) before returning. SQLite is a file in a temporary directory (WAL,
synchronous=FULL); PostgreSQL is a server started on 127.0.0.1 for the run (Debian's postgresql
package; skipped with a note when it is not installed).

usage: ./dev bench store_overhead [--calls N] [--repeat R]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flink_agents_ctx import Agent, InputEvent, RunnerContext
from flink_agents_ctx.testing import AgentTestHarness
from tests.support import postgres


def noop(x: int) -> int:
    return x


def per_call_us(store: str | None, calls: int, repeat: int) -> float:
    timings: list[float] = []

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        started = time.perf_counter()
        for i in range(calls):
            ctx.durable_execute(noop, i)
        timings.append(time.perf_counter() - started)

    config = {"job-identifier": "bench"}
    if store:
        config["action-state.store"] = store
    for n in range(repeat):
        h = AgentTestHarness(Agent().add_action("act", [InputEvent], act), config)
        h.run([(f"key-{n}", 0)])  # a new key each time: no records to replay
        h.close()
    return min(timings) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = [("keyed state only", per_call_us(None, args.calls, args.repeat))]
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("SQLite", per_call_us(f"sqlite:///{tmp}/j.db", args.calls, args.repeat)))
    reason = postgres.unavailable_reason()
    if reason is None:
        server = postgres.start()
        try:
            rows.append(("PostgreSQL", per_call_us(server.url, args.calls, args.repeat)))
        finally:
            server.stop()
    print(f"calls per action: {args.calls}, best of {args.repeat}")
    base = rows[0][1]
    for name, us in rows:
        print(f"{name:18s} {us:9.1f} us per call  (+{us - base:.1f} us, {us / base:.1f}x)")
    if reason is not None:
        print(f"PostgreSQL: not measured ({reason})")


if __name__ == "__main__":
    main()
