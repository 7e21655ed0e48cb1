"""``CachedMemoryStore``: a write cache over one keyed map state, flushed when an action finishes.

Reads go to the cache first and fill it from state; writes stay in the cache until
:meth:`persist_cache`. An action that raises therefore leaves state untouched (:meth:`discard`), and
an action that finishes writes each changed entry once, however often it wrote it.
"""

from __future__ import annotations

from typing import Any

from flink_agents_ctx.backends.protocols import MapStore

_MISSING: Any = object()


class CachedMemoryStore:
    """Entries by flattened path over a keyed :class:`MapStore`."""

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

    def contains(self, path: str) -> bool:
        return self.get(path) is not None

    def put(self, path: str, entry: Any) -> None:
        self._cache[path] = entry
        self._dirty.add(path)

    def remove(self, path: str) -> None:
        self._cache[path] = None
        self._dirty.add(path)

    @property
    def has_changes(self) -> bool:
        return bool(self._dirty)

    def persist_cache(self) -> None:
        """Write every changed entry to state and empty the cache."""
        if self._dirty:
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
        self._cache.clear()

    def detach(self) -> tuple[dict[str, Any], set[str]]:
        """Take the cache out (an action suspends; other keys run meanwhile)."""
        stash = (self._cache, self._dirty)
        self._cache, self._dirty = {}, set()
        return stash

    def attach(self, stash: tuple[dict[str, Any], set[str]]) -> None:
        """Put back a cache taken by :meth:`detach` (the action resumes, its key is current)."""
        self._cache, self._dirty = stash

    def discard(self) -> None:
        """Forget every cached read and unflushed write."""
        self._cache.clear()
        self._dirty.clear()

    def clear(self) -> None:
        """Remove every entry of the current key, in state and cache."""
        self.discard()
        self._state.clear()
