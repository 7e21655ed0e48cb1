"""Java actions in a real mini-cluster job: the javac-built bridge, pemja, thread mode."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.flink_runner import read_lines, run_job

pytestmark = [pytest.mark.flink, pytest.mark.timeout(240)]


def test_python_java_python_share_memory_and_events(tmp_path: Path) -> None:
    inputs = [["k", 5], ["k", 6], ["j", 7], ["k", "thread"]]
    run_job("java_job.py", "mixed", str(tmp_path / "out"), json.dumps(inputs))
    lines = read_lines(tmp_path / "out")
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records == [
        {"back": [5, 1, "n=5", 1], "from_java": {"key": "k", "limit": 3}, "seen": 1},
        {"back": [6, 2, "n=6", 2], "from_java": {"key": "k", "limit": 3}, "seen": 2},
        {"back": [7, 1, "n=7", 1], "from_java": {"key": "j", "limit": 3}, "seen": 1},
    ]
    # Memory used from a thread the Java action started: the mailbox error, in Java.
    [misuse] = [line for line in lines if not line.startswith("{")]
    assert misuse.startswith("flinkagentsctx.api.MailboxException: memory set was called from")
    assert "thread 'rules-worker'" in misuse


def test_java_exception_fails_the_job_with_its_class_and_message(tmp_path: Path) -> None:
    result = run_job("java_job.py", "mixed", str(tmp_path / "out"), json.dumps([["k", "throw"]]))
    assert "JOB FAILED" in result.stdout
    assert "JavaActionError: java.lang.IllegalStateException: rules engine is not loaded" in (
        result.stdout
    )
    assert "action 'misbehaving' failed on event" in result.stdout


def test_java_actions_in_process_mode_are_refused_when_the_job_is_built(tmp_path: Path) -> None:
    result = run_job(
        "java_job.py", "mixed", str(tmp_path / "out"), json.dumps([["k", 1]]), "process"
    )
    assert "BUILD ERROR JavaBridgeError" in result.stdout
    assert "only thread mode" in result.stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_java_durable_call_with_the_store_is_made_once_across_a_failure(tmp_path: Path) -> None:
    n = 150
    call_log = tmp_path / "calls.log"
    marker = tmp_path / "failed.marker"
    run_job(
        "java_job.py",
        "score",
        str(tmp_path / "out"),
        str(tmp_path / "checkpoints"),
        str(n),
        str(call_log),
        str(marker),
        f"sqlite:///{tmp_path / 'store.db'}",
        "--fail-at",
        "100",
        timeout_s=200,
    )
    assert marker.exists(), "the failure was not injected"
    lines = read_lines(tmp_path / "out")
    assert sorted(lines, key=lambda s: int(s.split(":")[0])) == [f"{i}:{i * 10}" for i in range(n)]
    made = Counter(call_log.read_text().split())
    assert sorted(int(k) for k in made) == list(range(n))
    assert max(made.values()) == 1, {k: v for k, v in made.items() if v > 1}
