"""Small shared records and enums used by every layer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any


class MemoryType(str, Enum):
    """Which memory a :class:`MemoryRef` points into."""

    SENSORY = "sensory"
    """Lives for one run (one input and every event it causes); cleared when the run ends."""
    SHORT_TERM = "short_term"
    """Lives across runs of the same key, in Flink keyed state."""


class ActionKind(str, Enum):
    """The language an action is written in; it decides which runner context the action gets."""

    PYTHON = "python"
    JAVA = "java"


class ResourceType(str, Enum):
    """Kinds of resources an agent can declare with ``Agent.add_resource``."""

    CHAT_MODEL = "chat_model"
    EMBEDDING_MODEL = "embedding_model"
    VECTOR_STORE = "vector_store"
    TOOL = "tool"
    PROMPT = "prompt"
    MCP_SERVER = "mcp_server"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class MemoryRef:
    """A reference to a value stored in agent memory.

    Returned by ``MemoryObject.set``; it is small, JSON-serialisable (put it in an event) and resolves
    from any runner context of the same key with ``ctx.sensory_memory.get(ref)`` (or the short-term
    memory: a ref always resolves against the memory it was created in).
    """

    memory_type: MemoryType
    path: str

    def to_json(self) -> str:
        """Encode as a JSON object string."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def to_dict(self) -> dict[str, str]:
        """Encode as a plain dict of strings (what events carry)."""
        return {"memory_type": self.memory_type.value, "path": self.path}

    @classmethod
    def from_json(cls, text: str) -> MemoryRef:
        """Decode what :meth:`to_json` produced."""
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoryRef:
        """Decode what :meth:`to_dict` produced."""
        return cls(MemoryType(data["memory_type"]), str(data["path"]))
