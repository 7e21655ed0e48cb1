"""Long-term memory: searchable by meaning, kept in a vector store (Qdrant), isolated per job, key
and memory set. See :mod:`flink_agents_ctx.long_term.memory`."""
