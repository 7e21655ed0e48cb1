"""Long-term memory in the harness, on embedded Qdrant (a real qdrant-client, ``:memory:``).

The embedded ``:memory:`` store is one per process, so each test uses a collection of its own.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flink_agents_ctx import (
    ActionExecutionError,
    Agent,
    InputEvent,
    OutputEvent,
    ResourceType,
    RunnerContext,
)
from flink_agents_ctx.errors import EmbeddingError, LongTermMemoryError, VectorStoreError
from flink_agents_ctx.long_term.embedders import HashingEmbedder
from flink_agents_ctx.long_term.vector_store import QdrantVectorStore, qdrant_client_for
from flink_agents_ctx.testing import AgentTestHarness
from flink_agents_ctx.testing.fakes import InMemoryActionStateStore

CORPUS = json.loads((Path(__file__).parents[1] / "fixtures" / "ltm_corpus.json").read_text())


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def config(**extra: Any) -> dict[str, Any]:
    return {
        "long-term-memory.backend": "qdrant",
        "long-term-memory.collection": f"test_{uuid.uuid4().hex[:12]}",
        **extra,
    }


def one_action(fn: Callable[[InputEvent, RunnerContext], Any]) -> Agent:
    return Agent().add_action("act", [InputEvent], fn)


def test_long_term_memory_is_off_unless_configured_and_says_how_to_turn_it_on() -> None:
    def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.long_term_memory.get_memory_set("notes")

    with pytest.raises(ActionExecutionError) as info:
        AgentTestHarness(one_action(act)).run([("k", 1)])
    assert isinstance(info.value.__cause__, LongTermMemoryError)
    assert "long-term-memory.backend" in str(info.value.__cause__)


def test_add_search_get_update_delete_count() -> None:
    clock = Clock()
    seen: dict[str, Any] = {}

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        notes = ctx.long_term_memory.get_memory_set("tickets")
        step = event.input
        if step == "add":
            seen["ids"] = notes.add(
                CORPUS["documents"][:5], metadatas=[{"severity": i} for i in range(5)]
            )
        elif step == "read":
            hits = notes.search("paper jam in tray 2 of the printer", limit=2)
            seen["top"] = hits[0]
            seen["filtered"] = notes.search("printer", limit=5, filters={"severity": {"gte": 3}})
            seen["got"] = notes.get(ids=[seen["ids"][1], "no-such-id"])
            seen["by_filter"] = notes.get(filters={"severity": {"any": [1, 2]}})
            seen["count"] = notes.count()
        elif step == "change":
            seen["updated"] = notes.update(seen["ids"][0], metadata={"severity": 9})
            notes.delete(ids=[seen["ids"][4]])
            seen["after"] = notes.count()

    h = AgentTestHarness(one_action(act), config(), clock=clock)
    h.send("k", "add")
    clock.now += 5
    h.send("k", "read")
    top = seen["top"]
    assert top.value == CORPUS["documents"][0]
    assert top.metadata == {"severity": 0}
    assert top.created_at == 1_700_000_000_000 and top.score is not None
    assert {i.metadata["severity"] for i in seen["filtered"]} <= {3, 4}
    assert [i.value for i in seen["got"]] == [CORPUS["documents"][1]]
    assert [i.metadata["severity"] for i in seen["by_filter"]] == [1, 2]
    assert seen["count"] == 5
    h.send("k", "change")
    assert seen["updated"].metadata == {"severity": 9}
    assert seen["updated"].updated_at == 1_700_000_005_000
    assert seen["updated"].created_at == 1_700_000_000_000
    assert seen["after"] == 4
    assert h.metric("action", "act", "long_term_memory", "addCount") == 1
    assert h.metric("action", "act", "long_term_memory", "searchCount") == 2


def test_keys_with_colliding_hashes_and_jobs_sharing_a_store_never_see_each_others_items() -> None:
    assert hash(-1) == hash(-2)  # CPython; and "Aa" / "BB" share a Java hashCode
    counts: dict[Any, Any] = {}

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        key, text = event.input
        notes = ctx.long_term_memory.get_memory_set("notes")
        notes.add([text, f"{text} from {key}"])
        counts[(ctx.config.get_raw("job-identifier"), key)] = (
            notes.count(),
            sorted(i.value for i in notes.get()),
            [i.value for i in notes.search(text, limit=10)],
        )

    shared = config()
    for job in ("job-a", "job-b"):
        h = AgentTestHarness(one_action(act), {**shared, "job-identifier": job})
        h.run([(k, (k, "same text")) for k in (-1, -2, "Aa", "BB")])
    for job in ("job-a", "job-b"):
        for key in (-1, -2, "Aa", "BB"):
            count, values, found = counts[(job, key)]
            assert count == 2
            assert values == sorted(["same text", f"same text from {key}"])
            assert sorted(found) == values


def test_search_finds_the_closest_item_of_the_corpus() -> None:
    results: list[bool] = []

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        corpus = ctx.long_term_memory.get_memory_set("corpus")
        corpus.add(CORPUS["documents"])
        for q in CORPUS["queries"]:
            best = corpus.search(q["query"], limit=1)[0]
            results.append(best.value == CORPUS["documents"][q["expected"]])

    AgentTestHarness(one_action(act), config()).run([("k", 1)])
    precision = sum(results) / len(results)
    assert precision >= 0.9, precision  # measured 1.00 (20 of 20) with the HashingEmbedder


def test_a_replayed_action_leaves_each_memory_once() -> None:
    attempts: list[int] = []

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        notes = ctx.long_term_memory.get_memory_set("notes")
        notes.add(["first fact", "second fact"], metadatas=[{"n": 1}, {"n": 2}])
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("crash after writing long-term memory")
        ctx.send_event(OutputEvent(output=sorted(i.value for i in notes.get())))

    cfg = config()
    h = AgentTestHarness(one_action(act), cfg)
    checkpoint = h.snapshot()
    with pytest.raises(ActionExecutionError):
        h.send("k", 1)
    restored = AgentTestHarness.restore(one_action(act), checkpoint, cfg)
    assert restored.run([("k", 1)]) == [["first fact", "second fact"]]


def test_capacity_evicts_the_oldest_items() -> None:
    clock = Clock()
    kept: list[list[str]] = []

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        notes = ctx.long_term_memory.get_memory_set("notes")
        notes.add([f"fact number {event.input}"])
        kept.append([i.value for i in notes.get()])

    h = AgentTestHarness(one_action(act), config(**{"long-term-memory.capacity": 3}), clock=clock)
    for n in range(5):
        clock.now += 1
        h.send("k", n)
    assert kept[-1] == ["fact number 2", "fact number 3", "fact number 4"]


def test_compaction_summarises_once_and_keeps_the_actions_calls_in_step_when_replayed() -> None:
    clock = Clock()
    summaries: list[list[str]] = []
    llm_calls: list[int] = []
    attempts: list[int] = []

    def summarise(texts: list[str]) -> str:
        summaries.append(texts)
        return "summary: " + "; ".join(texts)

    def llm(n: int) -> str:
        llm_calls.append(n)
        return f"answer {n}"

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        notes = ctx.long_term_memory.get_memory_set("notes", summariser=summarise)
        notes.add([f"fact {event.input}"])
        answer = ctx.durable_execute(llm, event.input)
        if event.input == 3:
            attempts.append(1)
            if len(attempts) == 1:
                raise RuntimeError("crash after the compaction and the call")
        ctx.send_event(OutputEvent(output=(answer, [i.value for i in notes.get()])))

    cfg = config(
        **{
            "long-term-memory.capacity": 3,
            "long-term-memory.capacity-policy": "compact",
            "long-term-memory.compact-count": 2,
            "durable-execution.mismatch-mode": "strict",
            "job-identifier": "compact-test",
        }
    )
    store = InMemoryActionStateStore()
    h = AgentTestHarness(one_action(act), cfg, clock=clock, store=store)
    for n in range(3):
        clock.now += 1
        h.send("k", n)
    checkpoint = h.snapshot()
    clock.now += 1
    with pytest.raises(ActionExecutionError):
        h.send("k", 3)
    assert summaries == [["fact 0", "fact 1"]]
    restored = AgentTestHarness.restore(one_action(act), checkpoint, cfg, clock=clock, store=store)
    [(answer, items)] = restored.run([("k", 3)])
    # The replay does not compact again (the set is within capacity), so the summary is not
    # made twice, and the action's own call still matches its record (strict mode).
    assert summaries == [["fact 0", "fact 1"]]
    assert answer == "answer 3" and llm_calls == [0, 1, 2, 3]
    assert items == ["fact 2", "fact 3", "summary: fact 0; fact 1"]


def test_a_compaction_interrupted_after_its_summary_is_finished_not_redone() -> None:
    clock = Clock()
    summaries: list[list[str]] = []
    memory_sets: list[Any] = []

    def summarise(texts: list[str]) -> str:
        summaries.append(texts)
        return "summary of " + str(len(texts))

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        notes = ctx.long_term_memory.get_memory_set("notes", summariser=summarise)
        memory_sets.append(notes)
        notes.add([f"fact {event.input}"])

    cfg = config(
        **{
            "long-term-memory.capacity": 3,
            "long-term-memory.capacity-policy": "compact",
            "long-term-memory.compact-count": 2,
        }
    )
    h = AgentTestHarness(one_action(act), cfg, clock=clock)
    for n in range(4):
        clock.now += 1
        h.send("k", n)
    assert summaries == [["fact 0", "fact 1"]]
    # As if that compaction had stopped after storing its summary: the two originals are back
    # (same ids and times), and the next add finds the set over capacity again.
    notes = memory_sets[-1]
    now = clock.now
    for n, at in ((0, 1_700_000_001.0), (1, 1_700_000_002.0)):
        clock.now = at
        notes._write([f"fact {n}"], None, None)
    clock.now = now
    notes._enforce_capacity()
    assert summaries == [["fact 0", "fact 1"]]  # finished, not summarised again
    assert sorted(i.value for i in notes.get()) == ["fact 2", "fact 3", "summary of 2"]


def test_compaction_without_a_summariser_is_a_clear_error() -> None:
    def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.long_term_memory.get_memory_set("notes").add(["a", "b"])

    cfg = config(**{"long-term-memory.capacity": 1, "long-term-memory.capacity-policy": "compact"})
    with pytest.raises(ActionExecutionError, match="got no summariser"):
        AgentTestHarness(one_action(act), cfg).run([("k", 1)])


def test_expired_items_are_never_returned_and_the_sweep_deletes_them() -> None:
    clock = Clock()
    seen: list[Any] = []
    cfg = config(**{"long-term-memory.ttl.ms": 1000, "long-term-memory.sweep-interval.ms": 500})

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        notes = ctx.long_term_memory.get_memory_set("notes")
        if event.input == "add":
            notes.add(["short lived fact"])
        seen.append((notes.count(), len(notes.search("fact")), len(notes.get())))

    h = AgentTestHarness(one_action(act), cfg, clock=clock)
    h.send("k", "add")
    clock.now += 2
    h.send("k", "look")  # expired: not returned; the sweep after this input deletes it
    assert seen == [(1, 1, 1), (0, 0, 0)]
    client = qdrant_client_for(":memory:")
    assert client.count(cfg["long-term-memory.collection"]).count == 0


def test_a_set_handle_works_inside_an_async_durable_call() -> None:
    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        notes = ctx.long_term_memory.get_memory_set("notes")

        def on_worker(text: str) -> int:
            assert threading.current_thread() is not threading.main_thread()
            notes.add([text])
            return notes.count()

        count = await ctx.durable_execute_async(on_worker, f"fact of {event.input}")
        ctx.send_event(OutputEvent(output=(count, [i.value for i in notes.get()])))

    h = AgentTestHarness(one_action(act), config())
    assert sorted(h.run([("a", 1), ("b", 2)])) == [(1, ["fact of 1"]), (1, ["fact of 2"])]
    assert h.metric("action", "act", "long_term_memory", "addCount") == 2


def test_bad_input_is_refused_and_nothing_is_written() -> None:
    problems: list[str] = []

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        notes = ctx.long_term_memory.get_memory_set("notes")
        for attempt in (
            lambda: notes.add([{"not": "text"}]),  # type: ignore[list-item]
            lambda: notes.add("one text"),
            lambda: notes.search("x", filters={"price": 9.5}),
            lambda: notes.search("x", filters={"price": {"about": 9}}),
            lambda: notes.get(filters={"tags": {"any": [1.5]}}),
            lambda: notes.update("missing", value="x"),
            lambda: notes.delete(),
        ):
            try:
                attempt()
            except LongTermMemoryError as e:
                problems.append(str(e))
        problems.append(f"count={notes.count()}")

    AgentTestHarness(one_action(act), config()).run([("k", 1)])
    assert problems[-1] == "count=0"
    assert "long-term memory stores texts" in problems[0]
    assert "wrap one text in a list" in problems[1]
    assert "a float value" in problems[2]
    assert "unknown operator 'about'" in problems[3]
    assert "'any' takes a list of str or int" in problems[4]
    assert "no item with id 'missing'" in problems[5]
    assert "needs ids or filters" in problems[6]
    assert len(problems) == 8


def test_a_collection_of_another_vector_size_is_a_clear_error() -> None:
    cfg = config()
    QdrantVectorStore(":memory:", HashingEmbedder(16)).create_collection(
        cfg["long-term-memory.collection"]
    )

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.long_term_memory.get_memory_set("notes")

    with pytest.raises(ActionExecutionError) as info:
        AgentTestHarness(one_action(act), cfg).run([("k", 1)])
    cause = info.value.__cause__
    assert isinstance(cause, VectorStoreError)
    assert "holds vectors of 16 floats and the embedding model makes 384" in str(cause)


def test_the_embedding_model_resource_is_used_and_its_failures_are_clear() -> None:
    from flink_agents_ctx.long_term.embedders import OpenAICompatibleEmbedder

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.long_term_memory.get_memory_set("notes").add(["x"])

    agent = one_action(act).add_resource(
        "unreachable",
        ResourceType.EMBEDDING_MODEL,
        lambda: OpenAICompatibleEmbedder("http://127.0.0.1:9/v1", "m", dimension=8, timeout_s=2),
    )
    cfg = config(**{"long-term-memory.embedding-model": "unreachable"})
    with pytest.raises(ActionExecutionError) as info:
        AgentTestHarness(agent, cfg).run([("k", 1)])
    assert isinstance(info.value.__cause__, EmbeddingError)
    assert "cannot reach the embeddings server at http://127.0.0.1:9/v1/embeddings" in str(
        info.value.__cause__
    )


def test_an_unreachable_qdrant_server_is_a_clear_error() -> None:
    def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.long_term_memory.get_memory_set("notes")

    cfg = config(**{"long-term-memory.qdrant.location": "http://127.0.0.1:9"})
    with pytest.raises(ActionExecutionError) as info:
        AgentTestHarness(one_action(act), cfg).run([("k", 1)])
    cause = info.value.__cause__
    assert isinstance(cause, VectorStoreError)
    assert "Qdrant at 'http://127.0.0.1:9' could not create collection" in str(cause)


def test_the_vector_store_resource_serves_actions_directly() -> None:
    collection = f"docs_{uuid.uuid4().hex[:8]}"
    seen: dict[str, Any] = {}

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        store = ctx.get_resource("docs", ResourceType.VECTOR_STORE)
        store.create_collection(collection)
        ids = store.add(
            collection,
            CORPUS["documents"][:4],
            [{"team": "it"}, {"team": "billing"}, {"team": "it"}, {"team": "logistics"}],
            ids=["printer", "refund", "vpn", "shipping"],
        )
        seen["ids"] = ids
        seen["hits"] = store.query(collection, "vpn disconnects", limit=2, filters={"team": "it"})
        seen["got"] = store.get(collection, ids=["refund"])
        store.delete(collection, filters={"team": "it"})
        seen["left"] = sorted(d.metadata["team"] for d in store.get(collection))
        store.delete_collection(collection)

    agent = one_action(act).add_resource(
        "docs", ResourceType.VECTOR_STORE, lambda: QdrantVectorStore(":memory:")
    )
    AgentTestHarness(agent).run([("k", 1)])
    assert seen["hits"][0].text == CORPUS["documents"][2]
    assert {d.metadata["team"] for d in seen["hits"]} == {"it"}
    assert [d.text for d in seen["got"]] == [CORPUS["documents"][1]]
    assert seen["left"] == ["billing", "logistics"]
    assert not qdrant_client_for(":memory:").collection_exists(collection)
