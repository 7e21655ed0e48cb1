"""``OperatorProbe``: read-only views into one operator instance, for the test harness and debugging.

Every view reads the state backend's *current key*: set it first (the harness does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flink_agents_ctx.action_state.port import ActionStateStore
from flink_agents_ctx.durable.execution_ref import DurableStats
from flink_agents_ctx.durable.records import CallRecord
from flink_agents_ctx.operator.runs import KeyMeta
from flink_agents_ctx.types import MemoryType

if TYPE_CHECKING:
    from flink_agents_ctx.operator.parts import OperatorParts


class OperatorProbe:
    """What tests may look at: durable-call counts, the current key's journal, memory and
    bookkeeping, and the action-state store."""

    def __init__(self, parts: OperatorParts, store: ActionStateStore | None) -> None:
        self._parts = parts
        self._store = store

    @property
    def stats(self) -> DurableStats:
        """Durable calls made, replayed, and replays that did not match (counted since open)."""
        return self._parts.services.stats

    @property
    def store(self) -> ActionStateStore | None:
        """The action-state store in use, if any."""
        return self._store

    def journal(self) -> list[CallRecord]:
        """The current key's keyed-state journal (its parked action's calls), by position."""
        records = self._parts.journals.records()
        return sorted(records.values(), key=lambda r: _position_order(r.position))

    def memory(self, memory_type: MemoryType) -> dict[str, Any]:
        """The current key's memory as nested dicts, as committed to state."""
        services = self._parts.services
        services.mailbox.enter()
        tree = services.sensory if memory_type is MemoryType.SENSORY else services.short_term
        try:
            return tree.to_dict()
        finally:
            # The cache belongs to one key; never let reads leak into the next key's actions.
            tree.store.discard()

    def flush_metrics(self) -> None:
        """Push the built-in counts to the metric backend now (they are pushed in batches)."""
        self._parts.services.metrics.flush()

    def key_meta(self) -> KeyMeta:
        """The current key's bookkeeping, as in state."""
        return self._parts.runs.meta()


def _position_order(position: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in position.split("/"))
