"""Chat models: what an action asks to classify, summarise or draft (``ResourceType.CHAT_MODEL``).

- :class:`RuleBasedChatModel`: local and offline. Answers with the first rule whose pattern
  matches the last user message, so a job runs (and is tested) without a model server.
- :class:`OpenAICompatibleChatModel`: any server speaking the OpenAI ``/v1/chat/completions`` API
  (Ollama, vLLM, LocalAI, OpenAI itself), over HTTP with the standard library.

Declare one as a resource and call it inside a durable call, so a recovered job does not ask the
model again for an answer it already had::

    agent.add_resource("triage_model", ResourceType.CHAT_MODEL, lambda: RuleBasedChatModel(...))
    model = ctx.get_resource("triage_model", ResourceType.CHAT_MODEL)
    answer = ctx.durable_execute(model.chat, [{"role": "user", "content": text}])
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from flink_agents_ctx.errors import ChatModelError, ConfigError
from flink_agents_ctx.resources.http_json import endpoint_url, post_json

Message = Mapping[str, str]


@runtime_checkable
class ChatModel(Protocol):
    """Answers a conversation (``[{"role": "system"|"user"|"assistant", "content": ...}]``)."""

    def chat(self, messages: Sequence[Message]) -> str: ...


def _last_user_text(messages: Sequence[Message]) -> str:
    for message in reversed(messages):
        if not isinstance(message, Mapping) or "content" not in message:
            raise ChatModelError(
                f"a chat message must be a mapping with 'role' and 'content', got {message!r}"
            )
        if message.get("role", "user") == "user":
            return str(message["content"])
    raise ChatModelError("the conversation has no user message to answer")


class RuleBasedChatModel:
    """Answers by rules: ``(pattern, answer)`` pairs tried in order against the last user message
    (case-insensitive regular expressions); ``answer`` may use the match's groups (``\\1``,
    ``\\g<name>``). With no match the answer is ``default``.
    """

    def __init__(self, rules: Sequence[tuple[str, str]], default: str) -> None:
        compiled = []
        for pattern, answer in rules:
            try:
                compiled.append((re.compile(pattern, re.IGNORECASE), answer))
            except re.error as e:
                raise ConfigError(
                    f"RuleBasedChatModel: pattern {pattern!r} is not a regular expression ({e})",
                    key="rules",
                    value=pattern,
                ) from None
        self._rules = tuple(compiled)
        self._default = default

    def chat(self, messages: Sequence[Message]) -> str:
        text = _last_user_text(messages)
        for pattern, answer in self._rules:
            match = pattern.search(text)
            if match is not None:
                return match.expand(answer)
        return self._default


class OpenAICompatibleChatModel:
    """A client of an OpenAI-compatible chat completions endpoint.

    Args:
        base_url: the API root, such as ``http://127.0.0.1:11434/v1`` (Ollama) or
            ``https://api.openai.com/v1``; requests go to ``<base_url>/chat/completions``.
        model: the model name the server knows.
        api_key: sent as a bearer token when given.
        temperature: sampling temperature (0 keeps answers as repeatable as the server allows).
        max_tokens: a cap on the answer's length, if given.
        timeout_s: per request.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.url = endpoint_url(base_url, "chat/completions", "OpenAICompatibleChatModel")
        self.model = model
        self._api_key = api_key
        self._temperature = temperature
        self._max_tokens = max_tokens
        self._timeout_s = timeout_s

    def chat(self, messages: Sequence[Message]) -> str:
        _last_user_text(messages)  # checks the shape before anything is sent
        payload: dict[str, object] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "temperature": self._temperature,
        }
        if self._max_tokens is not None:
            payload["max_tokens"] = self._max_tokens
        answer = post_json(
            self.url,
            payload,
            self._api_key,
            self._timeout_s,
            ChatModelError,
            "the chat model server",
            f"the model name ({self.model!r}) and the API key",
        )
        try:
            content = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise ChatModelError(
                f"the chat model server at {self.url} answered without "
                f"choices[0].message.content: {str(answer)[:200]}"
            ) from None
        if not isinstance(content, str):
            raise ChatModelError(
                f"the chat model server at {self.url} answered content of type "
                f"{type(content).__name__}, not text"
            )
        return content
