"""Mini-cluster job with Java actions (the bridge jar and the example actions jar).

usage: java_job.py mixed OUT_DIR INPUTS_JSON [MODE]
       java_job.py score OUT_DIR CHECKPOINT_DIR N CALL_LOG MARKER STORE [--fail-at I]
                         [--two-step MILLIS]
       java_job.py slow OUT_DIR TIMES_FILE KEYS PER_KEY MILLIS THREADS

``mixed`` runs MixedAgent over (key, value) pairs; in MODE ``process`` it prints ``BUILD ERROR``
and the error when the job cannot be built, and exits 0. A job that fails prints ``JOB FAILED``
and the error chain, and exits 0. ``score`` runs ScoreAgent over a checkpointed number source with
the write-ahead store at STORE ('' for none), restarting after the injected failure; with
``--two-step`` its Java action is TwoStep (two async calls, the second MILLIS ms). ``slow`` runs one Java
action awaiting one MILLIS ms ``durableExecuteAsync`` per input over KEYS x PER_KEY inputs with
THREADS async threads, and writes the first and last output arrival times to TIMES_FILE.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

import cloudpickle

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import tests.support.failures as failures
import tests.support.java_agents as java_agents
from flink_agents_ctx import AgentsExecutionEnvironment, JavaBridgeError
from flink_agents_ctx.bridge_jar import examples_jar
from tests.support.failures import checkpointed_environment

cloudpickle.register_pickle_by_value(java_agents)
cloudpickle.register_pickle_by_value(failures)


def throttle(n: int) -> int:
    time.sleep(0.01)  # ~100 records/s, so checkpoints fall mid-stream
    return n


def mixed(out_dir: str, inputs: list[list[object]], mode: str) -> None:
    from pyflink.common import Configuration, Encoder, Types
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.datastream.connectors.file_system import FileSink

    conf = Configuration()
    conf.set_string("python.execution-mode", mode)
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(1)
    env.add_jars(examples_jar().as_uri())
    pairs = [(str(k), json.dumps(v)) for k, v in inputs]
    stream = env.from_collection(pairs, type_info=Types.TUPLE([Types.STRING(), Types.STRING()]))
    stream = stream.map(
        lambda r: (r[0], json.loads(r[1])),
        output_type=Types.PICKLED_BYTE_ARRAY(),
    )
    try:
        out = (
            AgentsExecutionEnvironment.get_execution_environment(env)
            .from_datastream(stream, key_selector=lambda r: r[0])
            .apply(java_agents.mixed_agent())
            .to_datastream(output_type=Types.STRING())
        )
    except JavaBridgeError as e:
        print(f"BUILD ERROR {type(e).__name__}: {e}")
        return
    out.sink_to(FileSink.for_row_format(out_dir, Encoder.simple_string_encoder()).build())
    try:
        env.execute("java-mixed")
    except Exception:
        print("JOB FAILED")
        print(traceback.format_exc())


def score(args: list[str]) -> None:
    from pyflink.common import Encoder, Types, WatermarkStrategy
    from pyflink.datastream.connectors.file_system import FileSink, RollingPolicy
    from pyflink.datastream.connectors.number_seq import NumberSequenceSource

    out_dir, checkpoints, n, call_log, marker, store = args[:6]
    fail_at = int(args[args.index("--fail-at") + 1]) if "--fail-at" in args else -1
    two_step = int(args[args.index("--two-step") + 1]) if "--two-step" in args else None
    env = checkpointed_environment(checkpoints)
    env.add_jars(examples_jar().as_uri())
    source = NumberSequenceSource(0, int(n) - 1)
    numbers = env.from_source(source, WatermarkStrategy.no_watermarks(), "numbers").map(
        throttle, output_type=Types.LONG()
    )
    config: dict[str, object] = {
        "job-identifier": "java-score",
        "num-async-threads": 8,
        "test.fail-at": fail_at,
        "test.marker": marker,
        "test.checkpoint-dir": checkpoints,
    }
    if store:
        config["action-state.store"] = store
    out = (
        AgentsExecutionEnvironment.get_execution_environment(env, config)
        .from_datastream(numbers, key_selector=lambda x: x % 5)
        .apply(java_agents.score_agent(call_log, two_step))
        .to_datastream(output_type=Types.STRING())
    )
    out.sink_to(
        FileSink.for_row_format(out_dir, Encoder.simple_string_encoder())
        .with_rolling_policy(RollingPolicy.on_checkpoint_rolling_policy())
        .build()
    )
    env.execute("java-score")


def slow(args: list[str]) -> None:
    from pyflink.common import Encoder, Types
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.datastream.connectors.file_system import FileSink

    out_dir, times, keys, per_key, millis, threads = args[:6]
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.add_jars(examples_jar().as_uri())
    inputs = [(f"k{k}", k * 1000 + i) for i in range(int(per_key)) for k in range(int(keys))]
    stream = env.from_collection(inputs, type_info=Types.TUPLE([Types.STRING(), Types.LONG()]))
    out = (
        AgentsExecutionEnvironment.get_execution_environment(
            env, {"num-async-threads": int(threads)}
        )
        .from_datastream(stream, key_selector=lambda r: r[0])
        .apply(java_agents.slow_lookup_agent(int(millis)))
        .to_datastream()
    )
    lines = out.map(java_agents.Arrivals(times, len(inputs))).map(
        json.dumps, output_type=Types.STRING()
    )
    lines.sink_to(FileSink.for_row_format(out_dir, Encoder.simple_string_encoder()).build())
    env.execute("java-slow")


def main() -> None:
    if sys.argv[1] == "slow":
        slow(sys.argv[2:])
    elif sys.argv[1] == "mixed":
        mode = sys.argv[4] if len(sys.argv) > 4 else "thread"
        mixed(sys.argv[2], json.loads(sys.argv[3]), mode)
    else:
        score(sys.argv[2:])


if __name__ == "__main__":
    main()
