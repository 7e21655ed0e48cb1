"""Embedding models: what turns memory texts into vectors (``ResourceType.EMBEDDING_MODEL``).

- :class:`HashingEmbedder`: the default. Local, deterministic, no download: words, word pairs and
  character trigrams hashed into a fixed number of dimensions. It matches texts that share words
  (not synonyms); good for tests and for keyword-like recall.
- :class:`OpenAICompatibleEmbedder`: any server speaking the OpenAI ``/v1/embeddings`` API
  (Ollama, vLLM, TEI, LocalAI, OpenAI itself), over HTTP with the standard library.
- :class:`SentenceTransformerEmbedder`: a sentence-transformers model (``pip install -c
  constraints.txt 'flink-agents-ctx[sentence-transformers]'``; see the README).

Declare one as a resource and name it in ``long-term-memory.embedding-model``, or use it directly
from an action with ``ctx.get_resource(name, ResourceType.EMBEDDING_MODEL)``.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from flink_agents_ctx.errors import ConfigError, EmbeddingError
from flink_agents_ctx.resources.http_json import endpoint_url, post_json


@runtime_checkable
class EmbeddingModel(Protocol):
    """Turns texts into vectors of :attr:`dimension` floats (the same text, the same vector)."""

    @property
    def dimension(self) -> int:
        """The length of every vector."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order.

        Raises:
            EmbeddingError: the texts could not be embedded (the message says why and what to do).
        """


_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was were "
    "will with".split()
)


class HashingEmbedder:
    """A deterministic local embedder (see the module docstring).

    Args:
        dimension: the vector length (default 384).
    """

    def __init__(self, dimension: int = 384) -> None:
        if not isinstance(dimension, int) or dimension < 8:
            raise ConfigError(
                f"HashingEmbedder: dimension is {dimension!r}; use an int of at least 8",
                key="dimension",
                value=dimension,
            )
        self._dimension = dimension

    @property
    def dimension(self) -> int:
        return self._dimension

    def _features(self, text: str) -> dict[str, tuple[float, int]]:
        """Each feature with its weight (words 1, word pairs 0.5, character trigrams 0.25) and
        how often it occurs."""
        lowered = text.lower()
        words = [w for w in _WORD.findall(lowered) if w not in _STOP] or _WORD.findall(lowered)
        found: dict[str, tuple[float, int]] = {}

        def count(feature: str, weight: float) -> None:
            seen = found.get(feature)
            found[feature] = (weight, 1 if seen is None else seen[1] + 1)

        for word in words:
            count("w:" + word, 1.0)
            padded = f"^{word}$"
            for i in range(len(padded) - 2):
                count("c:" + padded[i : i + 3], 0.25)
        for first, second in itertools.pairwise(words):
            count(f"p:{first} {second}", 0.5)
        return found

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self._dimension
        for feature, (weight, times) in self._features(text).items():
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            number = int.from_bytes(digest, "little")
            sign = 1.0 if number & 1 else -1.0
            # Sublinear in how often a feature occurs, never negative.
            vector[(number >> 1) % self._dimension] += sign * weight * (1.0 + math.log(times))
        norm = math.sqrt(sum(v * v for v in vector))
        if norm == 0.0:
            vector[0] = 1.0  # empty text: a fixed unit vector
            return vector
        return [v / norm for v in vector]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._vector(_text(t, i)) for i, t in enumerate(texts)]


def _text(value: Any, index: int) -> str:
    if not isinstance(value, str):
        raise EmbeddingError(
            f"text {index} is a {type(value).__name__}, and embedding models take str; pass "
            "str(value) or json.dumps(value)"
        )
    return value


class OpenAICompatibleEmbedder:
    """A client of an OpenAI-compatible embeddings endpoint.

    Args:
        base_url: the API root, such as ``http://127.0.0.1:11434/v1`` (Ollama) or
            ``https://api.openai.com/v1``; requests go to ``<base_url>/embeddings``.
        model: the model name the server knows.
        api_key: sent as a bearer token when given.
        dimension: the vector length, when known (else learnt from the first answer).
        timeout_s: per request.
        batch_size: texts per request.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        dimension: int | None = None,
        timeout_s: float = 30.0,
        batch_size: int = 64,
    ) -> None:
        self.url = endpoint_url(base_url, "embeddings", "OpenAICompatibleEmbedder")
        self.model = model
        self._api_key = api_key
        self._dimension = dimension
        self._timeout_s = timeout_s
        self._batch_size = max(1, batch_size)

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = len(self.embed(["dimension probe"])[0])
        return self._dimension

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        checked = [_text(t, i) for i, t in enumerate(texts)]
        out: list[list[float]] = []
        for start in range(0, len(checked), self._batch_size):
            out.extend(self._request(checked[start : start + self._batch_size]))
        return out

    def _request(self, batch: list[str]) -> list[list[float]]:
        answer = post_json(
            self.url,
            {"model": self.model, "input": batch},
            self._api_key,
            self._timeout_s,
            EmbeddingError,
            "the embeddings server",
            f"the model name ({self.model!r}) and the API key",
        )
        try:
            rows = sorted(answer["data"], key=lambda row: row.get("index", 0))
            vectors = [[float(x) for x in row["embedding"]] for row in rows]
        except (KeyError, TypeError, ValueError):
            raise EmbeddingError(
                f"the embeddings server at {self.url} answered without data[].embedding: "
                f"{str(answer)[:200]}"
            ) from None
        if len(vectors) != len(batch):
            raise EmbeddingError(
                f"the embeddings server at {self.url} answered {len(vectors)} vectors for "
                f"{len(batch)} texts"
            )
        if self._dimension is None and vectors:
            self._dimension = len(vectors[0])
        for vector in vectors:
            if len(vector) != self._dimension:
                raise EmbeddingError(
                    f"the embeddings server at {self.url} answered a vector of "
                    f"{len(vector)} floats, expected {self._dimension}"
                )
        return vectors


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use (from a local path or the package's
    cache: nothing is downloaded when the model is installed).

    Args:
        model: a model name or directory.
    """

    def __init__(self, model: str) -> None:
        self.model_name = model
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise EmbeddingError(
                    "sentence-transformers is not installed; pip install -c constraints.txt "
                    "'flink-agents-ctx[sentence-transformers]' (the constraints keep PyFlink's "
                    "cloudpickle)"
                ) from None
            self._model = SentenceTransformer(self.model_name)
        return self._model

    @property
    def dimension(self) -> int:
        return int(self._load().get_sentence_embedding_dimension())

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        checked = [_text(t, i) for i, t in enumerate(texts)]
        vectors = self._load().encode(checked, normalize_embeddings=True)
        return [[float(x) for x in row] for row in vectors]
