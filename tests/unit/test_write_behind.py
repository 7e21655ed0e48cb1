"""Short-term memory writes held back until a checkpoint barrier (``WriteBehind``), on in-memory state.

What must hold: reads always see the committed writes (also once the key's cache is gone, after an
action that raised, and while a parked action's own writes are set aside), state gets every held
entry of every key at the barrier and not before, and the state a snapshot holds is the same as
when every action writes through.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from flink_agents_ctx import Agent, InputEvent, OutputEvent, RunnerContext
from flink_agents_ctx.mailbox import Mailbox
from flink_agents_ctx.memory.memory_object import MemoryTree
from flink_agents_ctx.memory.store import CachedMemoryStore
from flink_agents_ctx.operator import barrier
from flink_agents_ctx.testing import AgentTestHarness
from flink_agents_ctx.testing.fakes import InMemoryKeyedState
from flink_agents_ctx.types import MemoryType


def _memory(keep_keys: int = 16) -> tuple[InMemoryKeyedState, CachedMemoryStore, MemoryTree]:
    state = InMemoryKeyedState()
    store = CachedMemoryStore(state.map_state("stm"), keep_keys)
    mailbox = Mailbox()
    mailbox.thread_id = threading.get_ident()
    return state, store, MemoryTree(store, MemoryType.SHORT_TERM, mailbox)


def _in_state(state: InMemoryKeyedState, key: Any) -> dict[str, Any]:
    home = state.current_key
    state.set_current_key(key)
    try:
        return dict(state.map_state("stm").items())
    finally:
        state.set_current_key(home)


def _commit(state: InMemoryKeyedState, store: CachedMemoryStore, key: Any, **values: Any) -> None:
    """One action of ``key`` sets ``values`` and commits (the operator's enter/flush/leave)."""
    state.set_current_key(key)
    store.enter(key)
    root = MemoryTree(store, MemoryType.SHORT_TERM, _mailbox()).root()
    for path, value in values.items():
        root.set(path, value)
    store.flush_writes()
    store.leave()


def _mailbox() -> Mailbox:
    mailbox = Mailbox()
    mailbox.thread_id = threading.get_ident()
    return mailbox


def _read(store: CachedMemoryStore, state: InMemoryKeyedState, key: Any, path: str) -> Any:
    state.set_current_key(key)
    store.enter(key)
    try:
        return MemoryTree(store, MemoryType.SHORT_TERM, _mailbox()).root().get(path)
    finally:
        store.leave()


def test_committed_writes_reach_state_only_at_the_barrier_and_for_their_own_keys() -> None:
    state, store, _ = _memory()
    behind = store.defer(state)
    _commit(state, store, "a", n=1)
    _commit(state, store, "b", n=2, m="x")
    _commit(state, store, "a", n=3)
    assert _in_state(state, "a") == {} and _in_state(state, "b") == {}
    assert _read(store, state, "a", "n") == 3
    state.set_current_key("c")
    assert behind.write_out() == 2
    assert state.current_key == "c"  # back on the key it was on
    assert _in_state(state, "a") == {"": ("o", ("n",)), "n": ("v", 3)}
    assert _in_state(state, "b") == {"": ("o", ("n", "m")), "n": ("v", 2), "m": ("v", "x")}
    assert behind.write_out() == 0  # nothing held twice


def test_a_key_whose_cache_was_dropped_reads_its_held_writes_not_state() -> None:
    state, store, _ = _memory(keep_keys=2)
    store.defer(state)
    _commit(state, store, "a", n=1)
    _read(store, state, "b", "n")
    _read(store, state, "c", "n")  # the cache keeps two keys: "a"'s is dropped
    assert _in_state(state, "a") == {}
    assert _read(store, state, "a", "n") == 1


def test_more_keys_than_the_cache_holds_are_written_out_at_once() -> None:
    state, store, _ = _memory(keep_keys=2)
    behind = store.defer(state)
    _commit(state, store, "a", n=1)
    _commit(state, store, "b", n=2)
    assert behind.keys_written == 0
    _commit(state, store, "c", n=3)  # a third key held: all three go to state now
    assert behind.keys_written == 3
    assert [_in_state(state, k).get("n") for k in "abc"] == [("v", 1), ("v", 2), ("v", 3)]
    assert state.current_key == "c"


def test_an_action_that_raises_keeps_the_earlier_committed_writes_of_its_key() -> None:
    state, store, tree = _memory()
    behind = store.defer(state)
    _commit(state, store, "a", n=1, keep="yes")
    state.set_current_key("a")
    store.enter("a")
    tree.root().set("n", 99)  # this action raises: the operator discards its writes
    store.discard()
    assert tree.root().get("n") == 1 and tree.root().get("keep") == "yes"
    store.leave()
    behind.write_out()
    assert _in_state(state, "a")["n"] == ("v", 1)


def test_a_parked_actions_writes_step_aside_for_the_held_values() -> None:
    state, store, tree = _memory()
    store.defer(state)
    _commit(state, store, "a", n=1)
    state.set_current_key("a")
    store.enter("a")
    tree.root().set("n", 2)
    taken = store.take_writes()  # the action parks: its own write is set aside
    assert tree.root().get("n") == 1
    store.put_back(taken)
    assert tree.root().get("n") == 2


def test_removals_are_held_and_written_out_as_removals() -> None:
    state, store, tree = _memory()
    behind = store.defer(state)
    _commit(state, store, "a", gone=1, stays=2)
    behind.write_out()
    state.set_current_key("a")
    store.enter("a")
    tree.root().delete("gone")
    store.flush_writes()
    store.leave()
    assert "gone" in _in_state(state, "a")
    assert _read(store, state, "a", "gone") is None
    behind.write_out()
    assert _in_state(state, "a") == {"": ("o", ("stays",)), "stays": ("v", 2)}


def test_only_a_store_that_keeps_keys_can_hold_writes_back() -> None:
    state, store, _ = _memory(keep_keys=0)
    with pytest.raises(ValueError, match="keeps keys"):
        store.defer(state)


def counter(event: InputEvent, ctx: RunnerContext) -> None:
    memory = ctx.short_term_memory
    n = (memory.get("n") or 0) + 1
    memory.set("n", n)
    memory.set(f"seen.{event.input}", True)
    ctx.send_event(OutputEvent(output=n))


def _run(write_behind: bool) -> tuple[list[Any], AgentTestHarness]:
    h = AgentTestHarness(
        Agent().add_action("count", [InputEvent], counter),
        {"short-term-memory.write-behind": write_behind, "short-term-memory.cache-keys": 3},
    )
    return h.run([(i % 7, i) for i in range(60)]), h


def test_the_operator_snapshots_the_same_state_with_writes_held_back_or_not() -> None:
    outputs, held = _run(True)
    direct_outputs, direct = _run(False)
    assert outputs == direct_outputs
    assert held.snapshot().state == direct.snapshot().state
    # and a restored operator goes on from it
    again = AgentTestHarness.restore(
        Agent().add_action("count", [InputEvent], counter), held.snapshot()
    )
    assert again.run([(0, 100)]) == [10]


class _Hook:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def attach(self) -> None:
        self.calls.append("attach")

    def before_snapshot(self) -> None:
        self.calls.append("barrier")


def test_the_operator_claims_what_its_function_offered_on_the_same_thread() -> None:
    hook, other = _Hook(), _Hook()
    barrier.offer(hook)
    assert barrier.claim("op-1") is True
    assert barrier.claim("op-2") is False  # nothing else offered on this thread
    barrier.before_snapshot("op-1")
    barrier.before_snapshot("op-2")
    thread = threading.Thread(target=barrier.offer, args=(other,))
    thread.start()
    thread.join()
    assert barrier.claim("op-3") is False  # offered on another thread
    barrier.release("op-1")
    barrier.before_snapshot("op-1")  # released: nothing happens
    assert hook.calls == ["attach", "barrier"]
    assert other.calls == []
