"""``CachedMemoryStore``: a cache over one keyed map state, with writes held until an action commits.

Reads go to the cache first and fill it from state. Writes stay in the cache until the action that
made them commits (:meth:`flush_writes`); an action that raises leaves state untouched
(:meth:`discard`), and an action that finishes writes each changed entry once, however often it
wrote it. Reads stay cached while the operator works on one key, so the next action of the same
run reads what the previous one wrote without going to state again; the operator empties the cache
(:meth:`forget_reads`) before it turns to another key. An action that suspends takes its unflushed
writes out (:meth:`take_writes`) and puts them back when it resumes.
"""

from __future__ import annotations

from typing import Any

from flink_agents_ctx.backends.protocols import MapStore

_MISSING: Any = object()


class CachedMemoryStore:
    """Entries by flattened path over a keyed :class:`MapStore` (see the module docstring)."""

    __slots__ = ("_cache", "_dirty", "_state")

    def __init__(self, state: MapStore) -> None:
        self._state = state
        self._cache: dict[str, Any] = {}
        self._dirty: set[str] = set()

    def get(self, path: str) -> Any:
        """The entry at ``path`` or ``None``."""
        entry = self._cache.get(path, _MISSING)
        if entry is _MISSING:
            entry = self._state.get(path)
            self._cache[path] = entry
        return entry

    def put(self, path: str, entry: Any) -> None:
        self._cache[path] = entry
        self._dirty.add(path)

    def remove(self, path: str) -> None:
        self._cache[path] = None
        self._dirty.add(path)

    @property
    def has_changes(self) -> bool:
        return bool(self._dirty)

    def flush_writes(self) -> None:
        """Write every changed entry to state; cached reads stay."""
        if not self._dirty:
            return
        cache, state = self._cache, self._state
        puts = {}
        for path in self._dirty:
            entry = cache[path]
            if entry is None:
                state.remove(path)
            else:
                puts[path] = entry
        if len(puts) == 1:
            state.put(*puts.popitem())
        elif puts:
            state.put_all(puts)  # one call into the state backend for the lot
        self._dirty.clear()

    def forget_reads(self) -> None:
        """Empty the cache (the operator turns to another key). There must be no unflushed
        write: those belong to an action, which commits, aborts or takes them first."""
        self._cache.clear()

    def take_writes(self) -> dict[str, Any]:
        """Take the unflushed writes out and empty the cache (an action suspends; other keys run
        meanwhile)."""
        writes = {path: self._cache[path] for path in self._dirty}
        self._cache.clear()
        self._dirty.clear()
        return writes

    def put_back(self, writes: dict[str, Any]) -> None:
        """Put back writes taken by :meth:`take_writes` (the action resumes; its key is current)."""
        self._cache.update(writes)
        self._dirty.update(writes)

    def discard(self) -> None:
        """Forget every cached read and unflushed write."""
        self._cache.clear()
        self._dirty.clear()

    def clear(self) -> None:
        """Remove every entry of the current key, in state and cache."""
        self.discard()
        self._state.clear()
