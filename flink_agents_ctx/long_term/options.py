"""Long-term memory's configuration options (registered in the configuration table)."""

from __future__ import annotations

from flink_agents_ctx.config import ConfigOption, register_options


def _location_problem(location: str) -> str | None:
    if not location:
        return "give ':memory:', a local directory or an http(s):// server URL"
    return None


LTM_BACKEND: ConfigOption[str] = ConfigOption(
    "long-term-memory.backend",
    str,
    None,
    "Long-term memory's vector store: 'qdrant'. Unset: no long-term memory "
    "(ctx.long_term_memory raises and says to set this).",
    choices=("qdrant",),
)
LTM_QDRANT_LOCATION: ConfigOption[str] = ConfigOption(
    "long-term-memory.qdrant.location",
    str,
    ":memory:",
    "Where Qdrant keeps long-term memory: ':memory:' (embedded, gone with the process), a local "
    "directory (embedded, persistent; one process may open it at a time) or a server URL "
    "(http://host:6333).",
    check=_location_problem,
)
LTM_QDRANT_API_KEY: ConfigOption[str] = ConfigOption(
    "long-term-memory.qdrant.api-key",
    str,
    None,
    "API key of a Qdrant server (not used by the embedded modes).",
    shown=lambda raw: "***",
)
LTM_COLLECTION: ConfigOption[str] = ConfigOption(
    "long-term-memory.collection",
    str,
    "flink_agents_memory",
    "The Qdrant collection long-term memory uses; every job, key and memory set is kept apart "
    "inside it by payload fields.",
)
LTM_EMBEDDING_MODEL: ConfigOption[str] = ConfigOption(
    "long-term-memory.embedding-model",
    str,
    None,
    "Name of an EMBEDDING_MODEL resource of the agent that turns memory texts into vectors. "
    "Unset: the built-in local HashingEmbedder (no download, deterministic).",
)
LTM_TTL_MS: ConfigOption[int] = ConfigOption(
    "long-term-memory.ttl.ms",
    int,
    None,
    "Items expire this long after they were last written: expired items are never returned, and "
    "a periodic sweep deletes them. Unset: items do not expire.",
    minimum=1,
)
LTM_CAPACITY: ConfigOption[int] = ConfigOption(
    "long-term-memory.capacity",
    int,
    None,
    "Most items a memory set keeps; an add beyond it applies long-term-memory.capacity-policy. "
    "Unset: no limit.",
    minimum=1,
)
LTM_CAPACITY_POLICY: ConfigOption[str] = ConfigOption(
    "long-term-memory.capacity-policy",
    str,
    "evict-oldest",
    "What an add beyond the capacity does: 'evict-oldest' deletes the oldest items; 'compact' "
    "replaces the oldest long-term-memory.compact-count items by one summary from the "
    "summariser given to get_memory_set (stored under an id derived from the items it "
    "replaces: a replay does not summarise them again).",
    choices=("evict-oldest", "compact"),
)
LTM_COMPACT_COUNT: ConfigOption[int] = ConfigOption(
    "long-term-memory.compact-count",
    int,
    10,
    "How many of the oldest items one compaction summarises.",
    minimum=2,
)
LTM_SWEEP_INTERVAL_MS: ConfigOption[int] = ConfigOption(
    "long-term-memory.sweep-interval.ms",
    int,
    60_000,
    "How often an operator deletes expired long-term memory items (with long-term-memory.ttl.ms).",
    minimum=1,
)

register_options(
    LTM_BACKEND,
    LTM_QDRANT_LOCATION,
    LTM_QDRANT_API_KEY,
    LTM_COLLECTION,
    LTM_EMBEDDING_MODEL,
    LTM_TTL_MS,
    LTM_CAPACITY,
    LTM_CAPACITY_POLICY,
    LTM_COMPACT_COUNT,
    LTM_SWEEP_INTERVAL_MS,
)
