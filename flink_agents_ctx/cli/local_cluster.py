"""A local standalone Flink session cluster from the apache-flink wheel (loopback only).

The wheel's ``pyflink/`` directory is a Flink distribution (``bin/``, ``lib/``, ``conf/``). A
cluster directory holds what this cluster needs besides it: ``conf/config.yaml`` (loopback
addresses, free ports, this interpreter as ``python.executable``, checkpoint and savepoint
directories), ``lib/`` (the wheel's jars plus ``flink-python``, which thread mode needs in the lib
directory of a standalone cluster), ``log/``, ``pids/`` and ``cluster.json`` (its REST address).
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from flink_agents_ctx.bridge_jar import flink_home, flink_python_jar
from flink_agents_ctx.cli.rest import FlinkRest
from flink_agents_ctx.errors import FlinkAgentsError
from flink_agents_ctx.jdk import CONTINUATIONS_OPTION

DEFAULT_DIR = Path.home() / ".flink-agents-ctx" / "cluster"
PROMETHEUS_REPORTER = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
# Ports for the Prometheus reporters: each JobManager and TaskManager takes the first free one.
PROMETHEUS_PORTS = 4

DEPLOYMENT_KEYS = (
    "taskmanager.numberOfTaskSlots",
    "parallelism.default",
    "python.executable",
    "python.client.executable",
    "execution.checkpointing.dir",
    "execution.checkpointing.savepoint-dir",
    "metrics.reporter.prom.factory.class",
)
"""Settings every deployment of agent jobs makes (the local cluster and docker-compose.yml)."""


class ClusterError(FlinkAgentsError):
    """The local cluster could not be started, found or stopped (the message says what to do)."""


def _free_ports(count: int, block: int) -> tuple[list[int], int]:
    """``count`` distinct free ports, and the first of ``block`` consecutive free ports that are
    none of them (all bound at once while chosen, so no two uses get the same port)."""
    held: list[socket.socket] = []
    try:
        while True:
            first = _bind(held)
            run = [first]
            for port in range(first + 1, first + block):
                try:
                    run.append(_bind(held, port))
                except OSError:
                    break
            if len(run) == block:
                break
        ports = [_bind(held) for _ in range(count)]
        return ports, first
    finally:
        for s in held:
            s.close()


def _bind(held: list[socket.socket], port: int = 0) -> int:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    held.append(s)
    return int(s.getsockname()[1])


@dataclass
class LocalCluster:
    """A standalone session cluster kept in ``directory``."""

    directory: Path = DEFAULT_DIR

    @property
    def state_file(self) -> Path:
        return self.directory / "cluster.json"

    def rest_url(self) -> str:
        """The REST address of the cluster last started here."""
        if not self.state_file.exists():
            raise ClusterError(
                f"no local cluster was started in {self.directory}; run "
                "'flink-agents-ctx cluster start' first"
            )
        return str(json.loads(self.state_file.read_text())["rest"])

    def prometheus_urls(self) -> list[str]:
        """The Prometheus endpoints of this cluster's JobManager and TaskManagers that answer."""
        if not self.state_file.exists():
            return []
        first = json.loads(self.state_file.read_text()).get("prometheus")
        if first is None:
            return []
        found = []
        for port in range(first, first + PROMETHEUS_PORTS):
            url = f"http://127.0.0.1:{port}/metrics"
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        found.append(url)
            except (OSError, http.client.HTTPException):
                continue  # nothing there, or not a reporter
        return found

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            FLINK_HOME=str(flink_home()),
            FLINK_CONF_DIR=str(self.directory / "conf"),
            FLINK_LIB_DIR=str(self.directory / "lib"),
            FLINK_LOG_DIR=str(self.directory / "log"),
            FLINK_PID_DIR=str(self.directory / "pids"),
            FLINK_PLUGINS_DIR=str(flink_home() / "plugins"),
        )
        bin_dir = os.path.dirname(sys.executable)
        env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "/usr/bin:/bin")
        return env

    def prepare(self, slots: int = 2) -> str:
        """Write the conf and lib directories; returns the REST address it will use."""
        home = flink_home()
        for sub in ("conf", "lib", "log", "pids", "checkpoints", "savepoints"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        lib = self.directory / "lib"
        for old in lib.iterdir():
            old.unlink()
        jars = [*glob.glob(str(home / "lib" / "*.jar")), str(flink_python_jar())]
        for jar in jars:
            (lib / Path(jar).name).symlink_to(jar)
        shipped = (home / "conf" / "config.yaml").read_text()
        found = re.search(r"^\s+all:\s*(.+)$", shipped, flags=re.M)
        java_opts = (found.group(1).strip() if found else "") + " " + CONTINUATIONS_OPTION
        # The reporters' range must not hold the REST or RPC port: a probe of it would find them.
        (rest_port, rpc_port), prometheus = _free_ports(2, PROMETHEUS_PORTS)
        settings: dict[str, object] = {
            "env.java.opts.all": java_opts.strip(),
            "jobmanager.bind-host": "127.0.0.1",
            "jobmanager.rpc.address": "127.0.0.1",
            "jobmanager.rpc.port": rpc_port,
            "jobmanager.memory.process.size": "1024m",
            "taskmanager.bind-host": "127.0.0.1",
            "taskmanager.host": "127.0.0.1",
            "taskmanager.numberOfTaskSlots": slots,
            "taskmanager.memory.process.size": "1280m",
            "parallelism.default": 1,
            "rest.address": "127.0.0.1",
            "rest.bind-address": "127.0.0.1",
            "rest.port": rest_port,
            "python.executable": sys.executable,
            "python.client.executable": sys.executable,
            "execution.checkpointing.dir": (self.directory / "checkpoints").as_uri(),
            "execution.checkpointing.savepoint-dir": (self.directory / "savepoints").as_uri(),
            "metrics.reporter.prom.factory.class": PROMETHEUS_REPORTER,
            "metrics.reporter.prom.host": "127.0.0.1",
            "metrics.reporter.prom.port": f"{prometheus}-{prometheus + PROMETHEUS_PORTS - 1}",
        }
        assert set(DEPLOYMENT_KEYS) <= set(settings)
        lines = [f"{key}: {json.dumps(value)}" for key, value in settings.items()]
        (self.directory / "conf" / "config.yaml").write_text("\n".join(lines) + "\n")
        for name in ("log4j.properties", "log4j-cli.properties", "log4j-console.properties"):
            shutil.copy(home / "conf" / name, self.directory / "conf" / name)
        (self.directory / "conf" / "masters").write_text(f"127.0.0.1:{rest_port}\n")
        (self.directory / "conf" / "workers").write_text("127.0.0.1\n")
        rest = f"http://127.0.0.1:{rest_port}"
        self.state_file.write_text(json.dumps({"rest": rest, "prometheus": prometheus}))
        return rest

    def start(self, timeout_s: float = 90.0) -> str:
        """Start a JobManager and a TaskManager; returns the REST address once a TaskManager has
        registered."""
        if self.running():
            raise ClusterError(
                f"a local cluster already runs from {self.directory} at {self.rest_url()}; "
                "'flink-agents-ctx cluster stop' it first"
            )
        if shutil.which("java") is None and "JAVA_HOME" not in os.environ:
            raise ClusterError("no Java runtime: install a JDK 17 or set JAVA_HOME")
        rest = self.prepare()
        home = flink_home()
        for script in ("jobmanager.sh", "taskmanager.sh"):
            done = subprocess.run(
                ["bash", str(home / "bin" / script), "start"],
                env=self._env(),
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                self.stop()
                raise ClusterError(
                    f"{script} start failed: {done.stderr[-1500:] or done.stdout[-1500:]}"
                )
        deadline = time.monotonic() + timeout_s
        client = FlinkRest(rest)
        while time.monotonic() < deadline:
            overview = client.overview(quiet=True)
            if overview is not None and overview.get("taskmanagers", 0) >= 1:
                return rest
            time.sleep(0.5)
        logs = "\n".join(p.name for p in (self.directory / "log").glob("*.log"))
        self.stop()
        raise ClusterError(
            f"the cluster did not come up within {timeout_s:.0f} s; see the logs in "
            f"{self.directory / 'log'} ({logs or 'none written'})"
        )

    def start_taskmanager(self) -> None:
        """Start one more TaskManager (after one was lost)."""
        done = subprocess.run(
            ["bash", str(flink_home() / "bin" / "taskmanager.sh"), "start"],
            env=self._env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise ClusterError(f"taskmanager.sh start failed: {done.stderr[-1500:]}")

    def pids(self) -> list[int]:
        """Process ids of this cluster's JobManager and TaskManagers that are alive."""
        alive: list[int] = []
        for pid_file in (self.directory / "pids").glob("*.pid"):
            for line in pid_file.read_text().split():
                try:
                    pid = int(line)
                    os.kill(pid, 0)
                except (ValueError, ProcessLookupError, PermissionError):
                    continue
                alive.append(pid)
        return alive

    def running(self) -> bool:
        return bool(self.pids())

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop every process of the cluster (killing what does not stop in time)."""
        home = flink_home()
        for script in ("taskmanager.sh", "jobmanager.sh"):
            subprocess.run(
                ["bash", str(home / "bin" / script), "stop-all"],
                env=self._env(),
                capture_output=True,
                check=False,
            )
        deadline = time.monotonic() + timeout_s
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid_file in (self.directory / "pids").glob("*.pid"):
            pid_file.unlink()

    def submit(
        self, job: Path, args: list[str], savepoint: str | None = None, detached: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``flink run -py JOB`` against this cluster (or ``savepoint`` to restore from)."""
        return run_flink_client(self.rest_url(), job, args, savepoint, detached, self._env())


def run_flink_client(
    rest: str,
    job: Path,
    args: list[str],
    savepoint: str | None,
    detached: bool,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Submit a Python job with the wheel's ``flink run``."""
    address = rest.removeprefix("http://").removeprefix("https://")
    command = ["bash", str(flink_home() / "bin" / "flink"), "run", "-m", address]
    if detached:
        command.append("-d")
    if savepoint:
        command += ["-s", savepoint]
    command += ["-py", str(job), *args]
    run_env = dict(env or os.environ)
    run_env.setdefault("FLINK_HOME", str(flink_home()))
    run_env["PYFLINK_CLIENT_EXECUTABLE"] = sys.executable
    bin_dir = os.path.dirname(sys.executable)
    run_env["PATH"] = bin_dir + os.pathsep + run_env.get("PATH", "/usr/bin:/bin")
    return subprocess.run(command, env=run_env, capture_output=True, text=True, check=False)
