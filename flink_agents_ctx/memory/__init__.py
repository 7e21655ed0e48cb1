"""Agent memory: a tree of values flattened into keyed map state.

- ``values``: what may be stored (checkpoint-stable values) and the check with its fix-it message.
- ``store``: ``CachedMemoryStore``, a per-action write cache over a keyed ``MapStore``.
- ``updates``: the typed update log (set / new object / delete) of one action execution.
- ``memory_object``: ``MemoryObject``, the tree API actions use.
"""
