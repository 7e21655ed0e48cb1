"""Async durable calls: K keys x N inputs, each action awaits one call that sleeps C ms.

Runs on a local mini-cluster in thread mode (parallelism 1), in one process:
  (a) async: ``await ctx.durable_execute_async(call)`` -- other keys go on while a key waits;
  (b) sync:  ``ctx.durable_execute(call)`` -- the task thread waits for every call.
Prints wall time from the first input to the last output, the thread-bound ideal for (a),
``inputs x C / num-async-threads``, and the ratios. Long calls (the default 50 ms) show how well
waiting keys overlap; short ones (``--call-ms 1``) show the operator's own cost per async input.

With ``--store sqlite`` (or ``--store postgresql``, a server started for the run) the async
variant runs again with the write-ahead action-state store on, and records/s of both are printed.

usage: ./dev bench async_calls [--keys K] [--per-key N] [--threads T] [--call-ms C] [--skip-sync]
                               [--store sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from marks import Marks
from marks import read as read_marks

from flink_agents_ctx import (
    Agent,
    AgentsExecutionEnvironment,
    InputEvent,
    OutputEvent,
    RunnerContext,
)

CALL_S = 0.05  # set from --call-ms before the jobs are built (pickled with the functions)


def slow_call(x: int) -> int:
    time.sleep(CALL_S)
    return x


async def async_action(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.send_event(OutputEvent(output=await ctx.durable_execute_async(slow_call, event.input)))


def sync_action(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.send_event(OutputEvent(output=ctx.durable_execute(slow_call, event.input)))


def run(
    kind: str, keys: int, per_key: int, threads: int, work: Path, store: str | None = None
) -> float:
    from pyflink.common import Types, WatermarkStrategy
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.datastream.connectors.number_seq import NumberSequenceSource

    inputs = keys * per_key
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    config: dict[str, Any] = {"num-async-threads": threads}
    if store:
        config["action-state.store"] = store
    agents_env = AgentsExecutionEnvironment.get_execution_environment(env, config)
    started = work / f"{kind}-start.json"
    numbers = env.from_source(
        NumberSequenceSource(0, inputs - 1), WatermarkStrategy.no_watermarks(), "numbers"
    ).map(Marks(started, 1), output_type=Types.LONG())
    func = async_action if kind == "async" else sync_action
    agent = Agent().add_action("call", [InputEvent], func)
    out = (
        agents_env.from_datastream(numbers, lambda n: n % keys)
        .apply(agent)
        .to_datastream(output_type=Types.LONG())
    )
    ended = work / f"{kind}-end.json"
    out.map(Marks(ended, inputs), output_type=Types.LONG()).filter(lambda v: False).print()
    env.execute(f"async-calls-{kind}")
    first_in = read_marks(started)[0]
    last_out = read_marks(ended)[1]
    return last_out - first_in


def run_with_store(kind: str, keys: int, per_key: int, threads: int, work: Path) -> float:
    if kind == "sqlite":
        return run("async", keys, per_key, threads, work, f"sqlite:///{work}/journal.db")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support import postgres

    server = postgres.start()
    try:
        return run("async", keys, per_key, threads, work, server.url)
    finally:
        server.stop()


def main() -> None:
    global CALL_S
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--per-key", type=int, default=10)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--call-ms", type=float, default=50.0)
    parser.add_argument("--skip-sync", action="store_true")
    parser.add_argument("--store", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    CALL_S = args.call_ms / 1000
    inputs = args.keys * args.per_key
    ideal = inputs * CALL_S / args.threads
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wall_async = run("async", args.keys, args.per_key, args.threads, work)
        wall_sync = None if args.skip_sync else run("sync", args.keys, args.per_key, 1, work)
        wall_store = None
        if args.store:
            wall_store = run_with_store(args.store, args.keys, args.per_key, args.threads, work)
    print(
        f"inputs: {inputs} ({args.keys} keys x {args.per_key}), call: {CALL_S * 1000:.0f} ms, "
        f"num-async-threads: {args.threads}"
    )
    print(f"ideal (inputs x call / threads): {ideal:.2f} s")
    print(
        f"async durable_execute_async:     {wall_async:.2f} s  ({wall_async / ideal:.2f}x ideal, "
        f"{inputs / wall_async:,.0f} inputs/s vs {inputs / ideal:,.0f} thread-bound)"
    )
    if wall_store is not None:
        print(
            f"async with the {args.store} store:  {wall_store:.2f} s  "
            f"({inputs / wall_store:,.0f} inputs/s vs {inputs / wall_async:,.0f} without)"
        )
    if wall_sync is not None:
        print(
            f"sync durable_execute:            {wall_sync:.2f} s  "
            f"(async is {wall_sync / wall_async:.1f}x faster)"
        )


if __name__ == "__main__":
    main()
