"""The typed update log of one action execution.

Each write to memory is recorded as the operation it was (not as the resulting value), so replaying
the log reproduces the tree exactly: a ``new_object`` replays as a new object, never as a value.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, NamedTuple

from flink_agents_ctx.types import MemoryType


class UpdateOp(str, Enum):
    SET = "set"
    NEW_OBJECT = "new_object"
    DELETE = "delete"


class MemoryUpdate(NamedTuple):
    """One memory operation: ``value`` for SET, ``overwrite`` for NEW_OBJECT.

    An immutable record (a named tuple: cheap to create once per memory write)."""

    memory_type: MemoryType
    op: UpdateOp
    path: str
    value: Any = None
    overwrite: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (memory values are checkpoint-stable, so this is JSON-safe but bytes)."""
        return {
            "memory_type": self.memory_type.value,
            "op": self.op.value,
            "path": self.path,
            "value": self.value,
            "overwrite": self.overwrite,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoryUpdate:
        return cls(
            MemoryType(data["memory_type"]),
            UpdateOp(data["op"]),
            data["path"],
            data.get("value"),
            bool(data.get("overwrite", False)),
        )
