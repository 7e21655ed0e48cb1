"""Call identity and journal codecs: stable across processes, exact round trips."""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flink_agents_ctx import JournalEncodingError, NonCanonicalArgumentError
from flink_agents_ctx.durable.codec import JsonCodec
from flink_agents_ctx.durable.identity import argument_digest, function_id
from flink_agents_ctx.durable.records import CallRecord
from flink_agents_ctx.testing import AgentTestHarness
from tests.support.durable_agents import CALLS, TwoCallsAgent

ROOT = Path(__file__).resolve().parents[2]
ARGS_SOURCE = "({'b', 'a', 'c', 'longer string'}, {'z': 1.5, 'y': [0.1, float('inf')]}, 2**70)"


def test_digest_is_equal_across_python_processes() -> None:
    code = (
        "from flink_agents_ctx.durable.identity import argument_digest\n"
        f"print(argument_digest({ARGS_SOURCE}, {{'k': frozenset({{3, 1, 2}})}}))"
    )
    digests = set()
    for seed in ("1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1
    assert digests == {argument_digest(eval(ARGS_SOURCE), {"k": frozenset({3, 1, 2})})}


def test_digest_tells_types_and_keyword_names_apart() -> None:
    assert argument_digest((1,), {}) != argument_digest((1.0,), {})
    assert argument_digest(([1],), {}) != argument_digest(((1,),), {})
    assert argument_digest((), {"a": 1}) != argument_digest((), {"b": 1})
    assert argument_digest((), {"a": 1, "b": 2}) == argument_digest((), {"b": 2, "a": 1})


def test_arguments_without_canonical_encoding_are_refused_with_the_path() -> None:
    with pytest.raises(NonCanonicalArgumentError) as err:
        argument_digest(({"client": object()},), {})
    assert err.value.path == "args[0]['client']"
    assert "call_id" in str(err.value)


class _Client:
    def fetch(self) -> None: ...


class _Other:
    def fetch(self) -> None: ...


def test_function_ids_do_not_collide_for_lambdas_and_bound_methods() -> None:
    first, second = (lambda: 1), (lambda: 2)
    assert function_id(first) != function_id(second)
    assert function_id(_Client().fetch) != function_id(_Other().fetch)
    assert function_id(_Client().fetch) == function_id(_Client().fetch)
    assert function_id(functools.partial(max, 1)).startswith("partial(")


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass(frozen=True)
class Reply:
    text: str
    tokens: int
    tags: tuple[str, ...]


def test_json_codec_round_trips_exactly() -> None:
    value = {
        "bytes": b"\x00\xff",
        "big": 2**100,
        "floats": [0.1, -0.0, float("inf")],
        "nested": {(1, 2): {"set": {1, 2}, "frozen": frozenset({"a"})}},
        "reply": Reply("hi", 3, ("x",)),
        "color": Color.RED,
        "none": None,
    }
    codec = JsonCodec()
    back = codec.decode(codec.encode(value))
    assert back == value
    assert type(back["bytes"]) is bytes and type(back["reply"]) is Reply
    assert type(back["nested"][(1, 2)]["frozen"]) is frozenset
    assert math.isnan(codec.decode(codec.encode(float("nan"))))


def test_json_codec_refuses_what_it_cannot_rebuild() -> None:
    with pytest.raises(JournalEncodingError) as err:
        JsonCodec().encode({"handle": object()})
    assert err.value.path == "result['handle']"


# -- compatibility with journals already in checkpoints ----------------------------------------

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "journal_v1.json"


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        return base64.b64decode(value["b64"])
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    return value


def test_journal_written_by_version_1_still_replays() -> None:
    fixture = json.loads(FIXTURE.read_text())
    records = [CallRecord.from_state(_decode(raw)) for raw in fixture["records"]]
    h = AgentTestHarness(TwoCallsAgent())
    made_before = CALLS["plus_hundred"] + CALLS["double"]
    assert h.replay("k", 7, records) == [214]
    assert CALLS["plus_hundred"] + CALLS["double"] == made_before  # answered from the journal
    assert h.durable_replays == 2


def test_argument_digests_did_not_change_since_version_1() -> None:
    pinned = json.loads(FIXTURE.read_text())["digests"]
    values = {"set": {3, 1, 2}, "dict": {"b": 1.5, "a": [1, 2]}, "float": 0.1, "big": 2**80}
    assert {name: argument_digest((v,), {}) for name, v in values.items()} == pinned


def test_key_digests_of_equal_keys_of_different_types_differ() -> None:
    import hashlib

    from flink_agents_ctx.durable.execution_ref import ExecutionRef
    from flink_agents_ctx.durable.identity import canonical_bytes, key_digest

    def own(key: object) -> str:
        return hashlib.sha256(canonical_bytes(key)).hexdigest()

    # Seen first, 1 and (1, "a") must not lend their digests to True and (1.0, "a").
    assert key_digest(1) == own(1)
    assert key_digest(True) == own(True) != own(1)
    assert ExecutionRef("j", (1, "a"), 0, "d", "act", 0).key_digest == own((1, "a"))
    assert ExecutionRef("j", (1.0, "a"), 0, "d", "act", 0).key_digest == own((1.0, "a"))
