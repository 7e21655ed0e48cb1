"""Java bridge: the same one-action agent in Python and in Java, and the cost of a bridged memory call.

Runs on a local mini-cluster in thread mode, one job at a time, in ``--rounds`` rounds:
  (a) Python one-action agent: per record short-term memory get/set of a counter, get x, set x,
      set y, one output (the agent of ``operator_overhead`` (b));
  (b) the same action in Java (``flinkagentsctx.examples.Counting``): every memory call and the
      output cross the bridge;
  (c) memory calls: a Python action and a Java action (``flinkagentsctx.examples.MemoryLoop``) each
      make ``--loops`` pairs of sensory-memory set + get per record and time them inside the action
      (``time.perf_counter_ns`` / ``System.nanoTime``): the cost of one call in each language;
  (d) async Java calls: ``flinkagentsctx.examples.SlowLookup`` awaits one 50 ms
      ``durableExecuteAsync`` per input, 100 keys x 10 inputs, 10 threads, on JDK 21 (suspended:
      compared with the ideal inputs x 0.05 s / threads) and, with 100 inputs, on JDK 17 (a
      synchronous call). Each runs in a child process, since a process starts one JVM.
Throughput is measured where the records arrive (a timing map after the operator), from the first
to the last record; the best of the rounds is kept.

usage: ./dev bench java_bridge [--records N] [--keys K] [--rounds R] [--loops L] [--skip-async]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from marks import Marks, Totals
from marks import read as read_marks

from flink_agents_ctx import (
    Agent,
    AgentsExecutionEnvironment,
    InputEvent,
    OutputEvent,
    RunnerContext,
)
from flink_agents_ctx.bridge_jar import examples_jar
from flink_agents_ctx.jdk import jdk21_home


def count_action(event: InputEvent, ctx: RunnerContext) -> None:
    memory = ctx.short_term_memory
    n = (memory.get("count") or 0) + 1
    memory.set("count", n)
    x = (memory.get("x") or 0) + event.input[1]
    memory.set("x", x)
    memory.set("y", n)
    ctx.send_event(OutputEvent(output=x))


def memory_loop(event: InputEvent, ctx: RunnerContext) -> None:
    loops = ctx.get_action_config_value("loops")
    memory = ctx.sensory_memory
    started = time.perf_counter_ns()
    for i in range(loops):
        memory.set("v", i)
        memory.get("v")
    ctx.send_event(OutputEvent(output=time.perf_counter_ns() - started))


def agent_of(kind: str, loops: int) -> Agent:
    if kind == "python":
        return Agent().add_action("count", [InputEvent], count_action)
    if kind == "java":
        return Agent().add_java_action("count", "flinkagentsctx.examples.Counting", [InputEvent])
    if kind == "python-calls":
        return Agent().add_action("loop", [InputEvent], memory_loop, loops=loops)
    return Agent().add_java_action(
        "loop", "flinkagentsctx.examples.MemoryLoop", [InputEvent], loops=loops
    )


def run(kind: str, records: int, keys: int, loops: int, work: Path) -> float:
    """records/s for the throughput jobs; ns per memory call for the ``-calls`` jobs."""
    from pyflink.common import Types, WatermarkStrategy
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.datastream.connectors.number_seq import NumberSequenceSource

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.add_jars(examples_jar().as_uri())
    agents_env = AgentsExecutionEnvironment.get_execution_environment(env)  # thread mode
    numbers = env.from_source(
        NumberSequenceSource(0, records - 1), WatermarkStrategy.no_watermarks(), "numbers"
    )
    pairs = numbers.map(
        lambda n: (n % keys, 1), output_type=Types.TUPLE([Types.LONG(), Types.LONG()])
    )
    out = (
        agents_env.from_datastream(pairs, lambda r: r[0])
        .apply(agent_of(kind, loops))
        .to_datastream(output_type=Types.LONG())
    )
    path = work / f"{kind}.json"
    probe = Totals(path, records) if kind.endswith("-calls") else Marks(path, records)
    out.map(probe, output_type=Types.LONG()).filter(lambda v: False).print()
    env.execute(f"java-bridge-{kind}")
    first, last = read_marks(path)
    if kind.endswith("-calls"):
        total_ns, count = first, last
        return total_ns / (count * loops * 2)
    return records / (last - first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--loops", type=int, default=20)
    parser.add_argument("--skip-async", action="store_true", help="skip part (d)")
    args = parser.parse_args()
    rates: dict[str, float] = {}
    costs: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(
            f"records={args.records} keys={args.keys} loops={args.loops} mode=thread "
            f"parallelism=1 cpus={os.cpu_count()} rounds={args.rounds}"
        )
        for round_no in range(1, args.rounds + 1):
            for kind in ("python", "java"):
                rate = run(kind, args.records, args.keys, args.loops, work)
                rates[kind] = max(rates.get(kind, 0.0), rate)
                print(f"round {round_no} one-action agent in {kind:6s} {rate:10,.0f} records/s")
            for kind in ("python-calls", "java-calls"):
                cost = run(kind, args.records // 5, args.keys, args.loops, work)
                costs[kind] = min(costs.get(kind, float("inf")), cost)
                language = kind.removesuffix("-calls")
                print(
                    f"round {round_no} memory call from {language:6s} {cost / 1000:10.2f} µs "
                    "per set or get"
                )
    python, java = rates["python"], rates["java"]
    print(
        f"best one-action agent: python {python:,.0f} records/s, java {java:,.0f} records/s, "
        f"java/python = {java / python:.2f}"
    )
    py_call, java_call = costs["python-calls"], costs["java-calls"]
    print(
        f"best memory call: python {py_call / 1000:.2f} µs, java (bridged) "
        f"{java_call / 1000:.2f} µs, java/python = {java_call / py_call:.1f}"
    )
    if not args.skip_async:
        async_calls()


def async_calls() -> None:
    """Part (d), in child processes (one JVM each)."""
    root = Path(__file__).resolve().parents[1]
    job = root / "tests" / "integration" / "jobs" / "java_job.py"
    runs = [("21", 100, 10), ("17", 20, 5)]
    if jdk21_home() is None:
        print("async Java calls on JDK 21: skipped (pip install 'flink-agents-ctx[jdk21]')")
        runs = runs[1:]
    for jdk, keys, per_key in runs:
        with tempfile.TemporaryDirectory() as tmp:
            times = Path(tmp) / "times.json"
            env = {**os.environ, "FLINK_AGENTS_CTX_JDK": jdk}
            command = [sys.executable, str(job), "slow", f"{tmp}/out", str(times)]
            command += [str(keys), str(per_key), "50", "10"]
            subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)
            first, last, count = json.loads(times.read_text())
        ideal = count * 0.05 / 10
        print(
            f"async Java calls on JDK {jdk}: {count} inputs x 50 ms, 10 threads: "
            f"{last - first:.2f} s first to last output, ideal {ideal:.2f} s, "
            f"ratio {(last - first) / ideal:.2f}"
        )


if __name__ == "__main__":
    main()
