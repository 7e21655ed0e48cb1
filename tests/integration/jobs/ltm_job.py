"""Mini-cluster job writing and searching long-term memory (embedded Qdrant in a directory).

usage: ltm_job.py OUT_DIR CHECKPOINT_DIR N QDRANT_DIR MARKER [--fail-at I]

Checkpoints every second, restarts after the injected failure; each input's fact is added to its
key's memory set and searched back, the output is ``n:found``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cloudpickle

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import tests.support.failures as failures
import tests.support.ltm_agents as ltm_agents
from flink_agents_ctx import AgentsExecutionEnvironment
from tests.support.failures import checkpointed_environment

cloudpickle.register_pickle_by_value(ltm_agents)
cloudpickle.register_pickle_by_value(failures)


def throttle(n: int) -> int:
    time.sleep(0.005)
    return n


def main() -> None:
    from pyflink.common import Encoder, Types, WatermarkStrategy
    from pyflink.datastream.connectors.file_system import FileSink, RollingPolicy
    from pyflink.datastream.connectors.number_seq import NumberSequenceSource

    out_dir, checkpoints, n, qdrant_dir, marker = sys.argv[1:6]
    fail_at = int(sys.argv[sys.argv.index("--fail-at") + 1]) if "--fail-at" in sys.argv else -1
    env = checkpointed_environment(checkpoints)
    numbers = env.from_source(
        NumberSequenceSource(0, int(n) - 1), WatermarkStrategy.no_watermarks(), "numbers"
    ).map(throttle, output_type=Types.LONG())
    config = {
        "long-term-memory.backend": "qdrant",
        "long-term-memory.qdrant.location": qdrant_dir,
        "job-identifier": "ltm-test",
        "num-async-threads": 8,
        "test.fail-at": fail_at,
        "test.marker": marker,
        "test.checkpoint-dir": checkpoints,
    }
    out = (
        AgentsExecutionEnvironment.get_execution_environment(env, config)
        .from_datastream(numbers, key_selector=lambda x: x % 5)
        .apply(ltm_agents.MemoryAgent())
        .to_datastream(output_type=Types.STRING())
    )
    out.sink_to(
        FileSink.for_row_format(out_dir, Encoder.simple_string_encoder())
        .with_rolling_policy(RollingPolicy.on_checkpoint_rolling_policy())
        .build()
    )
    env.execute("long-term-memory")


if __name__ == "__main__":
    main()
