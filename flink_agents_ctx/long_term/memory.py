"""Long-term memory: memory sets of a key, searchable by meaning, in one Qdrant collection.

::

    notes = ctx.long_term_memory.get_memory_set("tickets")
    notes.add(["printer jams on tray 2"], metadatas=[{"severity": 2}])
    hits = notes.search("paper stuck in the printer", limit=3, filters={"severity": {"gte": 2}})

Every item carries its job identity, its key (the key's full canonical encoding, not a hash) and
its set name as payload fields, and the SHA-256 of the three as an indexed scope field; every read,
search, count and delete filters on the scope, and what comes back is checked against the three
fields: keys whose ``hash()`` collides, and jobs sharing a store, never see each other's items. A set
handle binds its key when it is made, so it may be used inside ``durable_execute_async`` functions
and on other threads.

Replay safety: an item's point id is derived from its scope and its value (or the id you give), so
an action replayed after a restore writes the same points again instead of new ones; a set holds
one item per distinct value unless ids are given. Updates and deletes are idempotent.

Capacity and time-to-live come from the configuration (``long-term-memory.*``): an add beyond the
capacity evicts the oldest items, or compacts them into one summary made by the set's summariser.
The summary is stored under an id derived from the items it replaces, before they are deleted, so a
replay that compacts the same items finds it and does not summarise again. Expired items are never
returned and a periodic sweep deletes them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from flink_agents_ctx.durable.identity import canonical_bytes
from flink_agents_ctx.errors import LongTermMemoryError
from flink_agents_ctx.long_term.memory_set import MemoryItem, MemorySet, Summariser
from flink_agents_ctx.long_term.vector_store import QdrantVectorStore

_log = logging.getLogger(__name__)

__all__ = ["KeyMemory", "LongTermMemory", "LongTermMemorySettings", "MemoryItem", "MemorySet"]


def key_text(key: Hashable) -> str:
    """The exact, canonical text of a key (typed: the str "1" and the int 1 differ)."""
    raw = canonical_bytes(key)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "hex:" + raw.hex()


@dataclass(frozen=True)
class LongTermMemorySettings:
    """What the configuration says (see :mod:`flink_agents_ctx.long_term.options`)."""

    collection: str
    job: str
    ttl_ms: int | None = None
    capacity: int | None = None
    policy: str = "evict-oldest"
    compact_count: int = 10
    sweep_interval_ms: int = 60_000


class LongTermMemory:
    """The long-term memory of one operator: its store, collection and limits.

    Args:
        settings: collection, job identity, limits.
        store: makes the vector store (with the embedding model) on first use, on the task thread.
        clock: wall-clock seconds (``time.time``; tests pass their own).
    """

    def __init__(
        self,
        settings: LongTermMemorySettings,
        store: Callable[[], QdrantVectorStore],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._make_store = store
        self._store: QdrantVectorStore | None = None
        self._clock = clock
        self._last_sweep_ms = self.now_ms()

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    @property
    def store(self) -> QdrantVectorStore:
        store = self._store
        if store is None:
            store = self._make_store()
            name = self.settings.collection
            store.create_collection(name)
            for field_name, kind in (
                ("_scope", "keyword"),
                ("_job", "keyword"),
                ("_created", "integer"),
                ("_expires", "integer"),
            ):
                store.create_index(name, field_name, kind)
            self._store = store
        return store

    def for_key(self, key: Hashable) -> KeyMemory:
        """The memory sets of ``key``."""
        self.store  # noqa: B018  (made here, on the task thread, with the embedding model)
        return KeyMemory(self, key_text(key))

    def maybe_sweep(self) -> None:
        """:meth:`sweep` when ``sweep_interval_ms`` passed since the last one (housekeeping; a
        failed sweep is logged and tried again at the next interval)."""
        now = self.now_ms()
        if now - self._last_sweep_ms >= self.settings.sweep_interval_ms:
            self._last_sweep_ms = now
            try:
                self.sweep()
            except Exception:
                _log.warning("deleting expired long-term memory items failed", exc_info=True)

    def sweep(self) -> None:
        """Delete this job's expired items (all keys)."""
        if self.settings.ttl_ms is None or self._store is None:
            return
        from qdrant_client import models

        conditions = [
            models.FieldCondition(key="_job", match=models.MatchValue(value=self.settings.job)),
            models.FieldCondition(key="_expires", range=models.Range(lte=self.now_ms())),
        ]
        self._store.delete_points(self.settings.collection, conditions=conditions)


class KeyMemory:
    """``ctx.long_term_memory``: the memory sets of one key."""

    def __init__(self, memory: LongTermMemory, key: str) -> None:
        self._memory = memory
        self._key = key

    def get_memory_set(self, name: str, summariser: Summariser | None = None) -> MemorySet:
        """The set ``name`` of this key (made on first add). ``summariser`` compacts it when
        ``long-term-memory.capacity-policy`` is ``compact``."""
        if not isinstance(name, str) or not name:
            raise LongTermMemoryError(f"a memory set name is a non-empty str, got {name!r}")
        return MemorySet(self._memory, self._key, name, summariser)

    def delete_memory_set(self, name: str) -> None:
        """Delete every item of the set ``name`` of this key."""
        memory_set = self.get_memory_set(name)
        memory_set.measure("delete", lambda: memory_set.delete_where([]))
