"""``MemoryObject``: the tree API over a flattened keyed map.

Layout in the map (one entry per node, keyed by dotted path; the root is the empty path)::

    ""        -> ("o", ("a", "tmp"))       object: its child names in insertion order
    "a"       -> ("o", ("b",))
    "a.b"     -> ("v", 42)                 value
    "tmp"     -> ("v", "x")

With a time-to-live on the map, entries expire one by one. The tree then stays consistent by
definition: a node exists only if every ancestor exists and lists it, and listings skip children that
expired. A parent that expired hides its whole subtree, and a later write starts it afresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from threading import get_ident
from typing import Any

from flink_agents_ctx.errors import MemoryPathError
from flink_agents_ctx.mailbox import Mailbox, current_durable_call
from flink_agents_ctx.memory.store import CachedMemoryStore
from flink_agents_ctx.types import MemoryRef, MemoryType
from flink_agents_ctx.values import copy_value, stable_copy

_VALUE = "v"
_OBJECT = "o"
_ROOT = ""

_REF_CACHE_SIZE = 4096
_SCALARS = (type(None), bool, int, float, str, bytes)
_CONTAINERS = (list, dict)

_NO_PATHS: dict[str, str] = {}  # what an object other than the root looks paths up in: nothing

NESTED_OBJECT = "NestedObject"
"""What :meth:`MemoryObject.get_fields` shows for a child that is itself an object."""


def _join(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix else path


def _split(path: str) -> tuple[str, str]:
    parent, _, name = path.rpartition(".")
    return parent, name


class MemoryTree:
    """One memory (sensory or short-term) of the current key.

    Owned by the operator; actions see it through :class:`MemoryObject` views.
    """

    __slots__ = ("_refs", "_root", "mailbox", "memory_type", "peers", "store", "validate_ancestors")

    def __init__(
        self,
        store: CachedMemoryStore,
        memory_type: MemoryType,
        mailbox: Mailbox,
        *,
        validate_ancestors: bool = False,
    ) -> None:
        self.store = store
        self.memory_type = memory_type
        self.mailbox = mailbox
        self.validate_ancestors = validate_ancestors
        self.peers: dict[MemoryType, MemoryTree] = {memory_type: self}
        self._root = MemoryObject(self, _ROOT)
        # Refs are immutable: one per path is enough (bounded, for paths made from data).
        self._refs: dict[str, MemoryRef] = {}

    def root(self) -> MemoryObject:
        return self._root

    # -- reads -------------------------------------------------------------------------------

    def node(self, path: str) -> Any:
        """The entry at ``path`` if it is reachable from the root, else ``None``."""
        if not self.validate_ancestors or path == _ROOT:
            return self.store.get(path)
        parent_path, name = _split(path)
        parent = self.node(parent_path)
        if parent is None or parent[0] != _OBJECT or name not in parent[1]:
            return None
        return self.store.get(path)

    def children(self, path: str, entry: Any) -> tuple[str, ...]:
        names: tuple[str, ...] = entry[1]
        if not self.validate_ancestors:
            return names
        return tuple(n for n in names if self.store.get(_join(path, n)) is not None)

    # -- writes ------------------------------------------------------------------------------

    def _parents_plan(self, path: str) -> list[tuple[str, Any]]:
        """Entries to write so that every ancestor of ``path`` exists and lists its child.

        Only reads; raises before anything is written when an ancestor is a value.
        """
        plan: list[tuple[str, Any]] = []
        parts = path.split(".")
        parent_path = _ROOT
        missing = False
        for name in parts:
            parent = None if missing else self.node(parent_path)
            if parent is None:
                missing = True
                plan.append((parent_path, (_OBJECT, (name,))))
            elif parent[0] != _OBJECT:
                raise MemoryPathError(
                    f"Field '{parent_path}' exists but is not an object.",
                    path=parent_path,
                    memory_type=self.memory_type.value,
                )
            elif name not in parent[1]:
                plan.append((parent_path, (_OBJECT, (*self.children(parent_path, parent), name))))
            parent_path = _join(parent_path, name)
        return plan

    def set(self, path: str, value: Any) -> MemoryRef:
        if type(value) not in _SCALARS:
            value = stable_copy(value, path, self.memory_type.value)
        store = self.store
        entry = self.node(path) if self.validate_ancestors else store.get(path)
        if entry is None:
            for p, e in self._parents_plan(path):
                store.put(p, e)
        elif entry[0] == _OBJECT:
            raise MemoryPathError(
                f"Cannot overwrite object with value: {path}",
                path=path,
                memory_type=self.memory_type.value,
            )
        if self.validate_ancestors:
            self._refresh_ancestors(path)
        store.put(path, (_VALUE, value))
        ref = self._refs.get(path)
        if ref is None:
            if len(self._refs) >= _REF_CACHE_SIZE:
                self._refs.clear()
            ref = self._refs[path] = MemoryRef(self.memory_type, path)
        return ref

    def new_object(self, path: str, overwrite: bool) -> MemoryObject:
        entry = self.node(path)
        if entry is not None and entry[0] != _OBJECT and not overwrite:
            raise MemoryPathError(
                f"Field '{path}' exists but is not an object.",
                path=path,
                memory_type=self.memory_type.value,
            )
        if entry is None:
            for p, e in self._parents_plan(path):
                self.store.put(p, e)
        self._refresh_ancestors(path)
        if entry is None or entry[0] != _OBJECT:
            self.store.put(path, (_OBJECT, ()))
        return MemoryObject(self, path)

    def _refresh_ancestors(self, path: str) -> None:
        """With a time-to-live, writing a node rewrites its ancestors too, so that a parent never
        expires before a child written after it (which would hide the fresh child)."""
        if not self.validate_ancestors:
            return
        parent = path
        while parent:
            parent, _ = _split(parent)
            entry = self.store.get(parent)
            if entry is not None:
                self.store.put(parent, entry)

    def delete(self, path: str) -> bool:
        entry = self.node(path)
        if entry is None:
            return False
        for p in self._subtree(path, entry):
            self.store.remove(p)
        parent_path, name = _split(path)
        parent = self.node(parent_path)
        self._refresh_ancestors(path)
        if parent is not None:
            kept = tuple(n for n in parent[1] if n != name)
            self.store.put(parent_path, (_OBJECT, kept))
        return True

    def _subtree(self, path: str, entry: Any) -> Iterator[str]:
        yield path
        if entry[0] == _OBJECT:
            for name in entry[1]:
                child = _join(path, name)
                child_entry = self.store.get(child)
                if child_entry is not None:
                    yield from self._subtree(child, child_entry)

    def to_dict(self) -> dict[str, Any]:
        """The whole tree as nested dicts (for inspection and tests)."""
        root = self.node(_ROOT)
        return {} if root is None else self._as_dict(_ROOT, root)

    def _as_dict(self, path: str, entry: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.children(path, entry):
            child_path = _join(path, name)
            child = self.store.get(child_path)
            if child is None:
                continue
            out[name] = self._as_dict(child_path, child) if child[0] == _OBJECT else child[1]
        return out


def _check_path(path: Any) -> str:
    if type(path) is str and path and path[0] != "." and path[-1] != "." and ".." not in path:
        return path
    if not isinstance(path, str) or not path or any(not part for part in path.split(".")):
        raise MemoryPathError(
            f"invalid memory path {path!r}: use non-empty names separated by single dots, "
            "e.g. 'user.profile.name'",
            path=str(path),
            memory_type="",
        )
    return path


class MemoryObject:
    """A node of agent memory: the root of sensory or short-term memory, or an object inside it.

    Paths are relative to this object and use dots: ``mem.set("user.name", "Ada")``.
    """

    __slots__ = ("_absolute", "_path", "_tree")

    def __init__(self, tree: MemoryTree, path: str) -> None:
        self._tree = tree
        self._path = path
        # The root (one per memory, long-lived) keeps the valid paths it has seen (bounded);
        # other objects are views made per access, for which a cache would not pay.
        self._absolute: dict[str, str] = {} if path == _ROOT else _NO_PATHS

    @property
    def path(self) -> str:
        """Absolute path of this object ("" for the root)."""
        return self._path

    @property
    def memory_type(self) -> MemoryType:
        return self._tree.memory_type

    # get and set are an action's most frequent calls: the common case (a relative path seen
    # before, on the mailbox thread) is one test and one lookup, everything else goes the
    # general way.

    def _absolute_path(self, path: Any) -> str:
        """The absolute path of relative ``path`` (raises MemoryPathError for an invalid one)."""
        if type(path) is str and path and path[0] != "." and path[-1] != "." and ".." not in path:
            if self._path:
                return f"{self._path}.{path}"
            known = self._absolute
            if len(known) >= _REF_CACHE_SIZE:
                known.clear()
            known[path] = path
            return path
        return _join(self._path, _check_path(path))  # raises

    def _resolve_ref(self, ref: MemoryRef) -> tuple[MemoryTree, str]:
        """The memory and absolute path a reference names (raises MemoryPathError)."""
        peer = self._tree.peers.get(ref.memory_type)
        if peer is None:
            raise MemoryPathError(
                f"{ref.memory_type.value} memory is not available in this context",
                path=ref.path,
                memory_type=ref.memory_type.value,
            )
        return peer, _check_path(ref.path)

    def get(self, path: str | MemoryRef) -> Any:
        """The value at ``path`` (or a ref), a :class:`MemoryObject` for an object, else ``None``."""
        tree = self._tree
        mailbox = tree.mailbox
        if get_ident() != mailbox.thread_id or current_durable_call() is not None:
            mailbox.check("memory get")
        absolute = self._absolute.get(path) if type(path) is str else None
        if absolute is None:
            if isinstance(path, MemoryRef):
                tree, absolute = self._resolve_ref(path)
            else:
                absolute = self._absolute_path(path)
        entry = tree.store.get(absolute) if not tree.validate_ancestors else tree.node(absolute)
        if entry is None:
            return None
        if entry[0] == _OBJECT:
            return MemoryObject(tree, absolute)
        # A copy: changing the returned list or dict must not change memory behind set()'s back.
        value = entry[1]
        return copy_value(value) if type(value) in _CONTAINERS else value

    def set(self, path: str, value: Any) -> MemoryRef:
        """Store ``value`` at ``path``, creating missing parent objects; returns its reference.

        Raises:
            MemoryValueError: the value is not checkpoint-stable (nothing is written).
            MemoryPathError: ``path`` or one of its parents is an object where a value should
                go, or a value where an object should go.
        """
        tree = self._tree
        mailbox = tree.mailbox
        if get_ident() != mailbox.thread_id or current_durable_call() is not None:
            mailbox.check("memory set")
        absolute = self._absolute.get(path) if type(path) is str else None
        return tree.set(absolute or self._absolute_path(path), value)

    def new_object(self, path: str, overwrite: bool = False) -> MemoryObject:
        """Create an object at ``path`` (an existing object is kept with its children).

        A value already at ``path`` is replaced only with ``overwrite=True``.
        """
        self._tree.mailbox.check("memory new_object")
        return self._tree.new_object(_join(self._path, _check_path(path)), overwrite)

    def delete(self, path: str) -> bool:
        """Remove ``path`` and everything below it; returns whether anything was there."""
        self._tree.mailbox.check("memory delete")
        return self._tree.delete(_join(self._path, _check_path(path)))

    def is_exist(self, path: str) -> bool:
        """Whether ``path`` holds a value or an object."""
        self._tree.mailbox.check("memory is_exist")
        return self._tree.node(_join(self._path, _check_path(path))) is not None

    def get_field_names(self) -> list[str]:
        """Names of the direct children, in the order they were first created."""
        self._tree.mailbox.check("memory get_field_names")
        entry = self._tree.node(self._path)
        if entry is None or entry[0] != _OBJECT:
            return []
        return list(self._tree.children(self._path, entry))

    def get_fields(self) -> dict[str, Any]:
        """Direct children: values as they are, nested objects as :data:`NESTED_OBJECT`."""
        self._tree.mailbox.check("memory get_fields")
        entry = self._tree.node(self._path)
        if entry is None or entry[0] != _OBJECT:
            return {}
        fields: dict[str, Any] = {}
        for name in self._tree.children(self._path, entry):
            child = self._tree.store.get(_join(self._path, name))
            if child is not None:
                fields[name] = NESTED_OBJECT if child[0] == _OBJECT else copy_value(child[1])
        return fields

    def __repr__(self) -> str:
        return f"MemoryObject({self._tree.memory_type.value}, path={self._path!r})"
