"""Streaming alert enrichment: look up each alert's host in an HTTP inventory service, let a Java
rules check decide what to do, and write the decisions out.

Input: a stream of monitoring alerts (generated: ``--alerts N`` at ``--rate`` per second), keyed by
host:

- ``enrich`` (Python, ``async def``) asks the inventory service for the host and for its recent
  deploys at once: two durable async calls (``asyncio.gather``), so other hosts go on while it
  waits, and after a failure the job does not ask again for answers it already had. It leaves the
  enrichment in sensory memory for the next step.
- ``rules`` (Java, ``jobs/java/alerts/AlertRules.java``, compiled with javac when the job starts)
  reads it, counts the host's alerts in short-term memory, and decides: page, review-deploy,
  ticket or suppress.
- ``publish`` (Python) writes the enriched decision as one JSON line.

Outputs go to files through an exactly-once FileSink. Without ``--inventory-url`` the job starts a
small inventory service on 127.0.0.1 itself (answers after ``--latency-ms``), so it runs offline.

    ./dev run jobs/alert_enrichment.py
    ./dev run jobs/alert_enrichment.py --alerts 5000 --rate 500
    flink run -py jobs/alert_enrichment.py --inventory-url http://inventory:8080 --output /data/out
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pyflink.common import Configuration, Types, WatermarkStrategy
from pyflink.common.serialization import Encoder
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.datastream.connectors.file_system import FileSink, RollingPolicy
from pyflink.datastream.connectors.number_seq import NumberSequenceSource

from flink_agents_ctx import (
    Agent,
    AgentsExecutionEnvironment,
    Event,
    InputEvent,
    OutputEvent,
    ResourceContext,
    ResourceType,
    RunnerContext,
    action,
    output_dir,
)
from flink_agents_ctx.bridge_jar import actions_jar

JAVA_SOURCES = Path(__file__).parent / "java"
KINDS = ("cpu", "disk", "auth", "latency")
SEVERITIES = ("low", "warning", "critical")


def alert(n: int) -> dict[str, Any]:
    """Alert ``n`` of the generated stream: 20 hosts, deterministic kinds and severities."""
    return {
        "id": f"A-{n}",
        "host": f"host-{(n * 7) % 20}",
        "kind": KINDS[n % len(KINDS)],
        "severity": SEVERITIES[(n * 5 + n // 7) % len(SEVERITIES)],
    }


class Inventory:
    """Client of the inventory service (the agent's ``inventory`` TOOL resource). Its methods are
    what the action calls durably: their arguments (a host name) are what identifies a call, so a
    replay after a restore matches its record even if the service's address changed."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url.rstrip("/")

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self._base_url}/{path}", timeout=10) as response:
            return json.loads(response.read())

    def host(self, name: str) -> dict[str, Any]:
        """The host's owner and tier."""
        return dict(self._get(f"hosts/{name}"))

    def deploys(self, name: str) -> list[dict[str, Any]]:
        """The host's recent deploys, newest first."""
        return list(self._get(f"deploys/{name}"))


def inventory(resources: ResourceContext) -> Inventory:
    return Inventory(resources.config.get_str("alerts.inventory-url") or "")


class Enriched(Event):
    severity: str


class Decided(Event):
    decision: str
    reason: str
    host_alerts: int


class AlertAgent(Agent):
    @action(InputEvent)
    @staticmethod
    async def enrich(event: InputEvent, ctx: RunnerContext) -> None:
        found = event.input
        service = ctx.get_resource("inventory", ResourceType.TOOL)
        host, deploys = await asyncio.gather(
            ctx.durable_execute_async(service.host, found["host"]),
            ctx.durable_execute_async(service.deploys, found["host"]),
        )
        memory = ctx.sensory_memory
        memory.set("alert_id", found["id"])
        memory.set("kind", found["kind"])
        memory.set("severity", found["severity"])
        memory.set("owner", host["owner"])
        memory.set("tier", host["tier"])
        memory.set("deploy", deploys[0]["version"] if deploys else None)
        ctx.send_event(Enriched(severity=found["severity"]))

    @action(Decided)
    @staticmethod
    def publish(event: Decided, ctx: RunnerContext) -> None:
        memory = ctx.sensory_memory
        record = {
            "alert": memory.get("alert_id"),
            "host": ctx.key,
            "kind": memory.get("kind"),
            "owner": memory.get("owner"),
            "tier": memory.get("tier"),
            "severity": memory.get("severity"),
            "decision": event.decision,
            "reason": event.reason,
            "host_alerts": event.host_alerts,
        }
        ctx.send_event(OutputEvent(output=json.dumps(record, sort_keys=True)))


def alert_agent(page_after: int) -> Agent:
    agent = AlertAgent().add_resource("inventory", ResourceType.TOOL, inventory)
    agent.add_java_action("rules", "alerts.AlertRules", [Enriched], page_after=page_after)
    return agent


class InventoryService:
    """A stand-in inventory on 127.0.0.1: ``/hosts/<host>`` (owner, tier) and
    ``/deploys/<host>`` (recent deploys), each answered after ``latency_s``."""

    def __init__(self, latency_s: float) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                time.sleep(latency_s)
                _, kind, host = self.path.split("/", 2)
                number = int(host.rsplit("-", 1)[-1])
                if kind == "hosts":
                    body: Any = {
                        "host": host,
                        "owner": f"team-{number % 4}",
                        "tier": "staging" if number % 3 == 0 else "prod",
                    }
                else:
                    body = [{"version": f"v1.{number}"}] if number % 5 == 0 else []
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=400, help="how many alerts to generate")
    parser.add_argument("--rate", type=float, help="at most this many alerts per second")
    parser.add_argument("--inventory-url", help="the inventory service (default: start one here)")
    parser.add_argument("--latency-ms", type=float, default=20, help="the local service's latency")
    parser.add_argument(
        "--page-after", type=int, default=10, help="alerts before a prod host pages"
    )
    parser.add_argument("--output", type=Path, default=None, help="directory for the outputs")
    parser.add_argument("--parallelism", type=int, default=1)
    args = parser.parse_args(argv)
    output = (args.output or output_dir("alert_enrichment")).absolute()
    service = None if args.inventory_url else InventoryService(args.latency_ms / 1000)
    inventory = args.inventory_url or service.url  # type: ignore[union-attr]

    conf = Configuration()
    conf.set_string("execution.checkpointing.interval", "2 s")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(args.parallelism)
    env.add_jars(actions_jar(JAVA_SOURCES, JAVA_SOURCES / "build" / "alert-rules.jar").as_uri())
    pause_s = 1 / args.rate if args.rate else 0.0

    def generate(n: int) -> dict[str, Any]:
        if pause_s:
            time.sleep(pause_s)
        return alert(n)

    alerts = env.from_source(
        NumberSequenceSource(0, args.alerts - 1), WatermarkStrategy.no_watermarks(), "alerts"
    ).map(generate, output_type=Types.PICKLED_BYTE_ARRAY())
    config = {
        "job-identifier": "alert-enrichment",
        "alerts.inventory-url": inventory,
        "num-async-threads": 8,
    }
    decisions = (
        AgentsExecutionEnvironment.get_execution_environment(env, config)
        .from_datastream(alerts, key_selector=lambda a: a["host"])
        .apply(alert_agent(args.page_after))
        .to_datastream(output_type=Types.STRING(), name="alert-enrichment")
    )
    decisions.sink_to(
        FileSink.for_row_format(str(output), Encoder.simple_string_encoder())
        .with_rolling_policy(RollingPolicy.on_checkpoint_rolling_policy())
        .build()
    )
    try:
        env.execute("alert-enrichment")
    finally:
        if service is not None:
            service.close()
    print(f"alert-enrichment: outputs in {output}")


if __name__ == "__main__":
    main()
