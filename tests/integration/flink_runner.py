"""Run a Flink job script in its own process group with a hard timeout; never leave a JVM behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

JOBS = Path(__file__).parent / "jobs"


def run_job(
    script: str, *args: str, timeout_s: float = 180, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``jobs/<script>`` with the project's interpreter; raise with its output on failure."""
    # A minimal PATH without the interpreter's directory, as when a user starts the job with
    # <venv>/bin/python and no activated virtualenv: the library must cope on its own.
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
    for name in ("JAVA_HOME", "TMPDIR"):
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(extra_env or {})
    proc = subprocess.Popen(
        [sys.executable, str(JOBS / script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(
            f"{script} timed out after {timeout_s}s\n--- stdout\n{out}\n--- stderr\n{err[-5000:]}"
        ) from None
    finally:
        # The py4j gateway JVM is in the job's process group; make sure nothing survives.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    if proc.returncode != 0:
        raise AssertionError(
            f"{script} exited with {proc.returncode}\n--- stdout\n{out}\n--- stderr\n{err[-5000:]}"
        )
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def read_lines(directory: Path) -> list[str]:
    """Every line of every finished part file below ``directory`` (in-progress files skipped)."""
    lines: list[str] = []
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            lines.extend(path.read_text().splitlines())
    return lines
