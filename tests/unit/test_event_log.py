"""The structured event log through the operator core (test harness) and on its own: what each
input leaves, levels per record type, value shaping, both sinks, bad configuration."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from flink_agents_ctx import (
    ActionFailedEvent,
    Agent,
    ConfigError,
    Event,
    InputEvent,
    OutputEvent,
    RunnerContext,
    action,
)
from flink_agents_ctx.event_log.log import EventLog, JsonLinesFile, Limits, shape
from flink_agents_ctx.testing import AgentTestHarness


class Doubled(Event):
    value: int
    note: str


class Chain(Agent):
    @action(InputEvent, on_failure="emit")
    @staticmethod
    def double(event: InputEvent, ctx: RunnerContext) -> None:
        if event.input < 0:
            raise ValueError("negative input")
        ctx.send_event(Doubled(value=2 * event.input, note="x" * 40))

    @action(Doubled)
    @staticmethod
    def emit(event: Doubled, ctx: RunnerContext) -> None:
        ctx.send_event(OutputEvent(output=event.value))

    @action(ActionFailedEvent)
    @staticmethod
    def recover(event: ActionFailedEvent, ctx: RunnerContext) -> None:
        ctx.send_event(OutputEvent(output=f"failed: {event.message}"))


def _chain() -> Agent:
    return Chain()


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _harness(tmp_path: Path, **config: Any) -> tuple[AgentTestHarness, Path]:
    path = tmp_path / "events-{subtask}.jsonl"
    settings = {"event-log.sink": "file", "event-log.file": str(path), **config}
    return AgentTestHarness(_chain(), settings), tmp_path / "events-0.jsonl"


def test_each_input_leaves_its_events_and_actions_linked_by_cause(tmp_path: Path) -> None:
    harness, path = _harness(tmp_path, **{"event-log.levels": "action=INFO"})
    assert harness.send("k", 3) == [6]
    records = _records(path)
    assert [(r["record"], r.get("type") or r["action"]) for r in records] == [
        ("event", "InputEvent"),
        ("action", "double"),
        ("event", "Doubled"),
        ("action", "emit"),
        ("event", "OutputEvent"),
    ]
    first, double, doubled, emit, output = records
    assert first["fields"] == {"input": 3} and "by" not in first
    assert (first["key"], first["agent"], first["level"]) == ("k", "Chain", "INFO")
    assert double == double | {"trigger": "InputEvent", "cause": first["id"], "sent": ["Doubled"]}
    assert doubled["by"] == "double" and doubled["cause"] == first["id"]
    assert doubled["fields"] == {"value": 6, "note": "x" * 40}
    assert emit["cause"] == doubled["id"] and emit["failed"] is False
    assert output["fields"] == {"output": 6} and output["by"] == "emit"
    assert records[0]["time"].endswith("Z")


def test_levels_per_record_type_and_the_threshold(tmp_path: Path) -> None:
    # Actions are DEBUG by default, failures WARNING; Doubled is made DEBUG here.
    harness, path = _harness(
        tmp_path, **{"event-log.levels": "Doubled=DEBUG", "event-log.level": "INFO"}
    )
    harness.send("k", 1)
    assert [r.get("type") for r in _records(path)] == ["InputEvent", "OutputEvent"]
    path.unlink()
    harness.close()
    harness, path = _harness(tmp_path, **{"event-log.level": "WARNING"})
    assert harness.send("k", -1) == ["failed: negative input"]
    failed = _records(path)
    assert [(r["record"], r["level"]) for r in failed] == [
        ("action", "WARNING"),
        ("event", "WARNING"),
    ]
    assert failed[0]["failed"] is True and failed[1]["type"] == "ActionFailedEvent"


def test_values_are_cut_to_the_limits() -> None:
    limits = Limits(max_string=8, max_items=3, max_depth=2)
    assert shape("abcdefghijkl", limits) == "abcdefgh...(+4 chars)"
    assert shape(list(range(10)), limits) == [0, 1, 2, "...(+7 items)"]
    assert shape({"a": 1, "b": 2, "c": 3, "d": 4}, limits) == {
        "a": 1, "b": 2, "c": 3, "...": "+1 items",
    }  # fmt: skip
    assert shape({"a": {"b": {"c": 1}}}, limits) == {"a": {"b": "<dict nested deeper than 2>"}}
    assert shape(b"\x00" * 5, limits) == "<5 bytes>"
    assert shape(float("nan"), limits) == "nan"
    assert shape(object, limits).startswith("<class '")
    assert shape(Doubled(value=1, note="n", id="e1"), Limits()) == {
        "type": "Doubled", "id": "e1", "value": 1, "note": "n",
    }  # fmt: skip


def test_the_logger_sink_logs_at_each_records_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="flink_agents_ctx.event_log")
    harness = AgentTestHarness(_chain(), {"event-log.sink": "logger", "event-log.level": "DEBUG"})
    harness.send(("user", 7), 2)
    mine = [r for r in caplog.records if r.name == "flink_agents_ctx.event_log"]
    assert [r.levelno for r in mine] == [
        logging.INFO, logging.DEBUG, logging.INFO, logging.DEBUG, logging.INFO,
    ]  # fmt: skip
    assert json.loads(mine[0].getMessage())["key"] == ["user", 7]


def test_bad_event_log_configuration_is_refused() -> None:
    with pytest.raises(ConfigError, match="event-log.file is not set"):
        AgentTestHarness(_chain(), {"event-log.sink": "file"})
    with pytest.raises(ConfigError, match="'EventType=LEVEL"):
        AgentTestHarness(_chain(), {"event-log.levels": "Doubled"})
    with pytest.raises(ConfigError, match="level 'LOUD' of 'Doubled'"):
        AgentTestHarness(_chain(), {"event-log.levels": "Doubled=LOUD"})
    with pytest.raises(ConfigError, match="allowed values"):
        AgentTestHarness(_chain(), {"event-log.sink": "kafka"})


def test_off_means_no_event_log() -> None:
    from flink_agents_ctx.config import AgentConfig
    from flink_agents_ctx.event_log import open_event_log

    assert open_event_log(AgentConfig(), "Chain") is None
    assert isinstance(open_event_log(AgentConfig({"event-log.sink": "logger"}), "Chain"), EventLog)


def test_odd_values_are_written_not_raised(tmp_path: Path) -> None:
    """A lone surrogate (from JSON input), an int without a decimal form and an object whose
    repr raises: each is written in a readable form instead of failing the job."""

    class BadRepr:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    path = tmp_path / "events.jsonl"
    log = EventLog(JsonLinesFile(path), "Chain")
    for odd in ({"t": json.loads('"\\ud800"')}, {"n": 10**5000}, {"o": BadRepr()}):
        log.event("k", InputEvent(input=odd))
    log.close()
    assert log.dropped == 0
    lines = path.read_text().splitlines()
    assert '"fields": {"input": {"t": "\\ud800"}}' in lines[0]  # JSON's escape of it
    assert [json.loads(line)["fields"]["input"] for line in lines[1:]] == [
        {"n": "<int of 16610 bits>"},
        {"o": "<BadRepr: repr failed: RuntimeError>"},
    ]


def test_a_record_that_cannot_be_written_is_dropped_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        def write(self, level: int, line: str) -> None:
            raise OSError("disk full")

        def flush(self) -> None:
            pass

        def close(self) -> None:
            pass

    log = EventLog(Broken(), "Chain")
    with caplog.at_level(logging.WARNING, logger="flink_agents_ctx.event_log.log"):
        log.event("k", InputEvent(input=1))
        log.event("k", InputEvent(input=2))
    assert log.dropped == 2
    assert [r.getMessage() for r in caplog.records].count(
        "event log: a InputEvent record of key 'k' could not be written (OSError: disk full); "
        "such records are dropped"
    ) == 1
