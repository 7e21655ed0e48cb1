"""Mini-cluster recovery job: a checkpointed number source, the RecoveryAgent, a FileSink.

usage: recovery_job.py OUT_DIR CHECKPOINT_DIR N FAIL_AT CALL_LOG MARKER [RESTORE_PATH]

Checkpoints every second (retained on cancellation and failure), restarts with a fixed delay.
FAIL_AT < 0 runs without the injected failure; RESTORE_PATH starts from a checkpoint or savepoint.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cloudpickle

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import tests.support.recovery_agent as recovery
from flink_agents_ctx import AgentsExecutionEnvironment

cloudpickle.register_pickle_by_value(recovery)


def throttle(n: int) -> int:
    time.sleep(0.005)  # ~200 records/s, so checkpoints fall mid-stream
    return n


def main() -> None:
    from pyflink.common import Configuration, Encoder, Types, WatermarkStrategy
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.datastream.connectors.file_system import FileSink
    from pyflink.datastream.connectors.number_seq import NumberSequenceSource

    out_dir, checkpoint_dir, n, fail_at, call_log, marker = sys.argv[1:7]
    restore = sys.argv[7] if len(sys.argv) > 7 else None
    conf = Configuration()
    # The throttling map is created before the agent environment sets its default, so say it
    # here: in process mode it would run in bundles and hand the agent all input at once.
    conf.set_string("python.execution-mode", "thread")
    conf.set_string("execution.checkpointing.interval", "1 s")
    conf.set_string("execution.checkpointing.dir", Path(checkpoint_dir).as_uri())
    conf.set_string(
        "execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION"
    )
    conf.set_string("restart-strategy.type", "fixed-delay")
    conf.set_string("restart-strategy.fixed-delay.attempts", "3")
    conf.set_string("restart-strategy.fixed-delay.delay", "1 s")
    if restore:
        conf.set_string("execution.state-recovery.path", restore)
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(1)
    source = NumberSequenceSource(0, int(n) - 1)
    numbers = env.from_source(source, WatermarkStrategy.no_watermarks(), "numbers").map(
        throttle, output_type=Types.LONG()
    )
    agent_config = {
        "job-identifier": "recovery-test",
        "num-async-threads": 4,
        "test.fail-at": int(fail_at),
        "test.call-log": call_log,
        "test.marker": marker,
        "test.checkpoint-dir": checkpoint_dir,
    }
    out = (
        AgentsExecutionEnvironment.get_execution_environment(env, agent_config)
        .from_datastream(numbers, key_selector=lambda x: x % 5)
        .apply(recovery.RecoveryAgent())
        .to_datastream()
    )
    out.map(str, output_type=Types.STRING()).sink_to(
        FileSink.for_row_format(out_dir, Encoder.simple_string_encoder()).build()
    )
    env.execute("recovery")


if __name__ == "__main__":
    main()
