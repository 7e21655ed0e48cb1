"""Where the durable calls of an action execution come from, and what the operator counts of them."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from flink_agents_ctx.durable.identity import argument_digest
from flink_agents_ctx.errors import NonCanonicalArgumentError


@dataclass(frozen=True)
class CallScope:
    """Where calls of a session come from; the parts of every call's idempotency key."""

    job_id: str
    key: Hashable
    seq: int
    action: str
    step: int

    def idempotency_key(self, index: int) -> str:
        return f"{self.job_id}:{key_digest(self.key)}:{self.seq}:{self.action}.{self.step}:{index}"


def key_digest(key: Hashable) -> str:
    """A process-independent digest of a Flink key."""
    try:
        return argument_digest((key,), {})[:16]
    except NonCanonicalArgumentError:
        # Flink keys hash and compare by value, so their repr is deterministic in practice.
        return argument_digest((repr(key),), {})[:16]


@dataclass
class DurableStats:
    """Counts the operator reports as metrics."""

    replayed: int = 0
    mismatches: int = 0
    calls: int = 0
