"""The action-state store port: durable call records by action execution."""

from __future__ import annotations

from typing import Protocol

from flink_agents_ctx.durable.execution_ref import ExecutionRef
from flink_agents_ctx.durable.records import CallRecord


class ActionStateStore(Protocol):
    """Durable call records by action execution. Implementations are thread-safe: records are
    written from worker threads as calls finish. A row that cannot be read back faithfully raises
    :class:`~flink_agents_ctx.ActionStateStoreError` at once (it is not retried)."""

    @property
    def address(self) -> str:
        """Where the store is, without any password (for logs and errors)."""
        ...

    @property
    def secrets(self) -> list[str]:
        """The password in the store's address (every form), to scrub from driver messages."""
        ...

    def load(self, execution: ExecutionRef) -> dict[str, CallRecord]:
        """The records of ``execution`` by call position (empty when it has none)."""
        ...

    def save(self, execution: ExecutionRef, record: CallRecord) -> None:
        """Commit ``record`` (replacing one at the same position) before returning."""
        ...

    def prune(self, older_than: float) -> int:
        """Delete records written before ``older_than`` (Unix time); return how many."""
        ...

    def count(self, job_id: str | None = None) -> int:
        """How many records the store holds (of ``job_id`` when given)."""
        ...

    def close(self) -> None: ...
