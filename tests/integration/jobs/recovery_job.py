"""Mini-cluster recovery job: a checkpointed number source, the RecoveryAgent, a FileSink.

usage: recovery_job.py OUT_DIR CHECKPOINT_DIR N CALL_LOG MARKER [--fail-at I] [--restarts K]
                       [--restore PATH] [--expect-failure] [--savepoint-after C --savepoint-dir D]
                       [--store ADDRESS] [--job-id NAME] [--mode thread|process] [--crash]
                       [--agent-parallelism P]

Checkpoints every second (retained on cancellation and failure), restarts K times (fixed delay).
``--fail-at`` injects one failure at input I after a checkpoint; ``--restore`` starts from a
checkpoint or savepoint; ``--expect-failure`` prints ``JOB FAILED`` and exits 0 when the job fails;
``--savepoint-after C`` stops the job with a savepoint in D once C calls were made and prints
``SAVEPOINT <path>``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cloudpickle

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import tests.support.recovery_agent as recovery
from flink_agents_ctx import AgentsExecutionEnvironment, stop_with_savepoint

cloudpickle.register_pickle_by_value(recovery)


class Throttle:
    """~200 records/s, so checkpoints fall mid-stream. Past the input of the injected failure, ~20/s
    until the failure happened: the input must not run out while that action waits for a
    checkpoint (on a slow machine it could, as the agent lags the source; at the end of input the
    operator drains parked runs inside one callback, and no checkpoint completes meanwhile)."""

    def __init__(self, fail_at: int, marker: str) -> None:
        self.fail_at = fail_at
        self.failed = marker + ".failed"

    def __call__(self, n: int) -> int:
        pending = 0 <= self.fail_at < n and not os.path.exists(self.failed)
        time.sleep(0.05 if pending else 0.005)
        return n


def main() -> None:
    from pyflink.common import Configuration, Encoder, Types, WatermarkStrategy
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.datastream.connectors.file_system import FileSink, RollingPolicy
    from pyflink.datastream.connectors.number_seq import NumberSequenceSource

    parser = argparse.ArgumentParser()
    for name in ("out", "checkpoints", "inputs", "call_log", "marker"):
        parser.add_argument(name)
    parser.add_argument("--fail-at", type=int, default=-1)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--restore")
    parser.add_argument("--expect-failure", action="store_true")
    parser.add_argument("--store", help="action-state.store address")
    parser.add_argument("--mode", default="thread", choices=("thread", "process"))
    parser.add_argument("--agent-parallelism", type=int, default=1)
    parser.add_argument("--crash", action="store_true", help="fail with os._exit, not raise")
    parser.add_argument("--job-id", default="recovery-test", help="'' leaves it unset")
    parser.add_argument("--savepoint-after", type=int)
    parser.add_argument("--savepoint-dir")
    args = parser.parse_args()

    conf = Configuration()
    # The throttling map is created before the agent environment sets its default, so say it
    # here: in process mode it would run in bundles and hand the agent all input at once.
    conf.set_string("python.execution-mode", args.mode)
    if args.mode == "process":
        # Small bundles: records reach the agent as they come, and checkpoints are not held up.
        conf.set_string("python.fn-execution.bundle.size", "10")
        conf.set_string("python.fn-execution.bundle.time", "20")
    conf.set_string("execution.checkpointing.interval", "1 s")
    conf.set_string("execution.checkpointing.dir", Path(args.checkpoints).as_uri())
    conf.set_string(
        "execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION"
    )
    conf.set_string("restart-strategy.type", "fixed-delay")
    conf.set_string("restart-strategy.fixed-delay.attempts", str(args.restarts))
    conf.set_string("restart-strategy.fixed-delay.delay", "1 s")
    if args.restore:
        conf.set_string("execution.state-recovery.path", args.restore)
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(1)
    source = NumberSequenceSource(0, int(args.inputs) - 1)
    throttle = Throttle(args.fail_at, args.marker)
    numbers = env.from_source(source, WatermarkStrategy.no_watermarks(), "numbers").map(
        throttle, output_type=Types.LONG()
    )
    agent_config: dict[str, object] = {
        "num-async-threads": 4,
        "test.fail-at": args.fail_at,
        "test.call-log": args.call_log,
        "test.marker": args.marker,
        "test.checkpoint-dir": args.checkpoints,
        "test.crash": args.crash,
    }
    if args.job_id:
        agent_config["job-identifier"] = args.job_id
    if args.store:
        agent_config["action-state.store"] = args.store
    out = (
        AgentsExecutionEnvironment.get_execution_environment(env, agent_config)
        .from_datastream(numbers, key_selector=lambda x: x % 5)
        .apply(recovery.RecoveryAgent())
        .to_datastream()
        # The source stays at parallelism 1, so each key's inputs arrive in order.
        .set_parallelism(args.agent_parallelism)
    )
    out.map(str, output_type=Types.STRING()).sink_to(
        # Roll on every checkpoint, so each checkpoint and savepoint commits what came before it.
        FileSink.for_row_format(args.out, Encoder.simple_string_encoder())
        .with_rolling_policy(RollingPolicy.on_checkpoint_rolling_policy())
        .build()
    )
    if args.savepoint_after is not None:
        # With an injected failure, stop only after it happened (and the job restored).
        failed = Path(args.marker + ".failed") if args.fail_at >= 0 else None
        stop_after_calls(env, args.call_log, args.savepoint_after, args.savepoint_dir, failed)
        return
    try:
        env.execute("recovery")
    except Exception:
        if not args.expect_failure:
            raise
        print("JOB FAILED")


def stop_after_calls(
    env: object, call_log: str, calls: int, savepoint_dir: str, after: Path | None
) -> None:
    client = env.execute_async("recovery")  # type: ignore[attr-defined]
    deadline = time.monotonic() + 120
    log = Path(call_log)

    def made() -> int:
        return log.read_text().count("\n") if log.exists() else 0

    # With ``after``: wait for it, then for 50 more calls, so the restarted job is running.
    need = calls if after is None else None
    while need is None or made() < need:
        if time.monotonic() > deadline:
            raise TimeoutError(f"fewer than {calls} calls after 120 s")
        if need is None and after is not None and after.exists():
            need = max(calls, made() + 50)
        time.sleep(0.05)
    print("SAVEPOINT", stop_with_savepoint(client, Path(savepoint_dir).as_uri()))
    client.get_job_execution_result().result()


if __name__ == "__main__":
    main()
