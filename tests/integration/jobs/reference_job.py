"""Mini-cluster job for the reference scenarios: reads (key, x) pairs from argv, runs the
ReferenceAgent (or SensoryAgent), writes "key:output" lines with a FileSink.

usage: reference_job.py OUT_DIR AGENT INPUTS_JSON [CONFIG_JSON [EXECUTION_MODE]]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cloudpickle

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import tests.support.durable_agents as durable_agents
import tests.support.reference_agents as agents
from flink_agents_ctx import AgentsExecutionEnvironment

# The TaskManager's interpreter does not have tests/ on its path: ship the agents by value.
cloudpickle.register_pickle_by_value(agents)
cloudpickle.register_pickle_by_value(durable_agents)


def main() -> None:
    from pyflink.common import Configuration, Encoder, Types
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.datastream.connectors.file_system import FileSink

    out_dir, agent_name, inputs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    conf = Configuration()
    agent_config = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    if len(sys.argv) > 5:
        conf.set_string("python.execution-mode", sys.argv[5])
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(1)
    pairs = [(str(k), v) for k, v in inputs]
    value_type = Types.STRING() if pairs and isinstance(pairs[0][1], str) else Types.LONG()
    stream = env.from_collection(pairs, type_info=Types.TUPLE([Types.STRING(), value_type]))
    agent = {
        "reference": agents.ReferenceAgent,
        "sensory": agents.SensoryAgent,
        "ttl": agents.TtlAgent,
        "async-chain": durable_agents.AsyncChainAgent,
        "two-calls": durable_agents.TwoCallsAgent,
        "gather": durable_agents.GatherAgent,
    }[agent_name]()
    out = (
        AgentsExecutionEnvironment.get_execution_environment(env, agent_config)
        .from_datastream(stream, key_selector=lambda r: r[0])
        .apply(agent)
        .to_datastream()
    )
    # The Java operator PyFlink built for the agent (thread mode: ours, with the barrier hook).
    operator = out._j_data_stream.getTransformation().getOperatorFactory().getOperator()
    print("AGENT OPERATOR", operator.getClass().getName())
    lines = out.map(str, output_type=Types.STRING())
    lines.sink_to(FileSink.for_row_format(out_dir, Encoder.simple_string_encoder()).build())
    env.execute(f"reference-{agent_name}")


if __name__ == "__main__":
    main()
