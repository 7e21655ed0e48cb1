"""Runs the ReferenceAgent on an endless sequence and reads the built-in metrics through the
mini-cluster's REST API while the job runs; prints them as JSON, then cancels the job.

usage: metrics_job.py
"""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import cloudpickle

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import tests.support.reference_agents as agents
from flink_agents_ctx import AgentsExecutionEnvironment

cloudpickle.register_pickle_by_value(agents)

WANTED = ("numOfEventProcessed", "numOfActionsExecuted", "numOfEventProcessedPerSec")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return json.loads(response.read())


def main() -> None:
    from pyflink.common import Configuration, Types, WatermarkStrategy
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.datastream.connectors.number_seq import NumberSequenceSource

    port = free_port()
    conf = Configuration()
    conf.set_string("rest.port", str(port))
    conf.set_string("metrics.fetcher.update-interval", "500 ms")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(1)
    numbers = env.from_source(
        NumberSequenceSource(0, 10**12), WatermarkStrategy.no_watermarks(), "numbers"
    )
    pairs = numbers.map(
        lambda n: (str(n % 7), n % 100), output_type=Types.TUPLE([Types.STRING(), Types.LONG()])
    )
    out = (
        AgentsExecutionEnvironment.get_execution_environment(env)
        .from_datastream(pairs, key_selector=lambda r: r[0])
        .apply(agents.ReferenceAgent())
        .to_datastream(name="reference-agent")
    )
    out.filter(lambda x: False).print()
    client = env.execute_async("metrics")
    job_id = str(client.get_job_id())
    try:
        found: dict[str, float] = {}
        deadline = time.time() + 90
        while time.time() < deadline:
            time.sleep(1)
            try:
                vertices = get(port, f"/jobs/{job_id}")["vertices"]
            except OSError:
                continue
            for vertex in vertices:
                names = [
                    m["id"] for m in get(port, f"/jobs/{job_id}/vertices/{vertex['id']}/metrics")
                ]
                hits = [n for n in names if n.split(".")[-1] in WANTED]
                if not hits:
                    continue
                query = ",".join(hits)
                values = get(port, f"/jobs/{job_id}/vertices/{vertex['id']}/metrics?get={query}")
                found = {v["id"]: float(v["value"]) for v in values}
            per_action = [n for n in found if ".action.action1." in n]
            if per_action and all(v > 0 for n, v in found.items() if not n.endswith("PerSec")):
                break
        print(json.dumps(found, sort_keys=True))
    finally:
        client.cancel().result()


if __name__ == "__main__":
    main()
