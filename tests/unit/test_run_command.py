"""``flink-agents-ctx run``'s process handling with stand-in job scripts (plain Python, no
Flink): output passes through, progress files are summed, nothing the script started outlives the
run, and a failing script's error is found."""

from __future__ import annotations

import io
import json
import os
import signal
import textwrap
import time
from pathlib import Path

from flink_agents_ctx.cli.run import OUTPUT_GRACE_S, run_job, summary
from flink_agents_ctx.run_settings import RunSettings


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "job.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_output_passes_through_and_progress_is_summed(tmp_path: Path) -> None:
    job = _script(
        tmp_path,
        """
        import json, os, sys
        progress = os.path.join(os.environ["FLINK_AGENTS_CTX_RUN_DIR"], "progress")
        os.makedirs(progress, exist_ok=True)
        for i in (0, 1):
            with open(os.path.join(progress, f"agent-{i}.json"), "w") as f:
                json.dump({"inputs": 10 + i, "outputs": 5, "actions": 20}, f)
        print("hello from", sys.argv[1])
        """,
    )
    settings = RunSettings(tmp_path / "run")
    (settings.progress).mkdir(parents=True)
    (settings.progress / "stale-0.json").write_text(json.dumps({"inputs": 1000}))
    out = io.StringIO()
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    result = run_job(job, ["the job"], settings, out=out, interactive=False, refresh_s=0.1)
    assert result.exit_code == 0 and not result.stopped
    # While it ran, SIGTERM and SIGHUP stopped the job; afterwards the handlers are as before.
    assert {s: signal.getsignal(s) for s in handlers} == handlers
    assert "hello from the job\n" in out.getvalue()
    # The stale file of an earlier run in the same directory was removed first.
    assert (result.progress.inputs, result.progress.outputs, result.progress.actions) == (
        21,
        10,
        40,
    )
    assert summary(result).startswith("finished in")


def test_a_process_left_holding_the_output_is_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "lingering.pid"
    job = _script(
        tmp_path,
        f"""
        import subprocess, sys
        # Like a JVM that outlives the script: it inherits the script's standard output.
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        print("started", flush=True)
        """,
    )
    started = time.monotonic()
    result = run_job(job, [], RunSettings(tmp_path / "run"), out=io.StringIO(), interactive=False)
    assert result.exit_code == 0
    assert time.monotonic() - started < OUTPUT_GRACE_S + 20
    lingering = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(lingering) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(lingering), "the process the script left behind is still running"


def test_a_failing_script_reports_its_python_error(tmp_path: Path) -> None:
    job = _script(tmp_path, "raise ValueError('bad input file')\n")
    result = run_job(job, [], RunSettings(tmp_path / "run"), out=io.StringIO(), interactive=False)
    assert result.exit_code == 1
    assert result.error() == "ValueError: bad input file"
    text = summary(result)
    assert (
        text.startswith("FAILED (exit code 1)")
        and "error:       ValueError: bad input file" in text
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
