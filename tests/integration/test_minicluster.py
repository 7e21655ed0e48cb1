"""The reference scenarios on a real PyFlink mini-cluster (thread mode unless stated)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.integration.flink_runner import read_lines, run_job

pytestmark = [pytest.mark.flink, pytest.mark.timeout(240)]


def run_reference(
    tmp_path: Path, agent: str, inputs: list, config: dict | None = None, *mode: str
) -> list[str]:
    return run_reference_job(tmp_path, agent, inputs, config, *mode)[0]


def run_reference_job(
    tmp_path: Path, agent: str, inputs: list, config: dict | None = None, *mode: str
) -> tuple[list[str], str]:
    """The job's output lines, and the Java class of its agent operator."""
    out = tmp_path / "out"
    result = run_job(
        "reference_job.py", str(out), agent, json.dumps(inputs), json.dumps(config or {}), *mode
    )
    (operator,) = re.findall(r"^AGENT OPERATOR (\S+)$", result.stdout, re.MULTILINE)
    return read_lines(out), operator


def test_reference_scenarios_thread_mode(tmp_path: Path) -> None:
    inputs = [["k", 0], ["k", 1], ["a", 10], ["b", 20], ["a", 1]]
    lines, operator = run_reference_job(tmp_path, "reference", inputs)
    # Parallelism 1: per key in input order; across keys in input order too.
    assert lines == ["2", "4", "22", "42", "4"]
    # Ours: it calls the agent before every checkpoint barrier (memory writes wait for it).
    assert operator == "flinkagentsctx.operator.AgentKeyedProcessOperator"


def test_sensory_and_short_term_memory_thread_mode(tmp_path: Path) -> None:
    lines = run_reference(tmp_path, "sensory", [["k", "x"], ["j", "w"], ["k", "y"]])
    assert lines == ["x:1:True", "w:1:True", "y:2:True"]


def test_reference_scenarios_process_mode(tmp_path: Path) -> None:
    lines, operator = run_reference_job(
        tmp_path, "reference", [["k", 0], ["k", 1]], None, "process"
    )
    assert lines == ["2", "4"]
    # PyFlink's own (no barrier hook: memory writes go to state as each action commits)
    assert operator.endswith(".ExternalPythonKeyedProcessOperator")


def test_builtin_metrics_are_visible_through_the_rest_api() -> None:
    result = run_job("metrics_job.py", timeout_s=180)
    metrics = json.loads(result.stdout.strip().splitlines()[-1])

    def value(suffix: str) -> float:
        matches = [v for k, v in metrics.items() if k.endswith(suffix)]
        assert len(matches) == 1, f"{suffix} not reported exactly once: {sorted(metrics)}"
        return matches[0]

    a1 = value(".action.action1.numOfActionsExecuted")
    a2 = value(".action.action2.numOfActionsExecuted")
    total = value("reference-agent__Filter__Map.numOfActionsExecuted")
    events = value("reference-agent__Filter__Map.numOfEventProcessed")
    assert a1 > 0
    # Counters are sampled while the job runs, so allow for increments between two reads.
    assert a2 == pytest.approx(a1, rel=0.01)
    assert total == pytest.approx(a1 + a2, rel=0.01)
    assert events == pytest.approx(1.5 * total, rel=0.01)


def test_short_term_memory_ttl_in_flink_state(tmp_path: Path) -> None:
    commands = ["set", "read", "wait", "touch", "read", "set", "wait", "read"]
    config = {"short-term-memory.state-ttl.ms": 1000}
    lines = run_reference(tmp_path, "ttl", [["k", c] for c in commands], config)
    # After 1.5 s the tree written by "set" has expired entry by entry; the tree stays consistent.
    assert lines == ["a|True", "c|False", "|False"]


def test_quickstart_runs_with_and_without_an_activated_virtualenv() -> None:
    import os
    import sys

    bin_dir = os.path.dirname(sys.executable)
    plain = run_job("../../../jobs/quickstart.py", timeout_s=180)
    activated = run_job(
        "../../../jobs/quickstart.py",
        timeout_s=180,
        extra_env={"PATH": f"{bin_dir}:/usr/bin:/bin", "VIRTUAL_ENV": os.path.dirname(bin_dir)},
    )
    expected = [
        "ada: ticket #1 filed under billing (topics so far: billing)",
        "bob: ticket #1 filed under account (topics so far: account)",
        "ada: ticket #2 filed under billing (topics so far: billing); like earlier: "
        "'I cannot find my invoice'",
        "ada: ticket #3 filed under account (topics so far: billing, account)",
        "bob: ticket #2 filed under account (topics so far: account); like earlier: "
        "'Password reset link expired'",
    ]
    assert plain.stdout.splitlines() == expected
    assert activated.stdout.splitlines() == expected


def test_readme_example_job_prints_what_it_says() -> None:
    result = run_job("readme_job.py", timeout_s=180)
    assert [line.split("> ")[-1] for line in result.stdout.splitlines()] == ["2", "4"]


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_async_actions_wait_per_key_and_finish_at_end_of_input(tmp_path: Path, mode: str) -> None:
    # Every input waits on a 50 ms call on a worker; the bounded input ends long before the calls
    # do, so the outputs exist only if the end-of-input timer finished every parked run. Thread
    # mode finishes all keys together; process mode, which cannot switch keys, one by one.
    inputs = [["k", 5], ["k", 6], ["a", 3], ["b", 4], ["k", 7]]
    lines = run_reference(tmp_path, "async-chain", inputs, {"num-async-threads": 2}, mode)
    assert sorted(lines) == sorted(["100", "120", "60", "80", "140"])
    k_lines = [line for line in lines if line in ("100", "120", "140")]
    assert k_lines == ["100", "120", "140"]  # one run at a time per key, in input order


def test_gather_of_async_calls_in_flink(tmp_path: Path) -> None:
    assert run_reference(tmp_path, "gather", [["k", 1]]) == ["[10, 101, 2]"]
