"""Built-in and user metrics, read back from an in-memory metric backend."""

from __future__ import annotations

import pytest

from flink_agents_ctx import MetricGroup, MetricNameError
from flink_agents_ctx.testing import AgentTestHarness
from flink_agents_ctx.testing.fakes import InMemoryMetricBackend
from tests.support.reference_agents import ReferenceAgent


def test_builtin_counters_agent_wide_and_per_action() -> None:
    h = AgentTestHarness(ReferenceAgent())
    h.run([("a", 1), ("b", 2), ("a", 3)])
    # Per input: InputEvent, Middle, OutputEvent are processed; action1 and action2 run once.
    assert h.metric("numOfEventProcessed") == 9
    assert h.metric("numOfEventProcessedPerSec") == 9
    assert h.metric("numOfActionsExecuted") == 6
    assert h.metric("numOfActionsExecutedPerSec") == 6
    assert h.metric("action", "action1", "numOfActionsExecuted") == 3
    assert h.metric("action", "action2", "numOfActionsExecutedPerSec") == 3


def test_user_metrics_counter_meter_gauge_histogram() -> None:
    backend = InMemoryMetricBackend()
    group = MetricGroup(backend)
    sub = group.get_sub_group("llm").get_sub_group("model", "small")
    sub.get_counter("calls").inc(2)
    assert sub.get_counter("calls") is sub.get_counter("calls")
    sub.get_meter("tokens").mark_event(30)
    sub.get_gauge("queue").update(7)
    hist = sub.get_histogram("latency_ms", window_size=100)
    for v in range(1, 101):
        hist.update(v)
    assert backend.read("llm", "model", "small", "calls") == 2
    assert backend.read("llm", "model", "small", "tokens") == 30
    assert backend.read("llm", "model", "small", "queue") == 7
    assert backend.read("llm", "model", "small", "latency_ms_count") == 100
    assert backend.read("llm", "model", "small", "latency_ms_p50") == 51
    assert backend.read("llm", "model", "small", "latency_ms_max") == 100
    assert backend.read("llm", "model", "small", "latency_ms_mean") == pytest.approx(50.5)


def test_one_name_cannot_be_two_kinds_of_metric() -> None:
    group = MetricGroup(InMemoryMetricBackend())
    group.get_counter("x")
    with pytest.raises(MetricNameError, match="already registered in this group as a counter"):
        group.get_histogram("x")
