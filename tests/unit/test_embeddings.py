"""Embedding models: the local HashingEmbedder, and the OpenAI-compatible client against a real
HTTP server on 127.0.0.1 (it answers with the built-in HashingEmbedder's vectors, so both must rank alike)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flink_agents_ctx import Agent, InputEvent, ResourceType, RunnerContext
from flink_agents_ctx.errors import ConfigError, EmbeddingError
from flink_agents_ctx.long_term.embedders import HashingEmbedder, OpenAICompatibleEmbedder
from flink_agents_ctx.testing import AgentTestHarness
from tests.support.json_server import JsonPostServer

CORPUS = json.loads((Path(__file__).parents[1] / "fixtures" / "ltm_corpus.json").read_text())


def embeddings_server() -> JsonPostServer:
    """An OpenAI-compatible /v1/embeddings endpoint on 127.0.0.1 (HashingEmbedder vectors)."""
    embedder = HashingEmbedder()

    def answer(path: str, body: dict[str, Any]) -> tuple[int, Any]:
        if path != "/v1/embeddings" or body.get("model") != "hash-384":
            return 404, {"error": {"message": f"model {body.get('model')!r} not found"}}
        vectors = embedder.embed(body["input"])
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        return 200, {"object": "list", "data": list(reversed(data)), "model": "hash-384"}

    return JsonPostServer(answer)


@pytest.fixture
def server() -> Iterator[JsonPostServer]:
    s = embeddings_server()
    yield s
    s.close()


def test_hashing_embedder_is_deterministic_normalised_and_refuses_non_text() -> None:
    e = HashingEmbedder(32)
    a, b = e.embed(["the same text", "the same text"])
    assert a == b and len(a) == 32
    assert abs(sum(x * x for x in a) - 1.0) < 1e-9
    with pytest.raises(EmbeddingError, match="text 1 is a int"):
        e.embed(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(ConfigError):
        HashingEmbedder(2)


def test_client_batches_keeps_order_and_sends_the_key(server: JsonPostServer) -> None:
    client = OpenAICompatibleEmbedder(server.url, "hash-384", api_key="secret", batch_size=3)
    texts = CORPUS["documents"][:7]
    assert client.embed(texts) == HashingEmbedder().embed(texts)
    assert client.dimension == 384
    assert [len(r["input"]) for r in server.requests] == [3, 3, 1]
    assert server.requests[0]["auth"] == "Bearer secret"


def test_long_term_memory_searches_alike_through_the_http_client(server: JsonPostServer) -> None:
    top: dict[str, list[str]] = {}

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        corpus = ctx.long_term_memory.get_memory_set("corpus")
        corpus.add(CORPUS["documents"])
        top[event.input] = [corpus.search(q["query"], limit=1)[0].value for q in CORPUS["queries"]]

    def run(model: str | None, resource: Any = None) -> None:
        agent = Agent().add_action("act", [InputEvent], act)
        cfg: dict[str, Any] = {
            "long-term-memory.backend": "qdrant",
            "long-term-memory.collection": f"http_{uuid.uuid4().hex[:10]}",
        }
        if model:
            agent.add_resource(model, ResourceType.EMBEDDING_MODEL, resource)
            cfg["long-term-memory.embedding-model"] = model
        AgentTestHarness(agent, cfg).run([("k", model or "local")])

    run("remote", lambda: OpenAICompatibleEmbedder(server.url, "hash-384"))
    run(None)  # the built-in HashingEmbedder
    assert top["remote"] == top["local"]
    expected = [CORPUS["documents"][q["expected"]] for q in CORPUS["queries"]]
    hits = sum(a == b for a, b in zip(top["remote"], expected, strict=True))
    assert hits / len(expected) >= 0.9


def test_server_errors_say_what_happened(server: JsonPostServer) -> None:
    with pytest.raises(EmbeddingError, match=r"answered HTTP 404: .*model 'nope' not found"):
        OpenAICompatibleEmbedder(server.url, "nope").embed(["x"])
    with pytest.raises(EmbeddingError, match="cannot reach the embeddings server"):
        OpenAICompatibleEmbedder("http://127.0.0.1:9/v1", "m", timeout_s=2).embed(["x"])
    with pytest.raises(ConfigError, match="not an http"):
        OpenAICompatibleEmbedder("127.0.0.1:9/v1", "m")
    with pytest.raises(EmbeddingError, match="expected 8"):
        OpenAICompatibleEmbedder(server.url, "hash-384", dimension=8).embed(["x"])
