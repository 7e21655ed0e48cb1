"""MemoryObject semantics on an in-memory map state (the real memory code, a fake store)."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest

from flink_agents_ctx import (
    NESTED_OBJECT,
    MailboxThreadError,
    MemoryObject,
    MemoryPathError,
    MemoryRef,
    MemoryType,
    MemoryValueError,
)
from flink_agents_ctx.backends.protocols import StateTtl
from flink_agents_ctx.mailbox import Mailbox
from flink_agents_ctx.memory.memory_object import MemoryTree
from flink_agents_ctx.memory.store import CachedMemoryStore
from flink_agents_ctx.testing.fakes import InMemoryKeyedState


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_tree(
    memory_type: MemoryType = MemoryType.SHORT_TERM,
    ttl: StateTtl | None = None,
    clock: Clock | None = None,
) -> tuple[MemoryTree, InMemoryKeyedState]:
    state = InMemoryKeyedState(clock)
    state.set_current_key("k")
    mailbox = Mailbox()
    mailbox.enter()
    tree = MemoryTree(
        CachedMemoryStore(state.map_state("m", ttl)),
        memory_type,
        mailbox,
        validate_ancestors=ttl is not None,
    )
    return tree, state


def commit(tree: MemoryTree) -> None:
    """What the operator does: an action commits its writes, then the key's visit ends."""
    tree.store.flush_writes()
    tree.store.leave()


def test_deep_set_creates_the_tree() -> None:
    tree, _ = make_tree()
    mem = tree.root()
    ref = mem.set("a.b.c.d.e", 5)
    assert ref == MemoryRef(MemoryType.SHORT_TERM, "a.b.c.d.e")
    assert mem.get("a.b.c.d.e") == 5
    for path in ("a", "a.b", "a.b.c", "a.b.c.d"):
        assert isinstance(mem.get(path), MemoryObject)
        assert mem.is_exist(path)
    nested = mem.get("a.b")
    assert isinstance(nested, MemoryObject)
    assert nested.get("c.d.e") == 5
    assert tree.to_dict() == {"a": {"b": {"c": {"d": {"e": 5}}}}}


def test_values_survive_flush_to_state() -> None:
    tree, state = make_tree()
    tree.root().set("x", {"n": [1, 2.5, None, True, b"\x00"]})
    commit(tree)
    assert tree.root().get("x") == {"n": [1, 2.5, None, True, b"\x00"]}
    assert state.keys() == ["k"]


def test_overwrite_rules_use_the_reference_messages() -> None:
    tree, _ = make_tree()
    mem = tree.root()
    mem.set("obj.child", 1)
    with pytest.raises(MemoryPathError, match=r"^Cannot overwrite object with value: obj$"):
        mem.set("obj", 2)
    mem.set("val", 3)
    with pytest.raises(MemoryPathError, match=r"^Field 'val' exists but is not an object\.$"):
        mem.new_object("val")
    with pytest.raises(MemoryPathError, match=r"Field 'val' exists but is not an object"):
        mem.set("val.below", 1)
    assert mem.get("val") == 3
    replaced = mem.new_object("val", overwrite=True)
    assert replaced.get_field_names() == []
    assert isinstance(mem.get("val"), MemoryObject)


def test_new_object_keeps_an_existing_objects_children() -> None:
    tree, _ = make_tree()
    mem = tree.root()
    mem.set("o.a", 1)
    again = mem.new_object("o")
    assert again.get("a") == 1
    assert mem.new_object("o", overwrite=True).get("a") == 1


def test_field_names_keep_creation_order_and_fields_mark_objects() -> None:
    tree, _ = make_tree()
    mem = tree.root()
    for name in ("zeta", "alpha", "mid"):
        mem.set(name, name.upper())
    mem.set("nested.x", 1)
    mem.set("alpha", "again")
    assert mem.get_field_names() == ["zeta", "alpha", "mid", "nested"]
    assert mem.get_fields() == {
        "zeta": "ZETA",
        "alpha": "again",
        "mid": "MID",
        "nested": NESTED_OBJECT,
    }


def test_missing_paths_and_existence() -> None:
    tree, _ = make_tree()
    mem = tree.root()
    assert mem.get("nope") is None
    assert mem.get("a.b") is None
    assert not mem.is_exist("a")
    mem.set("a.b", None)
    assert mem.is_exist("a.b")
    assert mem.get("a.b") is None


def test_delete_removes_the_subtree() -> None:
    tree, state = make_tree()
    mem = tree.root()
    mem.set("a.b.c", 1)
    mem.set("a.d", 2)
    commit(tree)
    assert mem.delete("a.b")
    assert not mem.delete("a.b")
    commit(tree)
    assert tree.to_dict() == {"a": {"d": 2}}
    assert sorted(dict(state.map_state("m").items())) == ["", "a", "a.d"]


def test_object_views_are_relative() -> None:
    tree, _ = make_tree()
    user = tree.root().new_object("user")
    ref = user.set("name", "Ada")
    assert ref.path == "user.name"
    assert tree.root().get(ref) == "Ada"
    assert user.path == "user"


@pytest.mark.parametrize("memory_type", list(MemoryType))
def test_memory_ref_round_trips_through_json(memory_type: MemoryType) -> None:
    tree, _ = make_tree(memory_type)
    ref = tree.root().set("a.b", [1, 2])
    text = json.dumps({"ref": ref.to_dict()})
    back = MemoryRef.from_dict(json.loads(text)["ref"])
    assert back == ref
    assert MemoryRef.from_json(ref.to_json()) == ref
    assert tree.root().get(back) == [1, 2]


def test_ref_resolves_against_its_own_memory() -> None:
    sensory, state = make_tree(MemoryType.SENSORY)
    short = MemoryTree(
        CachedMemoryStore(state.map_state("stm")), MemoryType.SHORT_TERM, sensory.mailbox
    )
    for t in (sensory, short):
        t.peers.update({MemoryType.SENSORY: sensory, MemoryType.SHORT_TERM: short})
    ref = short.root().set("kept", "long")
    sensory.root().set("kept", "short")
    assert sensory.root().get(ref) == "long"


@pytest.mark.parametrize(
    ("value", "where", "fix"),
    [
        ({1, 2}, "'x'", "sorted(value)"),
        ((1, 2), "'x'", "list(value)"),
        (uuid.uuid4(), "'x'", "str(value)"),
        ({"a": [1, {"b": object()}]}, "'x'['a'][1]['b']", "type object"),
        ({1: "int key"}, "'x'", "str keys"),
    ],
)
def test_bad_value_is_rejected_with_path_and_fix_and_nothing_written(
    value: Any, where: str, fix: str
) -> None:
    tree, _ = make_tree()
    mem = tree.root()
    with pytest.raises(MemoryValueError) as err:
        mem.set("x", value)
    assert isinstance(err.value, TypeError)
    assert err.value.path == "x"
    assert f"memory path {where}" in str(err.value)
    assert fix in str(err.value)
    assert "Nothing was written" in str(err.value)
    assert not mem.is_exist("x")
    assert not tree.store.has_changes


@pytest.mark.parametrize("path", ["", "a..b", ".a", "a.", 3])
def test_malformed_paths_are_rejected(path: Any) -> None:
    tree, _ = make_tree()
    with pytest.raises(MemoryPathError, match="invalid memory path"):
        tree.root().set(path, 1)


def test_memory_from_another_thread_is_refused() -> None:
    tree, _ = make_tree()
    mem = tree.root()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            mem.set("x", 1)
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=worker, name="my-worker")
    t.start()
    t.join()
    assert len(errors) == 1
    err = errors[0]
    assert isinstance(err, MailboxThreadError)
    assert err.thread_name == "my-worker"
    assert "mailbox thread" in str(err)
    assert not mem.is_exist("x")


def ttl_tree() -> tuple[MemoryTree, Clock]:
    """A short-term tree with a 10 s time-to-live on a clock the test moves."""
    clock = Clock()
    tree, _ = make_tree(ttl=StateTtl(10_000), clock=clock)
    return tree, clock


def test_ttl_expiry_keeps_the_tree_consistent() -> None:
    tree, clock = ttl_tree()
    mem = tree.root()
    mem.set("a.b", 1)
    commit(tree)
    clock.now += 5
    mem.set("c", 2)  # rewrites the root's child list, refreshing the root only
    commit(tree)
    clock.now += 6  # "a" and "a.b" expired, the root and "c" did not
    assert mem.get_field_names() == ["c"]
    assert mem.get("a.b") is None
    assert not mem.is_exist("a")
    assert tree.to_dict() == {"c": 2}
    mem.set("a.x", 3)  # starts "a" afresh: the old child does not come back
    assert mem.get("a").get_field_names() == ["x"]


def test_ttl_parent_expired_hides_children_written_later() -> None:
    tree, clock = ttl_tree()
    mem = tree.root()
    mem.set("p.old", 1)
    commit(tree)
    clock.now += 8
    tree.store.put("p.orphan", ("v", 9))  # a child entry newer than its parent
    commit(tree)
    clock.now += 3  # root and "p" expired; "p.orphan" did not
    assert mem.get("p.orphan") is None
    assert tree.to_dict() == {}


def test_ttl_rewriting_a_child_keeps_its_parents_alive() -> None:
    tree, clock = ttl_tree()
    mem = tree.root()
    mem.set("a.b", 1)
    commit(tree)
    clock.now += 8
    mem.set("a.b", 2)  # an existing value: only ancestors need refreshing
    commit(tree)
    clock.now += 3  # 11 s after "a" was created, 3 s after "a.b" was rewritten
    assert mem.get("a.b") == 2
    assert tree.to_dict() == {"a": {"b": 2}}


def test_memory_keeps_its_own_copies() -> None:
    tree, _ = make_tree()
    mem = tree.root()
    mine = [1, {"a": [2]}]
    mem.set("l", mine)
    mine.append({1, 2})  # a set: never checked, must never reach state
    mine[1]["a"].append(3)
    assert mem.get("l") == [1, {"a": [2]}]
    got = mem.get("l")
    got.append("changed without set")
    commit(tree)
    assert mem.get("l") == [1, {"a": [2]}]
    assert mem.get_fields() == {"l": [1, {"a": [2]}]}


def test_the_last_write_of_a_path_wins_at_flush_whether_put_or_remove() -> None:
    state = InMemoryKeyedState()
    state.set_current_key("k")
    store = CachedMemoryStore(state.map_state("m"))
    store.put("a", ("v", 1))
    store.put("b", ("v", 2))
    store.put("c", ("v", 3))
    assert store.flush_writes() is True
    store.remove("a")
    store.put("a", ("v", 10))  # removed, then written again: written
    store.put("b", ("v", 20))
    store.remove("b")  # written, then removed: removed
    store.put("d", ("v", 4))
    assert store.flush_writes() is True
    assert store.flush_writes() is False  # nothing left to write
    store.discard()
    assert {p: store.get(p) for p in "abcd"} == {
        "a": ("v", 10),
        "b": None,
        "c": ("v", 3),
        "d": ("v", 4),
    }


def test_writes_taken_while_an_action_waits_come_back_with_their_removals() -> None:
    state = InMemoryKeyedState()
    state.set_current_key("k")
    store = CachedMemoryStore(state.map_state("m"))
    store.put("gone", ("v", 0))
    store.flush_writes()
    store.remove("gone")
    store.put("new", ("v", 1))
    taken = store.take_writes()
    assert taken == {"gone": None, "new": ("v", 1)}
    assert not store.has_changes
    assert store.get("gone") == ("v", 0)  # the cache shows state again meanwhile
    store.put_back(taken)
    assert store.flush_writes() is True
    store.discard()
    assert store.get("gone") is None
    assert store.get("new") == ("v", 1)


@pytest.mark.parametrize("path", ["a..b", ".a", "a.", ""])
def test_a_malformed_path_is_rejected_after_valid_ones_were_seen(path: str) -> None:
    tree, _ = make_tree()
    mem = tree.root()
    mem.set("a.b", 1)
    assert mem.get("a.b") == 1  # a path seen before resolves from the object's cache
    with pytest.raises(MemoryPathError):
        mem.set(path, 2)
    with pytest.raises(MemoryPathError):
        mem.get(path)
    assert mem.get("b") is None
    assert mem.get("a").get("b") == 1
