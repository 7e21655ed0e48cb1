"""Chat models: the offline rule-based one, and the OpenAI-compatible client against a real HTTP
server on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from flink_agents_ctx.errors import ChatModelError, ConfigError
from flink_agents_ctx.resources.chat_models import (
    ChatModel,
    OpenAICompatibleChatModel,
    RuleBasedChatModel,
)
from tests.support.json_server import JsonPostServer


def chat_server() -> JsonPostServer:
    """Answers ``/v1/chat/completions`` with the last user message upper-cased; the model name
    picks a misbehaviour ("fail": HTTP 500, "text": not JSON, "empty": no choices)."""

    def answer(path: str, body: dict[str, Any]) -> tuple[int, Any]:
        model = body["model"]
        if model == "fail":
            return 500, {"error": "model overloaded"}
        if model == "text":
            return 200, b"<html>not json</html>"
        if model == "empty":
            return 200, {"choices": []}
        text = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
        return 200, {"choices": [{"message": {"role": "assistant", "content": text.upper()}}]}

    return JsonPostServer(answer)


@pytest.fixture
def server() -> Iterator[JsonPostServer]:
    s = chat_server()
    yield s
    s.close()


def test_rule_based_model_answers_by_the_first_matching_rule_with_its_groups() -> None:
    model = RuleBasedChatModel(
        [(r"refund of (?P<amount>\d+)", r"billing: refund \g<amount>"), (r"invoice", "billing")],
        default="general",
    )
    assert isinstance(model, ChatModel)
    ask = [{"role": "system", "content": "classify"}, {"role": "user", "content": "REFUND of 30"}]
    assert model.chat(ask) == "billing: refund 30"
    assert model.chat([{"role": "user", "content": "where is my invoice"}]) == "billing"
    assert model.chat([{"role": "user", "content": "hello"}]) == "general"


def test_rule_based_model_rejects_bad_patterns_and_conversations() -> None:
    with pytest.raises(ConfigError, match="not a regular expression"):
        RuleBasedChatModel([("(unclosed", "x")], default="y")
    model = RuleBasedChatModel([], default="y")
    with pytest.raises(ChatModelError, match="no user message"):
        model.chat([{"role": "system", "content": "only a system prompt"}])
    with pytest.raises(ChatModelError, match="'role' and 'content'"):
        model.chat(["just a string"])  # type: ignore[list-item]


def test_openai_compatible_model_talks_to_a_real_server(server: JsonPostServer) -> None:
    model = OpenAICompatibleChatModel(server.url, "echo", api_key="secret", max_tokens=20)
    messages = [{"role": "system", "content": "be loud"}, {"role": "user", "content": "hello"}]
    assert model.chat(messages) == "HELLO"
    sent = server.requests[-1]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["auth"] == "Bearer secret"
    assert sent["messages"] == messages
    assert (sent["temperature"], sent["max_tokens"]) == (0.0, 20)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("fail", "answered HTTP 500: .*model overloaded.*check the model name"),
        ("text", "did not answer with JSON"),
        ("empty", r"without choices\[0\].message.content"),
    ],
)
def test_openai_compatible_model_failures_are_typed(
    server: JsonPostServer, model: str, message: str
) -> None:
    with pytest.raises(ChatModelError, match=message):
        OpenAICompatibleChatModel(server.url, model).chat([{"role": "user", "content": "x"}])


def test_openai_compatible_model_unreachable_and_bad_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ChatModelError, match="cannot reach the chat model server"):
        OpenAICompatibleChatModel(f"http://127.0.0.1:{port}/v1", "m", timeout_s=2).chat(
            [{"role": "user", "content": "x"}]
        )
    with pytest.raises(ConfigError, match="not an http"):
        OpenAICompatibleChatModel("127.0.0.1:8000", "m")


def test_a_conversation_without_a_json_form_is_a_typed_error(server: JsonPostServer) -> None:
    model = OpenAICompatibleChatModel(server.url, "echo")
    with pytest.raises(ChatModelError, match="has no JSON form"):
        model.chat([{"role": "user", "content": object()}])  # type: ignore[dict-item]
    assert server.requests == []
