"""A vector store on Qdrant (``ResourceType.VECTOR_STORE``), which long-term memory builds on.

::

    store = QdrantVectorStore(":memory:", embedder=HashingEmbedder())
    store.create_collection("docs")
    ids = store.add("docs", ["refunds take 5 days", "shipping is free"], [{"topic": "billing"}, {}])
    hits = store.query("docs", "how long is a refund", limit=3, filters={"topic": "billing"})

Locations: ``":memory:"`` (embedded, gone with the process), a local directory (embedded,
persistent) or an ``http(s)://`` server URL. Embedded locations are opened once per process and
shared (:func:`qdrant_client_for`): a local directory can be held by one client only.

Filters are on metadata fields: ``{"field": value}`` (equal; str, int or bool),
``{"field": {"gte": 1, "lt": 5}}`` (a range: ``gt``, ``gte``, ``lt``, ``lte``) and
``{"field": {"any": [v1, v2]}}`` (one of).
"""

from __future__ import annotations

import threading
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flink_agents_ctx.errors import LongTermMemoryError, VectorStoreError
from flink_agents_ctx.long_term.embedders import EmbeddingModel, HashingEmbedder

_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()

METADATA = "metadata"
"""The payload field user metadata lives under (filters name fields inside it)."""
TEXT = "text"
_RANGE_OPS = ("gt", "gte", "lt", "lte")


class _Serialised:
    """An embedded Qdrant client whose calls run one at a time: embedded Qdrant is not
    thread-safe, and actions, durable calls on worker threads and sweeps share one client."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute
        lock = self._lock

        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return attribute(*args, **kwargs)

        return call


def qdrant_client_for(location: str, api_key: str | None = None) -> Any:
    """The process's client of ``location`` (made on first use, shared afterwards; embedded
    clients serialise their calls).

    Raises:
        VectorStoreError: the location cannot be opened (another process holds the directory).
    """
    from qdrant_client import QdrantClient

    registry_key = location if api_key is None else f"{location}\0{api_key}"
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(registry_key)
        if client is None:
            try:
                if location == ":memory:":
                    client = _Serialised(QdrantClient(":memory:"))
                elif location.startswith(("http://", "https://")):
                    client = QdrantClient(url=location, api_key=api_key, check_compatibility=False)
                else:
                    client = _Serialised(QdrantClient(path=location))
            except Exception as e:
                raise VectorStoreError(
                    f"cannot open Qdrant at {location!r}: {e}. An embedded directory can be open "
                    "in one process only: use another directory, ':memory:' or a Qdrant server"
                ) from None
            _CLIENTS[registry_key] = client
        return client


@dataclass(frozen=True)
class Document:
    """A stored text: its id, text, metadata and (for a query) its similarity score."""

    id: str
    text: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    score: float | None = None


def point_id(value: Any) -> str:
    """A Qdrant point id for a user id: UUIDs as they are, anything else mapped to a UUID by name
    (so any string can be an id, and the same string is always the same point)."""
    text = str(value)
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "flink-agents-ctx:" + text))


def build_filter(filters: Mapping[str, Any] | None, prefix: str = METADATA + ".") -> list[Any]:
    """Qdrant conditions for user ``filters`` on metadata fields (see the module docstring).

    Raises:
        LongTermMemoryError: a field or value the filter language does not have.
    """
    from qdrant_client import models

    conditions: list[Any] = []
    if not filters:
        return conditions
    if not isinstance(filters, Mapping):
        raise LongTermMemoryError(
            f"filters must be a dict of field -> value, got {type(filters).__name__}"
        )
    for name, wanted in filters.items():
        if not isinstance(name, str) or not name:
            raise LongTermMemoryError(f"filter field {name!r} must be a non-empty str")
        key = prefix + name
        if isinstance(wanted, (str, int)) and not isinstance(wanted, float):
            conditions.append(models.FieldCondition(key=key, match=models.MatchValue(value=wanted)))
        elif isinstance(wanted, Mapping):
            unknown = [op for op in wanted if op not in (*_RANGE_OPS, "any")]
            if unknown:
                raise LongTermMemoryError(
                    f"filter on '{name}': unknown operator {unknown[0]!r}; use gt, gte, lt, lte "
                    "(a range) or any (one of a list)"
                )
            if "any" in wanted:
                values = wanted["any"]
                if not isinstance(values, (list, tuple)) or not all(
                    isinstance(v, (str, int)) and not isinstance(v, float) for v in values
                ):
                    raise LongTermMemoryError(
                        f"filter on '{name}': 'any' takes a list of str or int values"
                    )
                conditions.append(
                    models.FieldCondition(key=key, match=models.MatchAny(any=list(values)))
                )
            bounds = {op: wanted[op] for op in _RANGE_OPS if op in wanted}
            for op, bound in bounds.items():
                if isinstance(bound, bool) or not isinstance(bound, (int, float)):
                    raise LongTermMemoryError(
                        f"filter on '{name}': {op} takes a number, got {type(bound).__name__}"
                    )
            if bounds:
                conditions.append(models.FieldCondition(key=key, range=models.Range(**bounds)))
        else:
            raise LongTermMemoryError(
                f"filter on '{name}': a {type(wanted).__name__} value; filters take a str, int or "
                "bool (equal), a range {'gte': 1, 'lt': 5} or {'any': [...]}"
            )
    return conditions


class QdrantVectorStore:
    """Documents with vectors in Qdrant collections (see the module docstring).

    Args:
        location: ``":memory:"``, a local directory or a server URL.
        embedder: turns texts into vectors (default: a :class:`HashingEmbedder`).
        api_key: for a server.
    """

    def __init__(
        self,
        location: str = ":memory:",
        embedder: EmbeddingModel | None = None,
        api_key: str | None = None,
    ) -> None:
        self.location = location
        self.embedder: EmbeddingModel = embedder or HashingEmbedder()
        self.client = qdrant_client_for(location, api_key)
        self._known: dict[str, int] = {}

    # -- collections --------------------------------------------------------------------------

    def create_collection(self, name: str, dimension: int | None = None) -> None:
        """Create ``name`` for vectors of ``dimension`` (default: the embedder's), cosine
        distance; an existing collection of that size is kept.

        Raises:
            VectorStoreError: it exists with another vector size.
        """
        from qdrant_client import models

        size = dimension or self.embedder.dimension
        known = self._known.get(name)
        if known == size:
            return
        try:
            if self.client.collection_exists(name):
                info = self.client.get_collection(name)
                existing = info.config.params.vectors.size
                if existing != size:
                    raise VectorStoreError(
                        f"collection '{name}' holds vectors of {existing} floats and the "
                        f"embedding model makes {size}: use the model the collection was made "
                        "with, or another collection"
                    )
            else:
                self.client.create_collection(
                    name,
                    vectors_config=models.VectorParams(size=size, distance=models.Distance.COSINE),
                )
        except VectorStoreError:
            raise
        except Exception as e:
            raise self._failed(f"create collection '{name}'", e) from None
        self._known[name] = size

    def create_index(self, collection: str, field_name: str, kind: str) -> None:
        """A payload index (``kind``: keyword, integer, float, bool) on a payload field."""
        from qdrant_client import models

        schema = {
            "keyword": models.PayloadSchemaType.KEYWORD,
            "integer": models.PayloadSchemaType.INTEGER,
            "float": models.PayloadSchemaType.FLOAT,
            "bool": models.PayloadSchemaType.BOOL,
        }[kind]
        try:
            with warnings.catch_warnings():
                # Embedded Qdrant keeps no payload indexes and says so; a server does.
                warnings.filterwarnings("ignore", "Payload indexes have no effect")
                self.client.create_payload_index(collection, field_name, field_schema=schema)
        except Exception as e:
            raise self._failed(f"index '{field_name}' of '{collection}'", e) from None

    def delete_collection(self, name: str) -> None:
        self._known.pop(name, None)
        self._call(f"delete collection '{name}'", "delete_collection", name)

    def _failed(self, what: str, error: Exception) -> VectorStoreError:
        return VectorStoreError(f"Qdrant at {self.location!r} could not {what}: {error}")

    def _call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """``client.<method>(...)``, its failure as a :class:`VectorStoreError` saying ``what``."""
        try:
            return getattr(self.client, method)(*args, **kwargs)
        except Exception as e:
            raise self._failed(what, e) from None

    # -- documents ----------------------------------------------------------------------------

    def add(
        self,
        collection: str,
        texts: Sequence[str],
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
        ids: Sequence[Any] | None = None,
    ) -> list[str]:
        """Store ``texts`` (embedded) with their metadata; returns their ids (random unless given;
        adding an id again replaces that document)."""
        metadata_list = aligned("metadatas", metadatas, len(texts))
        id_list = aligned("ids", ids, len(texts))
        vectors = self.embedder.embed(list(texts))
        chosen = [point_id(i) if i is not None else str(uuid.uuid4()) for i in id_list]
        payloads = [
            {TEXT: text, METADATA: dict(meta or {})}
            for text, meta in zip(texts, metadata_list, strict=True)
        ]
        self.create_collection(collection)
        self.upsert(collection, list(zip(chosen, vectors, payloads, strict=True)))
        return chosen

    def upsert(
        self, collection: str, points: Sequence[tuple[str, list[float], dict[str, Any]]]
    ) -> None:
        """Write points ``(id, vector, payload)``."""
        from qdrant_client import models

        if not points:
            return
        self._call(
            f"write {len(points)} points to '{collection}'",
            "upsert",
            collection,
            points=[models.PointStruct(id=i, vector=v, payload=p) for i, v, p in points],
            wait=True,
        )

    def query(
        self,
        collection: str,
        query: str | Sequence[float],
        limit: int = 10,
        filters: Mapping[str, Any] | None = None,
        score_threshold: float | None = None,
    ) -> list[Document]:
        """The documents closest to ``query`` (a text, embedded, or a vector), best first."""
        points = self.search(collection, query, limit, build_filter(filters), score_threshold)
        return [_document(p) for p in points]

    def search(
        self,
        collection: str,
        query: str | Sequence[float],
        limit: int,
        conditions: list[Any],
        score_threshold: float | None = None,
    ) -> list[Any]:
        """Scored points for ``query`` under Qdrant ``conditions`` (all must hold)."""

        vector = self.embedder.embed([query])[0] if isinstance(query, str) else list(query)
        response = self._call(
            f"search '{collection}'",
            "query_points",
            collection,
            query=vector,
            limit=limit,
            query_filter=_must(conditions),
            score_threshold=score_threshold,
            with_payload=True,
        )
        return list(response.points)

    def get(
        self,
        collection: str,
        ids: Sequence[Any] | None = None,
        filters: Mapping[str, Any] | None = None,
        limit: int = 100,
    ) -> list[Document]:
        """Documents by id, or those matching ``filters``."""
        if ids is not None:
            found = self.retrieve(collection, [point_id(i) for i in ids])
        else:
            found = self.scroll(collection, build_filter(filters), limit)
        return [_document(p) for p in found]

    def retrieve(self, collection: str, ids: Sequence[str]) -> list[Any]:
        found = self._call(
            f"read '{collection}'", "retrieve", collection, ids=list(ids), with_payload=True
        )
        return list(found)

    def scroll(
        self, collection: str, conditions: list[Any], limit: int, order_by: str | None = None
    ) -> list[Any]:
        """Points matching ``conditions``, up to ``limit``, optionally ascending by a payload
        field."""
        from qdrant_client import models

        order = models.OrderBy(key=order_by, direction=models.Direction.ASC) if order_by else None
        points, _next = self._call(
            f"read '{collection}'",
            "scroll",
            collection,
            scroll_filter=_must(conditions),
            limit=limit,
            with_payload=True,
            order_by=order,
        )
        return list(points)

    def count(self, collection: str, conditions: list[Any] | None = None) -> int:
        result = self._call(
            f"count '{collection}'", "count", collection, count_filter=_must(conditions), exact=True
        )
        return int(result.count)

    def delete(
        self,
        collection: str,
        ids: Sequence[Any] | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> None:
        """Delete documents by id, or those matching ``filters`` (one of them is needed)."""
        if ids is None and not filters:
            raise LongTermMemoryError(
                "delete needs ids or filters; to empty a collection, delete_collection(name)"
            )
        if ids is not None:
            self.delete_points(collection, ids=[point_id(i) for i in ids])
        else:
            self.delete_points(collection, conditions=build_filter(filters))

    def delete_points(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        conditions: list[Any] | None = None,
    ) -> None:
        from qdrant_client import models

        selector: Any = (
            models.PointIdsList(points=list(ids))
            if ids is not None
            else models.FilterSelector(filter=models.Filter(must=conditions or []))
        )
        self._call(
            f"delete from '{collection}'", "delete", collection, points_selector=selector, wait=True
        )


def _must(conditions: list[Any] | None) -> Any:
    """A Qdrant filter requiring every condition, or ``None`` for none."""
    if not conditions:
        return None
    from qdrant_client import models

    return models.Filter(must=conditions)


def _document(point: Any) -> Document:
    payload = point.payload or {}
    return Document(
        id=str(point.id),
        text=payload.get(TEXT),
        metadata=dict(payload.get(METADATA) or {}),
        score=getattr(point, "score", None),
    )


def aligned(name: str, values: Sequence[Any] | None, size: int) -> list[Any]:
    """``values`` (one per item), or ``None`` for each item when not given."""
    if values is None:
        return [None] * size
    if isinstance(values, (str, bytes)) or len(values) != size:
        raise LongTermMemoryError(f"{name} must be a list with one entry per item ({size})")
    return list(values)
