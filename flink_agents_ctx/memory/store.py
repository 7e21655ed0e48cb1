"""``CachedMemoryStore``: a cache over one keyed map state, with writes held until an action commits.

Reads go to the cache first and fill it from state. Writes stay in the cache until the action that
made them commits (:meth:`flush_writes`); an action that raises leaves state untouched
(:meth:`discard`), and an action that finishes writes each changed entry once, however often it
wrote it. The operator tells the store which key it works on (:meth:`enter`, :meth:`leave`):
reads stay cached while it works on one key, so the next action of the same run reads what the
previous one wrote without going to state again. An action that suspends takes its unflushed
writes out (:meth:`take_writes`) and puts them back when it resumes.

With ``keep_keys`` the cached reads of the most recently used keys are also kept between
callbacks (at most that many keys, least recently used dropped first): an entry in the cache is
always what state holds, because only this operator instance writes its keys' state and it writes
through this cache. That does not hold with a state time-to-live (entries expire in state, and
reads refresh them), so memories with a TTL keep nothing between callbacks.

Once the operator can write before every checkpoint barrier, a store that keeps keys hands its
committed writes to a :class:`~flink_agents_ctx.memory.write_behind.WriteBehind` instead of state
(:meth:`defer`). What it holds for a key then stands in for state in the key's cache: a cache
built again for the key (after it was dropped, or discarded by an action that raised) starts from
the held entries.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from flink_agents_ctx.backends.protocols import KeySwitch, MapStore
from flink_agents_ctx.memory.write_behind import WriteBehind, write_entries

_MISSING: Any = object()


class CachedMemoryStore:
    """Entries by flattened path over a keyed :class:`MapStore` (see the module docstring)."""

    __slots__ = ("_behind", "_cache", "_keep", "_kept", "_key", "_removed", "_state", "_writes")

    def __init__(self, state: MapStore, keep_keys: int = 0) -> None:
        self._state = state
        self._cache: dict[str, Any] = {}
        # Unflushed writes (also in the cache), and which of them are removals (entry None):
        # kept apart so that a flush without removals hands the writes to state as they are
        # (tracking removals costs less than looking for them in every flush: measured).
        self._writes: dict[str, Any] = {}
        self._removed: set[str] = set()
        self._keep = keep_keys
        self._kept: OrderedDict[Hashable, dict[str, Any]] = OrderedDict()
        self._key: Hashable = None
        self._behind: WriteBehind | None = None

    @property
    def keeps_keys(self) -> bool:
        """Whether reads are kept between callbacks (only then does :meth:`enter` do anything)."""
        return bool(self._keep)

    def defer(self, switch: KeySwitch) -> WriteBehind:
        """From now on, hold committed writes back (at most as many keys as are kept) until the
        returned object writes them out. Only a store that keeps keys can: its caches are what
        make held writes visible to later reads."""
        if not self._keep:
            raise ValueError("only a store that keeps keys between callbacks can defer writes")
        if self._behind is None:
            self._behind = WriteBehind(self._state, switch, self._keep)
        return self._behind

    def enter(self, key: Hashable) -> None:
        """The operator turns to ``key`` (its state is current): reads kept for it serve again.
        A store that keeps no keys needs no call (see :attr:`keeps_keys`)."""
        if self._keep:
            kept = self._kept.pop(key, None)
            if kept is not None:
                self._cache = kept
            elif self._behind is not None:
                held = self._behind.held(key)
                if held is not None:
                    self._cache = dict(held)
        self._key = key

    def leave(self) -> None:
        """The operator is done with the current key: keep its reads (with ``keep_keys``) or drop
        them. Unflushed writes belong to an action, which commits, aborts or takes them first;
        should any be left, nothing of the key is kept."""
        cache = self._cache
        if not cache:  # nothing read or written (every unflushed write is in the cache too)
            return
        if self._keep and not self._writes:
            kept = self._kept
            kept[self._key] = cache
            if len(kept) > self._keep:
                kept.popitem(last=False)
            self._cache = {}
        else:
            cache.clear()
            self._writes.clear()
            self._removed.clear()

    def get(self, path: str) -> Any:
        """The entry at ``path`` or ``None``."""
        entry = self._cache.get(path, _MISSING)
        if entry is _MISSING:
            entry = self._state.get(path)
            self._cache[path] = entry
        return entry

    def put(self, path: str, entry: Any) -> None:
        self._cache[path] = self._writes[path] = entry
        if self._removed:
            self._removed.discard(path)

    def remove(self, path: str) -> None:
        self._cache[path] = self._writes[path] = None
        self._removed.add(path)

    @property
    def has_changes(self) -> bool:
        return bool(self._writes)

    def flush_writes(self) -> bool:
        """Write every changed entry to state; cached reads stay. Returns whether there were any."""
        writes = self._writes
        if not writes:
            return False
        self._writes = {}  # handed over below
        if self._behind is not None:
            self._behind.hold(self._key, writes)
        else:
            write_entries(self._state, writes, self._removed)
        self._removed.clear()
        return True

    def take_writes(self) -> dict[str, Any]:
        """Take the unflushed writes out of the cache (an action suspends; other keys run
        meanwhile); the cached reads stay."""
        cache, writes = self._cache, self._writes
        for path in writes:
            del cache[path]
        held = self._held()
        if held:
            cache.update((path, held[path]) for path in writes if path in held)
        self._writes = {}
        self._removed.clear()
        return writes

    def put_back(self, writes: dict[str, Any]) -> None:
        """Put back writes taken by :meth:`take_writes` (the action resumes; its key is current)."""
        self._cache.update(writes)
        self._writes.update(writes)
        self._removed.update(path for path, entry in writes.items() if entry is None)

    def discard(self) -> None:
        """Forget every cached read and unflushed write of the current key (committed writes
        held back stay)."""
        self._cache.clear()
        self._writes.clear()
        self._removed.clear()
        held = self._held()
        if held:
            self._cache.update(held)

    def _held(self) -> dict[str, Any] | None:
        behind = self._behind
        return None if behind is None else behind.held(self._key)

    def clear(self) -> None:
        """Remove every entry of the current key, in state and cache."""
        if self._behind is not None:
            self._behind.drop(self._key)
        self.discard()
        self._state.clear()
