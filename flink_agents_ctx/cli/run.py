"""``flink-agents-ctx run JOB.py``: run a job script on the local mini-cluster, with checkpoints,
a live progress line and a final summary.

The script runs as it is (``python JOB.py ARGS``) in a process of its own; through
:class:`~flink_agents_ctx.run_settings.RunSettings` its agent operators checkpoint into the run's
directory and write progress files, which this command sums once a second. The job's standard
output passes through; its standard error (Python's warnings and tracebacks) goes to ``job.log`` in
the run's directory.
"""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from flink_agents_ctx.operator.progress import Progress, read_progress
from flink_agents_ctx.run_settings import RunSettings

RATE_WINDOW_S = 5.0
# How long the script's output may stay open after the script ended (a lingering JVM holds it).
OUTPUT_GRACE_S = 5.0
# A Python exception line at the end of a traceback: "pkg.mod.SomeError: what happened".
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*)$")


@dataclass(frozen=True)
class RunResult:
    """How a run ended: the script's exit code, the counts, and where its files are."""

    exit_code: int
    seconds: float
    progress: Progress
    settings: RunSettings
    stopped: bool = False

    @property
    def latest_checkpoint(self) -> Path | None:
        """The newest completed checkpoint of the run (a ``chk-N`` directory), if any."""
        done = [m.parent for m in self.settings.checkpoints.glob("*/chk-*/_metadata")]
        if not done:
            return None
        return max(done, key=lambda p: (p.stat().st_mtime, int(p.name.removeprefix("chk-"))))

    def error(self) -> str | None:
        """The job's last exception line in its log, if it failed."""
        if self.exit_code == 0:
            return None
        return last_exception(_tail(self.settings.log, 400))


def last_exception(lines: Sequence[str]) -> str | None:
    """The error a job's output ends with: the exception line closing its last Python traceback
    (the Flink client's Java exceptions about the Python process come after it), else the last
    ``SomeError: message`` line."""
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call")]
    if starts:
        for line in lines[starts[-1] + 1 :]:
            if not line[:1].isspace() and (m := _EXCEPTION_LINE.match(line.strip())):
                return m.group(1)
    found = [m.group(1) for line in lines if (m := _EXCEPTION_LINE.match(line.strip()))]
    return found[-1] if found else None


def progress_line(progress: Progress, seconds: float, rate: float | None) -> str:
    """One line of counts: records in and out, actions (and their rate), durable calls, waiting
    keys."""
    per_s = f" ({rate:,.0f}/s)" if rate is not None else ""
    return (
        f"{seconds:6.1f} s | in {progress.inputs:,} out {progress.outputs:,} | "
        f"actions {progress.actions:,}{per_s} | durable calls {progress.calls_made:,} made, "
        f"{progress.calls_replayed:,} replayed | keys waiting {progress.keys_waiting:,}"
    )


def summary(result: RunResult, debug: bool = False, command: str = "JOB.py") -> str:
    """What a user needs once the run ended: the outcome, the counts, and where things are
    (``command``: the job and its arguments, for the restore hint)."""
    p, s = result.progress, result.settings
    if result.exit_code == 0:
        head = f"finished in {result.seconds:.1f} s"
    elif result.stopped:
        head = f"stopped after {result.seconds:.1f} s"
    else:
        head = f"FAILED (exit code {result.exit_code}) after {result.seconds:.1f} s"
    lines = [
        f"{head}: {p.inputs:,} inputs, {p.outputs:,} outputs, {p.actions:,} actions, "
        f"{p.calls_made:,} durable calls made, {p.calls_replayed:,} replayed"
    ]
    error = None if result.stopped else result.error()
    if error:
        lines.append(f"error:       {error}")
    if debug and result.exit_code != 0:
        lines.append("log tail:\n  " + "\n  ".join(_tail(s.log, 40)))
    files = _output_files(s.outputs)
    if files:
        count = sum(_count_lines(f) for f in files)
        lines.append(f"outputs:     {s.outputs} ({len(files)} file(s), {count:,} lines)")
    checkpoint = result.latest_checkpoint
    if checkpoint is not None:
        lines.append(f"checkpoint:  {checkpoint}")
        lines.append(
            f"             (start from it: flink-agents-ctx run --restore {checkpoint} {command})"
        )
    lines.append(f"job log:     {s.log}")
    return "\n".join(lines)


class _Display:
    """The progress line: redrawn in place on a terminal, a plain line now and then otherwise."""

    def __init__(self, out: TextIO, interactive: bool, plain_every_s: float = 5.0) -> None:
        self._out = out
        self._interactive = interactive
        self._plain_every_s = plain_every_s
        self._shown = ""
        self._last_plain = 0.0

    def show(self, line: str, now: float) -> None:
        if self._interactive:
            self._out.write("\r\x1b[K" + line)
            self._shown = line
        elif now - self._last_plain >= self._plain_every_s:
            self._last_plain = now
            self._out.write(line + "\n")
        self._out.flush()

    def passthrough(self, text: str) -> None:
        if self._interactive and self._shown:
            self._out.write("\r\x1b[K")
        self._out.write(text)
        if self._interactive and self._shown:
            self._out.write(self._shown)
        self._out.flush()

    def end(self) -> None:
        if self._interactive and self._shown:
            self._out.write("\n")
            self._shown = ""


def run_job(
    job: Path,
    args: Sequence[str],
    settings: RunSettings,
    out: TextIO = sys.stdout,
    interactive: bool | None = None,
    refresh_s: float = 1.0,
) -> RunResult:
    """Run ``job`` with ``args`` under ``settings``; show progress on ``out`` until it ends."""
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    # Counts of an earlier run in the same directory must not add to this one's.
    for stale in settings.progress.glob("*.json"):
        stale.unlink()
    env = dict(os.environ)
    env.update(settings.environ())
    env["PYTHONUNBUFFERED"] = "1"
    display = _Display(out, out.isatty() if interactive is None else interactive)
    started = time.monotonic()
    with open(settings.log, "w") as log:
        # A session of its own: stopping the run stops the script and the JVM it started.
        child = subprocess.Popen(
            [sys.executable, str(job), *args],
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            text=True,
            start_new_session=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(child, lines), daemon=True).start()
        previous = _interrupt_on_signals()
        stopped = False
        try:
            _watch(child, lines, display, settings, started, refresh_s)
        except KeyboardInterrupt:
            display.end()
            out.write("stopping the job (Ctrl-C again does not wait)\n")
            stopped = True
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            # Whatever ended the watch, nothing the run started may outlive it.
            _stop(child)
        display.end()
    return RunResult(
        child.returncode if child.returncode is not None else -1,
        time.monotonic() - started,
        read_progress(settings.progress),
        settings,
        stopped,
    )


def _watch(
    child: subprocess.Popen[str],
    lines: queue.Queue[str | None],
    display: _Display,
    settings: RunSettings,
    started: float,
    refresh_s: float,
) -> None:
    # (time, actions) of recent refreshes: the rate shown is over the last RATE_WINDOW_S.
    history: collections.deque[tuple[float, int]] = collections.deque()
    next_refresh = started + refresh_s
    open_stream = True
    exited_at: float | None = None
    while open_stream or child.poll() is None:
        if exited_at is None and child.poll() is not None:
            exited_at = time.monotonic()
        elif exited_at is not None and time.monotonic() - exited_at > OUTPUT_GRACE_S:
            break  # the script ended; something it started still holds its output open
        try:
            line = lines.get(timeout=0.1)
            if line is None:
                open_stream = False
            else:
                display.passthrough(line)
        except queue.Empty:
            pass
        now = time.monotonic()
        if now >= next_refresh:
            next_refresh = now + refresh_s
            if not any(settings.progress.glob("*.json")):
                display.show(
                    f"{now - started:6.1f} s | starting (JVM, mini-cluster, job graph)", now
                )
                continue
            progress = read_progress(settings.progress)
            history.append((now, progress.actions))
            while len(history) > 2 and now - history[1][0] >= RATE_WINDOW_S:
                history.popleft()
            then, actions_then = history[0]
            # A restarted job counts from 0 again: no negative rates.
            rate = (
                max(0.0, (progress.actions - actions_then) / (now - then)) if now > then else None
            )
            display.show(progress_line(progress, now - started, rate), now)
    child.wait()


def _interrupt_on_signals() -> dict[int, Any]:
    """Treat SIGTERM and SIGHUP (a closed terminal) like Ctrl-C, so a stopped run stops its job
    too (main thread only); returns the handlers to put back."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    return {signum: signal.signal(signum, interrupt) for signum in (signal.SIGTERM, signal.SIGHUP)}


def _pump(child: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert child.stdout is not None
    for line in child.stdout:
        lines.put(line)
    lines.put(None)


def _stop(child: subprocess.Popen[str]) -> None:
    """Stop the script's process group (the script and the JVM it started): SIGTERM, then
    SIGKILL for what is left after 15 s (or at once on a second Ctrl-C)."""
    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=15)
    except (ProcessLookupError, KeyboardInterrupt, subprocess.TimeoutExpired):
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def _output_files(directory: Path) -> list[Path]:
    """Finished output files (a FileSink keeps files in progress hidden, with a leading dot)."""
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )


def _count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 16), b""))


def _tail(path: Path, n: int) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-n:]
    except OSError:
        return []
