"""A memory set of one key: add, get, search, update, delete and count items, isolated by a
scope digest of (job, key, set) and checked against the three (see
:mod:`flink_agents_ctx.long_term.memory` for the whole design)."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flink_agents_ctx.errors import LongTermMemoryError
from flink_agents_ctx.long_term.vector_store import METADATA, TEXT, aligned, build_filter
from flink_agents_ctx.metrics.group import MetricGroup
from flink_agents_ctx.resources.registry import current_action_metric_group

if TYPE_CHECKING:
    from flink_agents_ctx.long_term.memory import LongTermMemory

NEVER_MS = 2**62
"""``_expires`` of items without a time-to-live (every item has the field, so one filter works)."""

Summariser = Callable[[list[str]], str]
"""Turns the values of the oldest items into one summary text (``capacity-policy: compact``)."""


@dataclass(frozen=True)
class MemoryItem:
    """An item of a memory set. Times are epoch milliseconds; ``score`` is set by searches."""

    id: str
    value: str
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: int = 0
    updated_at: int = 0
    score: float | None = None


class MemorySet:
    """A memory set of one key (see the module docstring)."""

    def __init__(
        self,
        memory: LongTermMemory,
        key: str,
        name: str,
        summariser: Summariser | None,
    ) -> None:
        self._memory = memory
        self._key = key
        self.name = name
        self._summariser = summariser
        self._settings = memory.settings
        self._store = memory.store
        self._collection = memory.settings.collection
        scope = json.dumps([self._settings.job, key, name]).encode("utf-8", "surrogatepass")
        self._scope_digest = hashlib.sha256(scope).hexdigest()

    # -- scope ---------------------------------------------------------------------------------

    def _scope(self, include_expired: bool = False) -> list[Any]:
        """The conditions every operation adds: the set's scope digest (one indexed keyword, cheap
        for embedded Qdrant, which checks conditions point by point) and, unless asked, not
        expired. Results are checked against the full job, key and set fields as well."""
        from qdrant_client import models

        conditions = [
            models.FieldCondition(key="_scope", match=models.MatchValue(value=self._scope_digest))
        ]
        if not include_expired:
            now = self._memory.now_ms()
            conditions.append(models.FieldCondition(key="_expires", range=models.Range(gt=now)))
        return conditions

    def _point(self, public_id: str) -> str:
        scope = json.dumps([self._settings.job, self._key, self.name, public_id])
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "flink-agents-ctx-ltm:" + scope))

    def _content_id(self, value: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_OID, json.dumps([self._scope_digest, value])))

    def _mine(self, payload: Mapping[str, Any]) -> bool:
        return (
            payload.get("_job") == self._settings.job
            and payload.get("_key") == self._key
            and payload.get("_set") == self.name
            and int(payload.get("_expires", 0)) > self._memory.now_ms()
        )

    @staticmethod
    def _item(point: Any) -> MemoryItem:
        return _item_of(point.payload or {}, getattr(point, "score", None))

    def measure(self, operation: str, run: Callable[[], Any]) -> Any:
        """Run ``operation``, counting it and its latency on the calling action's metric group."""
        group: MetricGroup | None = current_action_metric_group.get()
        started = time.perf_counter()
        try:
            return run()
        finally:
            if group is not None:
                sub = group.get_sub_group("long_term_memory")
                sub.get_counter(f"{operation}Count").inc()
                sub.get_histogram(f"{operation}LatencyMs").update(
                    (time.perf_counter() - started) * 1000
                )

    # -- operations ----------------------------------------------------------------------------

    def add(
        self,
        items: Sequence[str],
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[str]:
        """Store ``items`` (texts) with their metadata; returns their ids. An item whose id (given,
        or derived from its value) is already in the set is replaced, keeping its creation time."""
        return list(self.measure("add", lambda: self._add(items, metadatas, ids)))

    def _add(
        self,
        items: Sequence[str],
        metadatas: Sequence[Mapping[str, Any] | None] | None,
        ids: Sequence[str] | None,
    ) -> list[str]:
        written = self._write(items, metadatas, ids)
        self._enforce_capacity()
        return written

    def _write(
        self,
        items: Sequence[str],
        metadatas: Sequence[Mapping[str, Any] | None] | None,
        ids: Sequence[str] | None,
        extra: Mapping[str, Any] | None = None,
    ) -> list[str]:
        if isinstance(items, str):
            raise LongTermMemoryError("add takes a list of texts; wrap one text in a list")
        values = list(items)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise LongTermMemoryError(
                    f"item {i} of set '{self.name}' is a {type(value).__name__}; long-term "
                    "memory stores texts: pass str(value) or json.dumps(value). Nothing was written"
                )
        metas = aligned("metadatas", metadatas, len(values))
        for i, meta in enumerate(metas):
            if meta is not None and not isinstance(meta, Mapping):
                raise LongTermMemoryError(
                    f"metadata {i} is a {type(meta).__name__}; give a dict. Nothing was written"
                )
        public = [
            str(given) if given is not None else self._content_id(value)
            for value, given in zip(values, aligned("ids", ids, len(values)), strict=True)
        ]
        vectors = self._store.embedder.embed(values)
        points = [self._point(p) for p in public]
        existing = {
            str(p.id): p.payload
            for p in self._store.retrieve(self._collection, points)
            if p.payload
        }
        now = self._memory.now_ms()
        expires = NEVER_MS if self._settings.ttl_ms is None else now + self._settings.ttl_ms
        writes = []
        for point, public_id, value, vector, meta in zip(
            points, public, values, vectors, metas, strict=True
        ):
            before = existing.get(point)
            created = int(before["_created"]) if before and self._mine(before) else now
            payload = {
                TEXT: value,
                METADATA: dict(meta or {}),
                "_job": self._settings.job,
                "_key": self._key,
                "_set": self.name,
                "_scope": self._scope_digest,
                "_id": public_id,
                "_created": created,
                "_updated": now,
                "_expires": expires,
                **(extra or {}),
            }
            writes.append((point, vector, payload))
        self._store.upsert(self._collection, writes)
        return public

    def _enforce_capacity(self) -> None:
        capacity = self._settings.capacity
        if capacity is None:
            return
        count = self._store.count(self._collection, self._scope())
        if count <= capacity:
            return
        if self._settings.policy == "evict-oldest":
            oldest = self._store.scroll(
                self._collection, self._scope(), count - capacity, "_created"
            )
            self._store.delete_points(self._collection, ids=[str(p.id) for p in oldest])
            return
        self._compact(count, capacity)

    def _compact(self, count: int, capacity: int) -> None:
        summariser = self._summariser
        if summariser is None:
            raise LongTermMemoryError(
                f"set '{self.name}' is over its capacity ({capacity}) and "
                "long-term-memory.capacity-policy is 'compact', but get_memory_set got no "
                "summariser: pass get_memory_set(name, summariser=fn) (fn: list of texts -> text)"
            )
        if self._finish_interrupted_compactions():
            count = self._store.count(self._collection, self._scope())
            if count <= capacity:
                return
        take = max(self._settings.compact_count, count - capacity + 1)
        oldest = self._store.scroll(self._collection, self._scope(), take, "_created")
        replaced = sorted(str(p.id) for p in oldest)
        texts = [str((p.payload or {}).get(TEXT)) for p in oldest]
        summary = summariser(texts)
        if not isinstance(summary, str):
            raise LongTermMemoryError(
                f"the summariser of set '{self.name}' returned a {type(summary).__name__}, not a str"
            )
        # The summary is stored first, with the points it replaces, so a compaction interrupted
        # before the originals are deleted is finished by the next one instead of summarised again.
        summary_id = "summary-" + hashlib.sha256(json.dumps(replaced).encode()).hexdigest()[:32]
        self._write([summary], [{"summary_of": len(texts)}], [summary_id], {"_replaces": replaced})
        self._store.delete_points(self._collection, ids=replaced)

    def _finish_interrupted_compactions(self) -> bool:
        """Delete what earlier summaries replaced but did not get to delete; whether any."""
        from qdrant_client import models

        has_replaced = models.IsEmptyCondition(is_empty=models.PayloadField(key="_replaces"))
        summaries = self._store.scroll(
            self._collection,
            [*self._scope(include_expired=True), models.Filter(must_not=[has_replaced])],
            1000,
        )
        leftover = {
            point_id for p in summaries for point_id in (p.payload or {}).get("_replaces", [])
        }
        if not leftover:
            return False
        still = [str(p.id) for p in self._store.retrieve(self._collection, sorted(leftover))]
        if still:
            self._store.delete_points(self._collection, ids=still)
        return bool(still)

    def get(
        self,
        ids: Sequence[str] | None = None,
        filters: Mapping[str, Any] | None = None,
        limit: int = 100,
    ) -> list[MemoryItem]:
        """Items by id (missing ones are left out), or those matching ``filters`` (oldest first)."""

        def run() -> list[MemoryItem]:
            if ids is not None:
                found = self._store.retrieve(self._collection, [self._point(str(i)) for i in ids])
                return [self._item(p) for p in found if self._mine(p.payload or {})]
            conditions = self._scope() + build_filter(filters)
            points = self._store.scroll(self._collection, conditions, limit, "_created")
            return [self._item(p) for p in points if self._mine(p.payload or {})]

        return list(self.measure("get", run))

    def search(
        self,
        query: str,
        limit: int = 10,
        filters: Mapping[str, Any] | None = None,
        score_threshold: float | None = None,
    ) -> list[MemoryItem]:
        """The items closest in meaning to ``query``, best first, with their scores."""
        if not isinstance(query, str):
            raise LongTermMemoryError(f"search takes a str query, got {type(query).__name__}")

        def run() -> list[MemoryItem]:
            conditions = self._scope() + build_filter(filters)
            points = self._store.search(self._collection, query, limit, conditions, score_threshold)
            return [self._item(p) for p in points if self._mine(p.payload or {})]

        return list(self.measure("search", run))

    def update(
        self, item_id: str, value: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> MemoryItem:
        """Replace an item's value and/or metadata; returns the item as stored now."""

        def run() -> MemoryItem:
            point = self._point(str(item_id))
            found = [
                p
                for p in self._store.retrieve(self._collection, [point])
                if self._mine(p.payload or {})
            ]
            if not found:
                raise LongTermMemoryError(
                    f"set '{self.name}' has no item with id {item_id!r}; add it first"
                )
            payload = dict(found[0].payload or {})
            new_value = payload[TEXT] if value is None else value
            if not isinstance(new_value, str):
                raise LongTermMemoryError(
                    f"an item's value is a str, got {type(new_value).__name__}"
                )
            if metadata is not None:
                payload[METADATA] = dict(metadata)
            now = self._memory.now_ms()
            payload.update({TEXT: new_value, "_updated": now})
            if self._settings.ttl_ms is not None:
                payload["_expires"] = now + self._settings.ttl_ms
            vector = self._store.embedder.embed([new_value])[0]
            self._store.upsert(self._collection, [(point, vector, payload)])
            return _item_of(payload)

        result: MemoryItem = self.measure("update", run)
        return result

    def delete(
        self, ids: Sequence[str] | None = None, filters: Mapping[str, Any] | None = None
    ) -> None:
        """Delete items by id, or those matching ``filters`` (one is needed; to delete the whole
        set, ``ctx.long_term_memory.delete_memory_set(name)``)."""
        if ids is None and not filters:
            raise LongTermMemoryError(
                "delete needs ids or filters; delete_memory_set(name) deletes a whole set"
            )

        def run() -> None:
            if ids is not None:
                found = self._store.retrieve(self._collection, [self._point(str(i)) for i in ids])
                mine = [str(p.id) for p in found if self._mine(p.payload or {})]
                if mine:
                    self._store.delete_points(self._collection, ids=mine)
            else:
                self.delete_where(build_filter(filters))

        self.measure("delete", run)

    def delete_where(self, conditions: list[Any]) -> None:
        self._store.delete_points(
            self._collection, conditions=self._scope(include_expired=True) + conditions
        )

    def count(self) -> int:
        """How many items the set holds (expired ones not counted)."""
        return int(
            self.measure("count", lambda: self._store.count(self._collection, self._scope()))
        )


def _item_of(payload: Mapping[str, Any], score: float | None = None) -> MemoryItem:
    return MemoryItem(
        id=str(payload.get("_id")),
        value=str(payload.get(TEXT)),
        metadata=dict(payload.get(METADATA) or {}),
        created_at=int(payload.get("_created", 0)),
        updated_at=int(payload.get("_updated", 0)),
        score=score,
    )
