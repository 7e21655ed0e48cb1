"""Progress files and what ``flink-agents-ctx run`` makes of them (no Flink: the operator core on
in-memory state, and the run's summary on a made-up run directory)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flink_agents_ctx import Agent, InputEvent, OutputEvent, RunnerContext, action
from flink_agents_ctx.cli.run import RunResult, progress_line, summary
from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.operator.progress import Progress, ProgressFile, read_progress
from flink_agents_ctx.operator.wiring import JobFacts, build_operator
from flink_agents_ctx.run_settings import RunSettings, output_dir
from flink_agents_ctx.testing.fakes import InMemoryKeyedState, InMemoryMetricBackend


class _NoTimers:
    def now_ms(self) -> int:
        return 0

    def wake_at(self, time_ms: int) -> None:
        raise AssertionError("nothing here waits")

    def at_end_of_input(self) -> None:
        raise AssertionError("nothing here waits")

    def cancel_end_of_input(self) -> None:
        pass


class Doubler(Agent):
    @action(InputEvent)
    @staticmethod
    def double(event: InputEvent, ctx: RunnerContext) -> None:
        twice = ctx.durable_execute(lambda x: 2 * x, event.input)
        if twice % 4 == 0:  # only even inputs leave
            ctx.send_event(OutputEvent(output=twice))


def test_the_operator_writes_its_counts_to_its_progress_file(tmp_path: Path) -> None:
    state = InMemoryKeyedState()
    facts = JobFacts(progress_dir=str(tmp_path), subtask=3)
    core = build_operator(
        Doubler().plan(), state, InMemoryMetricBackend(), AgentConfig(), facts
    ).core
    for n in range(10):
        state.set_current_key(n % 3)
        core.process_input(n % 3, n, None, _NoTimers())
    core.close()
    written = json.loads((tmp_path / "Doubler-3.json").read_text())
    assert written == {
        "inputs": 10,
        "outputs": 5,
        "actions": 10,
        "calls_made": 10,
        "calls_replayed": 0,
        "keys_waiting": 0,
    }
    assert not list(tmp_path.glob("*.tmp"))


def test_progress_is_summed_over_instances_and_skips_unreadable_files(tmp_path: Path) -> None:
    assert read_progress(tmp_path / "missing") == Progress()
    ProgressFile(tmp_path, "a-0").write(Progress(inputs=3, outputs=2, keys_waiting=1))
    ProgressFile(tmp_path, "a-1").write(Progress(inputs=4, calls_made=7, keys_waiting=2))
    (tmp_path / "a-2.json").write_text("{half")
    assert read_progress(tmp_path) == Progress(inputs=7, outputs=2, calls_made=7, keys_waiting=3)


def test_progress_file_writes_at_most_once_per_interval(tmp_path: Path) -> None:
    now = [0.0]
    progress_file = ProgressFile(tmp_path, "p-0", interval_s=1.0, clock=lambda: now[0])
    reads = []

    def read() -> Progress:
        reads.append(now[0])
        return Progress(inputs=len(reads))

    for step in range(25):
        now[0] = step * 0.1
        progress_file.maybe_write(read)
    assert reads == [0.0, 1.0, 2.0]
    assert read_progress(tmp_path).inputs == 3


def test_summary_says_how_it_ended_and_where_things_are(tmp_path: Path) -> None:
    settings = RunSettings(tmp_path / "run")
    (settings.outputs / "2026-12-02--08").mkdir(parents=True)
    (settings.outputs / "2026-12-02--08" / "part-0").write_text("a\nb\n")
    (settings.outputs / "2026-12-02--08" / ".part-1.inprogress").write_text("c\n")
    for n in (3, 12):
        (settings.checkpoints / "jid" / f"chk-{n}").mkdir(parents=True)
        (settings.checkpoints / "jid" / f"chk-{n}" / "_metadata").write_text("x")
    settings.log.write_text(
        "Traceback (most recent call last):\n  File x\n"
        "flink_agents_ctx.errors.ConfigError: option 'x' is 'y'\n"
    )
    failed = RunResult(1, 4.2, Progress(inputs=5, outputs=2, actions=9), settings)
    text = summary(failed)
    assert text.startswith("FAILED (exit code 1) after 4.2 s: 5 inputs, 2 outputs, 9 actions")
    assert "error:       flink_agents_ctx.errors.ConfigError: option 'x' is 'y'" in text
    assert f"outputs:     {settings.outputs} (1 file(s), 2 lines)" in text
    assert f"checkpoint:  {settings.checkpoints / 'jid' / 'chk-12'}" in text
    assert "Traceback" not in text
    assert "log tail:" in summary(failed, debug=True)
    finished = RunResult(0, 1.0, Progress(), settings)
    assert summary(finished).startswith("finished in 1.0 s")
    assert "error:" not in summary(finished)


def test_progress_line_and_the_jobs_default_output_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    line = progress_line(Progress(inputs=1200, outputs=7, actions=2400, keys_waiting=3), 9.5, 240)
    assert line == (
        "   9.5 s | in 1,200 out 7 | actions 2,400 (240/s) | durable calls 0 made, 0 replayed "
        "| keys waiting 3"
    )
    monkeypatch.delenv("FLINK_AGENTS_CTX_RUN_DIR", raising=False)
    assert output_dir("triage") == (Path("output") / "triage").absolute()
    for name, value in RunSettings(tmp_path).environ().items():
        monkeypatch.setenv(name, value)
    assert output_dir("triage") == tmp_path / "outputs"
    assert RunSettings.from_environ() == RunSettings(tmp_path)


def test_the_python_error_is_found_before_the_flink_clients_java_exceptions() -> None:
    from flink_agents_ctx.cli.run import last_exception

    output = [
        "Traceback (most recent call last):",
        '  File "job.py", line 2, in <module>',
        "    raise ValueError('x')",
        "flink_agents_ctx.errors.ConfigError: option 'n' is 'x'",
        "org.apache.flink.client.program.ProgramAbortException: java.lang.RuntimeException: "
        "Python process exits with code: 1",
        "\tat org.apache.flink.client.python.PythonDriver.main(PythonDriver.java:134)",
    ]
    assert last_exception(output) == "flink_agents_ctx.errors.ConfigError: option 'n' is 'x'"
    assert last_exception(output[4:]) == output[4]
    assert last_exception(["all fine"]) is None
