"""Checkpoint recovery on a real mini-cluster (thread mode): a failure injected mid-stream, a restore
from the retained checkpoint of a failed run, and a restore from a stop-with-savepoint.

Every job runs ``jobs/recovery_job.py``: 500 inputs over 5 keys at ~200 inputs/s, checkpoints every
second, a FileSink. Each input awaits one 20 ms call, counted in a call log; its output line carries
the key's count and total from short-term memory, so exactly-once output also checks memory.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.flink_runner import read_lines, run_job
from tests.support.recovery_agent import expected_lines

pytestmark = [pytest.mark.flink, pytest.mark.timeout(300)]

INPUTS = 500
FAIL_AT = 100
# A call logged this long before the restored checkpoint was triggered has had its outcome applied
# to keyed state before the checkpoint barrier reached the agent (applying takes milliseconds).
APPLY_MARGIN_S = 0.2
# Logged when the operator holds short-term memory writes until checkpoint barriers.
WRITE_BEHIND = "short-term memory writes are held until the next checkpoint barrier"


@dataclass(frozen=True)
class Call:
    n: int
    idempotency_key: str
    at: float


def read_calls(path: Path) -> list[Call]:
    calls = []
    for line in path.read_text().splitlines():
        if line.startswith("work "):
            _, n, key, at = line.split()
            calls.append(Call(int(n), key, float(at)))
    return calls


def flink_log(log_dir: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(log_dir.rglob("*.log")))


@dataclass
class Run:
    out: Path
    checkpoints: Path
    calls: Path
    marker: Path
    logs: Path

    @classmethod
    def under(cls, base: Path) -> Run:
        return cls(base / "out", base / "ckpt", base / "calls", base / "marker", base / "logs")

    def start(self, *options: str, attempt: str = "1", env: dict[str, str] | None = None) -> str:
        logs = self.logs / attempt
        logs.mkdir(parents=True, exist_ok=True)
        result = run_job(
            "recovery_job.py",
            str(self.out),
            str(self.checkpoints),
            str(INPUTS),
            str(self.calls),
            str(self.marker),
            *options,
            timeout_s=240,
            extra_env={"FLINK_LOG_DIR": str(logs), **(env or {})},
        )
        return result.stdout


def sqlite_address(base: Path) -> str:
    return f"sqlite:///{base}/journal.db"


def savepoint_of(stdout: str) -> str:
    (savepoint,) = re.findall(r"^SAVEPOINT (\S+)$", stdout, re.MULTILINE)
    return str(savepoint)


def restored_from_a_checkpoint(run: Run) -> bool:
    return re.search(r"Restoring job \S+ from Checkpoint", flink_log(run.logs)) is not None


def trigger_time_s(log: str, checkpoint_id: int) -> float:
    match = re.search(rf"Triggering checkpoint {checkpoint_id} \(.*?\) @ (\d+)", log)
    assert match, f"no trigger of checkpoint {checkpoint_id} in the Flink log"
    return int(match.group(1)) / 1000


def held_until(call_log: Path) -> int:
    """The checkpoint the injected failure waited for (the restore must use it or a later one)."""
    (checkpoint,) = re.findall(r"^held until checkpoint (\d+)$", call_log.read_text(), re.M)
    return int(checkpoint)


def assert_finished_calls_made_once(calls: list[Call], checkpoint_s: float) -> Counter[str]:
    """Every input was called; calls finished before the checkpoint were made exactly once.
    Returns how often each call was made."""
    made = Counter(c.idempotency_key for c in calls)
    assert {c.n for c in calls} == set(range(INPUTS))
    before = [c for c in calls if c.at < checkpoint_s - APPLY_MARGIN_S]
    assert before, "no call finished before the restored checkpoint; the test proves nothing"
    assert [c for c in before if made[c.idempotency_key] != 1] == []
    (fail_call,) = {c.idempotency_key for c in calls if c.n == FAIL_AT}
    assert made[fail_call] == 1  # finished while its action waited across the checkpoint
    return made


@pytest.fixture(scope="module")
def failure_free(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    run = Run.under(tmp_path_factory.mktemp("failure-free"))
    run.start()
    lines = sorted(read_lines(run.out))
    assert lines == sorted(expected_lines(INPUTS))
    assert len(read_calls(run.calls)) == INPUTS
    return lines


def test_failure_mid_stream_restores_the_checkpoint_without_redoing_finished_calls(
    tmp_path: Path, failure_free: list[str]
) -> None:
    run = Run.under(tmp_path)
    run.start("--fail-at", str(FAIL_AT))
    log = flink_log(run.logs)
    restored = re.search(r"Restoring job \S+ from Checkpoint (\d+) @ (\d+)", log)
    assert restored, "the job did not restart from a checkpoint"
    # Memory writes waited for the barriers, and the outputs (which carry memory) are still exact.
    assert WRITE_BEHIND in log
    assert int(restored.group(1)) >= held_until(run.calls)
    assert sorted(read_lines(run.out)) == failure_free
    calls = read_calls(run.calls)
    made = assert_finished_calls_made_once(calls, int(restored.group(2)) / 1000)
    repeated = sum(n - 1 for n in made.values())
    # Keyed state alone: calls that finished after the checkpoint run again (the store's case).
    assert repeated > 0
    print(f"{len(calls)} real calls for {INPUTS} inputs; {repeated} made again after the restore")


def test_restore_from_the_retained_checkpoint_of_a_failed_run(
    tmp_path: Path, failure_free: list[str]
) -> None:
    run = Run.under(tmp_path)
    stdout = run.start("--fail-at", str(FAIL_AT), "--restarts", "0", "--expect-failure")
    assert "JOB FAILED" in stdout
    retained = sorted(
        run.checkpoints.glob("*/chk-*/_metadata"), key=lambda p: int(p.parent.name[4:])
    )
    assert retained, "the failed run left no checkpoint"
    checkpoint = retained[-1].parent
    triggered_s = trigger_time_s(flink_log(run.logs / "1"), int(checkpoint.name[4:]))

    run.start("--restore", str(checkpoint), attempt="2")
    assert f"located at file:{checkpoint}." in flink_log(run.logs / "2")
    # The first run committed its outputs up to the checkpoint, the second one the rest.
    assert sorted(read_lines(run.out)) == failure_free
    calls = read_calls(run.calls)
    made = assert_finished_calls_made_once(calls, triggered_s)
    repeated = sum(n - 1 for n in made.values())
    print(f"{len(calls)} real calls for {INPUTS} inputs; {repeated} made again after the restore")


def test_stop_with_savepoint_then_restore(tmp_path: Path, failure_free: list[str]) -> None:
    run = Run.under(tmp_path)
    savepoints = tmp_path / "savepoints"
    stdout = run.start("--savepoint-after", "200", "--savepoint-dir", str(savepoints))
    savepoint = savepoint_of(stdout)
    first = read_lines(run.out)
    assert 0 < len(first) < INPUTS  # stopped mid-stream
    calls_before = len(read_calls(run.calls))

    run.start("--restore", savepoint, attempt="2")
    assert WRITE_BEHIND in flink_log(run.logs / "1")
    assert sorted(read_lines(run.out)) == failure_free
    calls = read_calls(run.calls)
    made = Counter(c.idempotency_key for c in calls)
    assert {c.n for c in calls} == set(range(INPUTS))
    # The inputs whose outputs the savepoint committed are never called again.
    done = {int(line.split(":")[0]) for line in first}
    assert [c for c in calls if c.n in done and made[c.idempotency_key] != 1] == []
    repeated = sum(n - 1 for n in made.values())
    # Only calls running when the savepoint was taken run again: at most one per key (5 keys).
    assert repeated <= 5
    print(
        f"{calls_before} calls before the savepoint, {len(calls)} in all for {INPUTS} inputs; "
        f"{repeated} made again (calls still running when the savepoint was taken)"
    )


# -- with the write-ahead store ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_with_a_store_no_call_runs_twice_after_a_failure(
    tmp_path: Path, failure_free: list[str], kind: str, request: pytest.FixtureRequest
) -> None:
    run = Run.under(tmp_path)
    postgres = kind == "postgresql"
    store = request.getfixturevalue("postgres_url") if postgres else sqlite_address(tmp_path)
    # No job-identifier: the job identity is the Flink job id, kept in each key's state.
    run.start("--fail-at", str(FAIL_AT), "--store", store, "--job-id", "")
    assert restored_from_a_checkpoint(run)
    assert sorted(read_lines(run.out)) == failure_free
    calls = read_calls(run.calls)
    assert len(calls) == INPUTS  # exactly one real call per input
    assert len({c.idempotency_key for c in calls}) == INPUTS
    job = calls[0].idempotency_key.split(":")[0]
    assert re.fullmatch(r"[0-9a-f]{32}", job), job  # the Flink job id
    # No retention configured: derived from 1 s checkpoints and the 10 min checkpoint timeout.
    assert "(kept 901 s)" in flink_log(run.logs)
    if postgres:
        assert "agent-pw" not in flink_log(run.logs)  # the password never reaches a log


def test_with_a_store_a_savepoint_restore_makes_no_call_twice(
    tmp_path: Path, failure_free: list[str]
) -> None:
    run = Run.under(tmp_path)
    store = sqlite_address(tmp_path)
    savepoints = tmp_path / "savepoints"
    stdout = run.start(
        *("--savepoint-after", "200", "--savepoint-dir", str(savepoints)),
        *("--store", store, "--job-id", ""),
    )
    savepoint = savepoint_of(stdout)
    run.start("--restore", savepoint, "--store", store, "--job-id", "", attempt="2")
    assert sorted(read_lines(run.out)) == failure_free
    calls = read_calls(run.calls)
    assert len(calls) == INPUTS, len(calls) - INPUTS


def test_with_a_store_a_hard_crash_of_the_python_worker_runs_no_call_twice(
    tmp_path: Path, failure_free: list[str]
) -> None:
    # Process mode with the Python worker in its own process (PyFlink runs it inside the client
    # in a local job unless told otherwise): os._exit kills it mid-run, as a lost TaskManager's
    # Python would be; Flink restarts the job from its checkpoint.
    run = Run.under(tmp_path)
    store = sqlite_address(tmp_path)
    run.start(
        *("--fail-at", str(FAIL_AT), "--store", store, "--mode", "process", "--crash"),
        env={"_python_worker_execution_mode": "process"},
    )
    assert restored_from_a_checkpoint(run)
    crashed = run.marker.parent / (run.marker.name + ".failed")
    assert crashed.exists()
    assert sorted(read_lines(run.out)) == failure_free
    calls = read_calls(run.calls)
    made = Counter(c.idempotency_key for c in calls)
    # A call cut off by the kill between its side effect and its commit runs again (that window
    # is what reconcilers are for); every other call is made once. Workers: 4.
    again = [c for c in calls if made[c.idempotency_key] > 1]
    first_of_again = {c.idempotency_key: c.at for c in reversed(again)}
    assert len(first_of_again) <= 4, first_of_again
    crash_at = crashed.stat().st_mtime
    assert all(crash_at - 1.0 < at <= crash_at + 0.1 for at in first_of_again.values())
    assert len(calls) == INPUTS + len(first_of_again)
    print(f"{len(calls)} real calls for {INPUTS} inputs; {len(first_of_again)} cut off by the kill")


def test_with_a_store_parallel_agents_recover_and_rescale(
    tmp_path: Path, failure_free: list[str]
) -> None:
    # Two agent subtasks fail and restore; then the job stops with a savepoint and restarts with
    # three, so key groups move between subtasks. Keys find their records wherever they land.
    run = Run.under(tmp_path)
    store = sqlite_address(tmp_path)
    savepoints = tmp_path / "savepoints"
    stdout = run.start(
        *("--fail-at", str(FAIL_AT), "--store", store, "--agent-parallelism", "2"),
        *("--savepoint-after", "300", "--savepoint-dir", str(savepoints)),
    )
    assert restored_from_a_checkpoint(run)
    savepoint = savepoint_of(stdout)
    run.start("--restore", savepoint, "--store", store, "--agent-parallelism", "3", attempt="2")
    assert sorted(read_lines(run.out)) == failure_free
    assert len(read_calls(run.calls)) == INPUTS
