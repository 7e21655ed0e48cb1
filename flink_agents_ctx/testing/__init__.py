"""Test harness: run an agent on in-memory state with the same operator core Flink runs.

::

    h = AgentTestHarness(MyAgent())
    assert h.run([("k", 0)]) == [2]
    snap = h.snapshot()                      # everything a checkpoint would hold
    h2 = AgentTestHarness.restore(MyAgent(), snap)
    assert h2.run([("k", 1)]) == [4]
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flink_agents_ctx.agent import Agent
from flink_agents_ctx.backends.in_memory import InMemoryKeyedState, InMemoryMetricBackend
from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.operator.core import OperatorCore
from flink_agents_ctx.types import MemoryType

__all__ = ["AgentTestHarness", "HarnessSnapshot"]


@dataclass(frozen=True)
class HarnessSnapshot:
    """All keyed state of a harness, as bytes (what a checkpoint of the operator holds)."""

    state: bytes


class AgentTestHarness:
    """Drives an agent through :class:`OperatorCore` on in-memory keyed state.

    Args:
        agent: the agent under test.
        config: agent configuration (same keys as in a job).
        clock: seconds as a float, for state time-to-live (defaults to ``time.monotonic``).
    """

    def __init__(
        self,
        agent: Agent,
        config: Mapping[str, Any] | AgentConfig | None = None,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.agent = agent
        self.config = AgentConfig(config)
        self.state = InMemoryKeyedState(clock)
        self.metrics = InMemoryMetricBackend()
        self._core = OperatorCore(agent.plan(), self.state, self.metrics, self.config)

    def send(self, key: Hashable, value: Any, timestamp: int | None = None) -> list[Any]:
        """Process one input of ``key`` as ``process_element`` would; return its outputs."""
        self.state.set_current_key(key)
        return self._core.process_input(key, value, timestamp)

    def run(self, inputs: Iterable[tuple[Any, ...]]) -> list[Any]:
        """Process ``(key, value)`` or ``(key, value, timestamp)`` inputs in order; return every
        output in emission order."""
        outputs: list[Any] = []
        for item in inputs:
            outputs.extend(self.send(*item))
        return outputs

    def snapshot(self) -> HarnessSnapshot:
        """Capture all keyed state."""
        return HarnessSnapshot(self.state.snapshot())

    @classmethod
    def restore(
        cls,
        agent: Agent,
        snapshot: HarnessSnapshot,
        config: Mapping[str, Any] | AgentConfig | None = None,
        *,
        clock: Callable[[], float] | None = None,
    ) -> AgentTestHarness:
        """A new harness (a new operator instance) continuing from ``snapshot``."""
        harness = cls(agent, config, clock=clock)
        harness.state.restore(snapshot.state)
        return harness

    def short_term_memory(self, key: Hashable) -> dict[str, Any]:
        """Short-term memory of ``key`` as nested dicts."""
        self.state.set_current_key(key)
        return self._core.memory_snapshot(MemoryType.SHORT_TERM)

    def sensory_memory(self, key: Hashable) -> dict[str, Any]:
        """Sensory memory of ``key`` as nested dicts (empty between runs)."""
        self.state.set_current_key(key)
        return self._core.memory_snapshot(MemoryType.SENSORY)

    def metric(self, *path: str) -> Any:
        """A metric's value, e.g. ``metric("action", "a1", "numOfActionsExecuted")``."""
        self._core.metrics.flush()
        return self.metrics.read(*path)

    def close(self) -> None:
        """Close the operator (and the resources it built)."""
        self._core.close()
