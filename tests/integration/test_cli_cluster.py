"""The ``flink-agents-ctx`` command against a real local standalone cluster (loopback only):
doctor, cluster start/status/stop, submit, jobs, stop with a savepoint and restore from it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from flink_agents_ctx.cli.local_cluster import LocalCluster
from flink_agents_ctx.cli.rest import FlinkRest
from tests.integration.flink_runner import JOBS, read_lines

ROOT = Path(__file__).parents[2]

pytestmark = [pytest.mark.flink, pytest.mark.timeout(300)]


def cli(*args: str, timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flink_agents_ctx.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "cluster"
    try:
        started = cli("cluster", "start", "--dir", str(directory))
        assert started.returncode == 0, started.stderr
        assert "local cluster running: REST and web UI at http://127.0.0.1:" in started.stdout
        yield directory
    finally:
        cli("cluster", "stop", "--dir", str(directory))
        LocalCluster(directory).stop()  # kills what did not stop
        assert LocalCluster(directory).pids() == []


def test_bad_input_gets_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    missing = cli("submit", "--cluster", "http://127.0.0.1:9", str(tmp_path / "nope.py"))
    assert missing.returncode == 2
    assert (
        missing.stderr.strip()
        == f"flink-agents-ctx: job script {tmp_path / 'nope.py'} does not exist"
    )
    unreachable = cli("jobs", "--cluster", "http://127.0.0.1:9")
    assert unreachable.returncode == 2
    assert "cannot reach Flink's REST API at http://127.0.0.1:9" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
    no_savepoint = cli(
        "restore",
        str(tmp_path / "sp"),
        str(JOBS / "reference_job.py"),
        "--cluster",
        "http://127.0.0.1:9",
    )
    assert no_savepoint.returncode == 2
    assert "does not exist" in no_savepoint.stderr
    not_started = cli("jobs", "--dir", str(tmp_path / "never"))
    assert "run 'flink-agents-ctx cluster start' first" in not_started.stderr


def test_doctor_passes_on_this_machine() -> None:
    result = cli("doctor")
    assert result.returncode == 0, result.stdout
    assert "all required checks passed" in result.stdout


@pytest.mark.slow
def test_submit_stop_with_a_savepoint_and_restore_on_a_standalone_cluster(
    cluster: Path, tmp_path: Path
) -> None:
    status = cli("cluster", "status", "--dir", str(cluster))
    assert "1 TaskManager(s), 2/2 slots free" in status.stdout

    broken = tmp_path / "broken_job.py"
    broken.write_text(
        "from flink_agents_ctx import AgentsExecutionEnvironment\n"
        "AgentsExecutionEnvironment.get_execution_environment(None, {'num-async-threads': 'x'})\n"
    )
    refused = cli("submit", "--dir", str(cluster), str(broken))
    assert refused.returncode == 2
    assert "flink_agents_ctx.errors.ConfigError: option 'num-async-threads'" in refused.stderr
    assert "Traceback" not in refused.stderr and len(refused.stderr.splitlines()) == 1

    # The triage example as `flink run -py` submits it: file source, model resource, long-term
    # memory and the FileSink, on a standalone cluster.
    out = tmp_path / "triage-out"
    submitted = cli(
        "submit", "--dir", str(cluster), "--wait", str(ROOT / "jobs" / "ticket_triage.py"),
        "--output", str(out),
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    rows = [json.loads(line) for line in read_lines(out)]
    assert sorted(r["ticket"] for r in rows) == [f"T-{n}" for n in range(1001, 1031)]

    work = tmp_path / "recovery"
    job_args = [
        str(work / "out"),
        str(work / "ckpt"),
        "3000",
        str(work / "calls.log"),
        str(work / "m"),
    ]
    first = cli("submit", "--dir", str(cluster), str(JOBS / "recovery_job.py"), *job_args)
    assert first.returncode == 0, first.stderr
    job_id = first.stdout.split()[1]
    calls = work / "calls.log"
    deadline = time.monotonic() + 60
    while not calls.exists() or calls.read_text().count("\n") < 300:
        assert time.monotonic() < deadline, "the job made no progress"
        time.sleep(0.2)
    # The running job's agent metrics, with the action as a label, from Prometheus.
    assert_prometheus_shows_actions(cluster)
    stopped = cli("stop", "--dir", str(cluster), job_id, str(work / "savepoints"))
    assert stopped.returncode == 0, stopped.stderr
    savepoint = stopped.stdout.split()[-1].removeprefix("file:")
    assert Path(savepoint).is_dir()
    jobs = cli("jobs", "--dir", str(cluster)).stdout
    assert f"{job_id}  FINISHED" in jobs

    restored = cli(
        "restore",
        "--dir",
        str(cluster),
        "--wait",
        savepoint,
        str(JOBS / "recovery_job.py"),
        *job_args,
    )
    assert restored.returncode == 0, restored.stderr
    lines = read_lines(work / "out")
    numbers = Counter(int(line.split(":")[0]) for line in lines)
    assert sorted(numbers) == list(range(3000)) and max(numbers.values()) == 1
    assert all(line.split(":")[1] == str(10 * int(line.split(":")[0])) for line in lines)
    made = Counter(line.split()[1] for line in calls.read_text().splitlines())
    # Only calls in flight when the savepoint was taken run again: one per key at most (5 keys).
    assert sum(1 for n in made.values() if n > 1) <= 5
    # The lines carry short-term memory: exact although its writes waited for the barriers.
    assert_memory_writes_were_held(cluster)


def assert_memory_writes_were_held(cluster: Path) -> None:
    """The TaskManager ran the agent operator class that calls in before each barrier (its class
    loads in the job's class loader next to the flink-python jar the job ships)."""
    logs = "".join(p.read_text() for p in (cluster / "log").glob("*taskexecutor*.log"))
    assert "short-term memory writes are held until the next checkpoint barrier" in logs
    assert "LinkageError" not in logs


def assert_prometheus_shows_actions(cluster: Path) -> None:
    status = cli("cluster", "status", "--dir", str(cluster)).stdout
    urls = [line.split()[-1] for line in status.splitlines() if "Prometheus metrics:" in line]
    assert len(urls) == 2, status  # the JobManager's and the TaskManager's
    deadline = time.monotonic() + 30
    found: list[str] = []
    while not found and time.monotonic() < deadline:
        for url in urls:
            with urllib.request.urlopen(url, timeout=5) as response:
                text = response.read().decode()
            found += [
                line
                for line in text.splitlines()
                if "numOfActionsExecuted" in line
                and 'action="' in line
                and not line.startswith("#")
            ]
        time.sleep(1)
    assert found, "no numOfActionsExecuted with an action label"
    # A counter with the action's name as a label, and a value that counts.
    assert any('action="handle"' in line and float(line.split()[-1]) > 0 for line in found), found


def expected_recovery_lines(n: int) -> list[str]:
    """What the recovery job emits without any failure: per key (n % 5), in input order,
    ``n:10n:count:total``."""
    lines, counts, totals = [], [0] * 5, [0] * 5
    for i in range(n):
        counts[i % 5] += 1
        totals[i % 5] += 10 * i
        lines.append(f"{i}:{10 * i}:{counts[i % 5]}:{totals[i % 5]}")
    return lines


@pytest.mark.slow
def test_a_killed_taskmanager_recovers_from_its_checkpoint_with_the_store(
    cluster: Path, tmp_path: Path
) -> None:
    n = 3000
    work = tmp_path / "sigkill"
    store = f"sqlite:///{work / 'store.db'}"
    work.mkdir()
    job_args = [
        str(work / "out"), str(work / "ckpt"), str(n), str(work / "calls.log"), str(work / "m"),
        "--store", store, "--job-id", "sigkill-test", "--restarts", "5",
    ]  # fmt: skip
    submitted = cli("submit", "--dir", str(cluster), str(JOBS / "recovery_job.py"), *job_args)
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.split()[1]
    calls = work / "calls.log"
    deadline = time.monotonic() + 90
    while (
        not calls.exists()
        or calls.read_text().count("\n") < 600
        or not list((work / "ckpt").rglob("chk-*/_metadata"))
    ):
        assert time.monotonic() < deadline, "no progress and no checkpoint"
        time.sleep(0.2)

    local = LocalCluster(cluster)
    [pid_file] = list((cluster / "pids").glob("*taskexecutor*.pid"))
    taskmanager = int(pid_file.read_text().split()[0])
    os.kill(taskmanager, signal.SIGKILL)  # the TaskManager and the Python inside it die at once
    pid_file.unlink()
    local.start_taskmanager()

    rest = FlinkRest(local.rest_url())
    deadline = time.monotonic() + 180
    while (state := rest.job(job_id)["state"]) not in ("FINISHED", "FAILED", "CANCELED"):
        assert time.monotonic() < deadline, f"job still {state}"
        time.sleep(0.5)
    assert state == "FINISHED"
    assert rest.failures(job_id), "the job did not go through a failure and a restart"
    lines = sorted(read_lines(work / "out"), key=lambda s: int(s.split(":")[0]))
    assert lines == expected_recovery_lines(n)
    made = Counter(line.split()[1] for line in calls.read_text().splitlines())
    assert sorted(int(k) for k in made) == list(range(n))
    # With the store, only calls still running when the TaskManager died run again: at most
    # one per key (5 keys).
    assert sum(1 for times in made.values() if times > 1) <= 5
    assert_memory_writes_were_held(cluster)
