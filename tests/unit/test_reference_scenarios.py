"""The reference scenarios that need no durable calls, through the test harness."""

from __future__ import annotations

from flink_agents_ctx.testing import AgentTestHarness
from tests.support.reference_agents import ReferenceAgent, SensoryAgent


def test_zero_then_one_on_one_key() -> None:
    h = AgentTestHarness(ReferenceAgent())
    assert h.run([("k", 0)]) == [2]
    assert h.run([("k", 1)]) == [4]


def test_same_key_inputs_run_in_order() -> None:
    h = AgentTestHarness(ReferenceAgent())
    assert h.run([("k", 0), ("k", 1), ("k", 5)]) == [2, 4, 12]
    assert h.short_term_memory("k") == {"tmp": 6}


def test_different_keys_keep_separate_memory() -> None:
    h = AgentTestHarness(ReferenceAgent())
    assert h.run([("a", 10), ("b", 20), ("a", 1)]) == [22, 42, 4]
    assert h.short_term_memory("a") == {"tmp": 2}
    assert h.short_term_memory("b") == {"tmp": 21}


def test_sensory_memory_is_per_run_and_short_term_survives_restore() -> None:
    h = AgentTestHarness(SensoryAgent())
    assert h.run([("k", "x"), ("k", "y")]) == ["x:1:True", "y:2:True"]
    assert h.sensory_memory("k") == {}
    restored = AgentTestHarness.restore(SensoryAgent(), h.snapshot())
    assert restored.run([("k", "z")]) == ["z:3:True"]
    assert restored.short_term_memory("k") == {"seen": 3}


def test_snapshot_is_independent_of_later_writes() -> None:
    h = AgentTestHarness(ReferenceAgent())
    h.run([("k", 1)])
    snap = h.snapshot()
    h.run([("k", 100)])
    restored = AgentTestHarness.restore(ReferenceAgent(), snap)
    assert restored.short_term_memory("k") == {"tmp": 2}
