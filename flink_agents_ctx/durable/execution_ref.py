"""Which action execution durable calls belong to, and what the operator counts of them."""

from __future__ import annotations

import json
from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property

from flink_agents_ctx.durable.codec import JsonCodec
from flink_agents_ctx.durable.identity import key_digest
from flink_agents_ctx.errors import JournalEncodingError, NonCanonicalArgumentError


@dataclass(frozen=True)
class ExecutionRef:
    """One action execution: ``action`` running as step ``step`` of the key's input number
    ``seq`` in job ``job``; ``input_digest`` identifies that input itself.

    It names the execution's records in the write-ahead store and is the stem of every call's
    idempotency key. ``seq`` numbers the key's inputs that needed an identity (made a durable
    call or waited), so a replay of the same inputs numbers them the same way.
    """

    job: str
    key: Hashable
    seq: int
    input_digest: str
    action: str
    step: int

    @cached_property
    def key_digest(self) -> str:
        """SHA-256 of the key's canonical encoding (computed once)."""
        return key_digest(self.key)

    @property
    def key_text(self) -> str:
        """The key as tagged JSON, for people reading the store."""
        try:
            return JsonCodec().encode(self.key).decode()
        except (JournalEncodingError, NonCanonicalArgumentError, TypeError, ValueError):
            return json.dumps({"repr": repr(self.key)})

    def idempotency_key(self, position: str) -> str:
        """The same for a call every time it is made for the same input: across retries,
        replays and restores."""
        return (
            f"{self.job}:{self.key_digest[:16]}:{self.seq}:{self.input_digest[:8]}:"
            f"{self.action}.{self.step}:{position}"
        )


@dataclass
class DurableStats:
    """Counts the operator reports as metrics."""

    replayed: int = 0
    mismatches: int = 0
    calls: int = 0
