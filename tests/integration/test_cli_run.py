"""``flink-agents-ctx run`` on the local mini-cluster: the triage example end to end, a run stopped
mid-job and started again from its checkpoint, and bad input."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from flink_agents_ctx.operator.progress import read_progress
from flink_agents_ctx.run_settings import RUN_DIR_ENV
from tests.integration.flink_runner import read_lines

pytestmark = [pytest.mark.flink, pytest.mark.timeout(300)]

ROOT = Path(__file__).parents[2]
TRIAGE = ROOT / "jobs" / "ticket_triage.py"
CLI = [sys.executable, "-m", "flink_agents_ctx.cli.main"]


def _processes_of(run_dir: Path) -> list[int]:
    """Processes started for ``run_dir`` (the job's Python and its JVM inherit its variable)."""
    marker = f"{RUN_DIR_ENV}={run_dir}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


@pytest.fixture
def run_dirs(tmp_path: Path) -> Iterator[Path]:
    """A parent for run directories; afterwards no process of any of them may be left."""
    yield tmp_path
    leftovers = [pid for d in tmp_path.iterdir() for pid in _processes_of(d)]
    for pid in leftovers:
        os.kill(pid, signal.SIGKILL)
    assert leftovers == [], "a run left processes behind"


def run_cli(*args: str, timeout_s: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout_s, check=False, cwd=ROOT
    )


def test_run_triage_prints_progress_and_a_summary_with_its_outputs(run_dirs: Path) -> None:
    run_dir = run_dirs / "triage"
    done = run_cli("run", "--run-dir", str(run_dir), str(TRIAGE))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"files in {run_dir}" in out
    # Progress lines (every 5 s without a terminal): this short job may end before its operator
    # reports counts, but the line shows from the first second.
    assert "  1.0 s | starting" in out or "| in " in out
    # 30 tickets, two actions each, and each action asks the model once.
    assert "finished in" in out
    assert "30 inputs, 30 outputs, 60 actions, 60 durable calls made, 0 replayed" in out
    assert f"outputs:     {run_dir / 'outputs'} (" in out and "30 lines)" in out
    rows = [json.loads(line) for line in read_lines(run_dir / "outputs")]
    assert sorted(r["ticket"] for r in rows) == [f"T-{n}" for n in range(1001, 1031)]
    by_ticket = {r["ticket"]: r for r in rows}
    # acme's third billing ticket is escalated, and its refund question recalls the double charge.
    assert by_ticket["T-1008"]["priority"] == "high"
    assert by_ticket["T-1008"]["similar_to"] == "T-1004"
    assert by_ticket["T-1001"]["priority"] == "normal"
    assert by_ticket["T-1030"]["tickets_so_far"] == 5  # hooli's fifth ticket
    assert read_progress(run_dir / "progress").inputs == 30


@pytest.mark.slow
def test_a_stopped_run_starts_again_from_its_checkpoint_and_outputs_each_ticket_once(
    run_dirs: Path,
) -> None:
    output = run_dirs / "outputs"
    first_dir = run_dirs / "first"
    job = [str(TRIAGE), "--generate", "600", "--rate", "40", "--output", str(output)]
    first = subprocess.Popen(
        [*CLI, "run", "--run-dir", str(first_dir), "--checkpoint-interval", "1 s", *job],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            checkpoints = list(first_dir.glob("checkpoints/*/chk-*/_metadata"))
            if read_progress(first_dir / "progress").inputs >= 120 and checkpoints:
                break
            assert first.poll() is None, first.communicate()
            time.sleep(0.5)
        else:
            raise AssertionError("the first run made no checkpoint in time")
        first.send_signal(signal.SIGTERM)  # what Ctrl-C does, too
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 1, out + err
    assert "stopping the job" in out and "stopped after" in out
    assert re.search(r"s \| in [\d,]+ out [\d,]+ \| actions [\d,]+ \([\d,]+/s\) \| durable", out)
    assert (
        f"flink-agents-ctx run --restore {first_dir}" in out
        and "ticket_triage.py --generate" in out
    )
    checkpoint_line = next(line for line in out.splitlines() if line.startswith("checkpoint:"))
    checkpoint = checkpoint_line.split(maxsplit=1)[1]
    assert Path(checkpoint, "_metadata").exists()
    made_before = read_progress(first_dir / "progress").calls_made
    committed_before = len(read_lines(output))

    second_dir = run_dirs / "second"
    again = run_cli("run", "--run-dir", str(second_dir), "--restore", checkpoint, *job)
    assert again.returncode == 0, again.stdout + again.stderr
    rows = [json.loads(line) for line in read_lines(output)]
    counts = Counter(r["ticket"] for r in rows)
    assert sorted(counts) == sorted(f"G-{n}" for n in range(600))
    assert set(counts.values()) == {1}, "a ticket was output twice"
    # The restored run asked the model only for tickets after the checkpoint (two calls each).
    made_after = read_progress(second_dir / "progress").calls_made
    assert 0 < committed_before < 600
    assert made_before >= 2 * committed_before
    assert made_after <= 2 * (600 - committed_before)


def test_run_bad_input_gets_a_clear_message_and_a_non_zero_exit(
    run_dirs: Path, tmp_path: Path
) -> None:
    missing = run_cli("run", str(tmp_path / "nope.py"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        f"flink-agents-ctx: job script {tmp_path / 'nope.py'} does not exist"
    )
    no_checkpoint = run_cli("run", "--restore", str(tmp_path / "chk-9"), str(TRIAGE))
    assert no_checkpoint.returncode == 2
    assert "checkpoint or savepoint" in no_checkpoint.stderr
    assert "does not exist" in no_checkpoint.stderr
    broken = tmp_path / "broken_job.py"
    broken.write_text(
        "from flink_agents_ctx import AgentsExecutionEnvironment\n"
        "AgentsExecutionEnvironment.get_execution_environment(None, {'num-async-threads': 'x'})\n"
    )
    run_dir = run_dirs / "broken"
    failed = run_cli("run", "--run-dir", str(run_dir), str(broken))
    assert failed.returncode == 1
    assert "FAILED (exit code 1)" in failed.stdout
    assert "error:       flink_agents_ctx.errors.ConfigError: option 'num-async-threads'" in (
        failed.stdout
    )
    assert "Traceback" not in failed.stdout + failed.stderr
    assert f"job log:     {run_dir / 'job.log'}" in failed.stdout


def test_run_alert_enrichment_with_its_java_rules_and_http_lookups(run_dirs: Path) -> None:
    run_dir = run_dirs / "alerts"
    job = ROOT / "jobs" / "alert_enrichment.py"
    done = run_cli("run", "--run-dir", str(run_dir), str(job), "--alerts", "200")
    assert done.returncode == 0, done.stdout + done.stderr
    # Two inventory lookups per alert; three actions (Python, Java, Python) per alert.
    assert "200 inputs, 200 outputs, 600 actions, 400 durable calls made, 0 replayed" in done.stdout
    rows = {r["alert"]: r for r in map(json.loads, read_lines(run_dir / "outputs"))}
    assert sorted(rows) == sorted(f"A-{n}" for n in range(200))
    # host-0 is a staging host: a low alert there is suppressed; host-7 is production.
    assert rows["A-0"] | {"reason": ""} == {
        "alert": "A-0", "host": "host-0", "kind": "cpu", "severity": "low", "owner": "team-0",
        "tier": "staging", "decision": "suppress", "host_alerts": 1, "reason": "",
    }  # fmt: skip
    assert (rows["A-1"]["decision"], rows["A-1"]["tier"]) == ("page", "prod")
    # host-5 had a deploy: its warnings go to a deploy review.
    deploy_reviews = {r["host"] for r in rows.values() if r["decision"] == "review-deploy"}
    assert deploy_reviews and deploy_reviews <= {"host-0", "host-5", "host-10", "host-15"}
    # The Java action counted each host's alerts in short-term memory, one by one.
    per_host: dict[str, list[int]] = {}
    for n in range(200):
        row = rows[f"A-{n}"]
        per_host.setdefault(row["host"], []).append(row["host_alerts"])
    assert all(counts == list(range(1, len(counts) + 1)) for counts in per_host.values())
