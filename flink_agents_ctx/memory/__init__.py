"""Agent memory: a tree of values flattened into keyed map state.

- ``store``: ``CachedMemoryStore``, a read and write cache over a keyed ``MapStore``.
- ``write_behind``: ``WriteBehind``, committed writes of cached keys held until the next
  checkpoint barrier, then written key by key.
- ``memory_object``: ``MemoryTree`` (one memory of the current key) and ``MemoryObject``, the tree
  API actions use.

What values memory accepts is one of the two policies of :mod:`flink_agents_ctx.values`.
"""
