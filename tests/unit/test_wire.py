"""The wire format of the Java bridge, against the cases the Java tests read too."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from flink_agents_ctx import wire
from flink_agents_ctx.errors import EventSerializationError, WireFormatError
from flink_agents_ctx.events import Event, OutputEvent
from flink_agents_ctx.types import MemoryRef, MemoryType

CASES = json.loads((Path(__file__).parents[1] / "wire" / "cases-v1.json").read_text())

# The Python value of each case (the Java test has its own).
EXPECTED: dict[str, Any] = {
    "null": None,
    "true": True,
    "int": 42,
    "negative_int": -7,
    "long_max": 2**63 - 1,
    "big_int": 2**70,
    "float": 1.5,
    "string": 'héllo "q"\n\t€😀',
    "empty_string": "",
    "bytes": b"\x00\x01\xfe\xff",
    "nan": math.nan,
    "infinity": math.inf,
    "minus_infinity": -math.inf,
    "list": [1, "a", None, [True]],
    "map": {"a": 1, "b": {"c": [1.25]}},
    "dollar_keys": {"$bytes": "x", "$$y": 2},
    "empty_map": {},
    "memory_ref": MemoryRef(MemoryType.SHORT_TERM, "user.name"),
    "memory_object": wire.MemoryObjectPath(MemoryType.SENSORY, "a.b"),
}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b) and type(a) is type(b)


def test_the_version_is_the_cases_version() -> None:
    assert CASES["version"] == wire.WIRE_VERSION


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_case_decodes_and_encodes(case: dict[str, Any]) -> None:
    expected = EXPECTED[case["name"]]
    assert _same(wire.decode(case["wire"]), expected)
    if case["canonical"]:
        assert wire.encode(expected) == case["wire"]


def test_every_case_has_a_python_value() -> None:
    assert {c["name"] for c in CASES["cases"]} == set(EXPECTED)


def test_event_case_decodes_to_the_registered_class() -> None:
    types = wire.EventTypes([])
    text = CASES["events"][0]["wire"]
    event = wire.decode_event(text, types)
    assert isinstance(event, OutputEvent)
    assert event.id == "e-1"
    assert event.source_timestamp == 1_700_000_000_000
    assert event.output == {"n": 1, "b": b"\x01\x02"}
    assert wire.encode_event(event) == text


class Scored(Event):
    score: int


class Other:
    class Scored(Event):
        score: int


def test_event_types_resolve_plain_names_only_when_unambiguous() -> None:
    types = wire.EventTypes([Scored])
    assert types.resolve("Scored") is Scored
    assert types.resolve(Scored.type_name()) is Scored
    assert types.resolve("OutputEvent") is OutputEvent
    both = wire.EventTypes([Scored, Other.Scored])
    assert both.resolve(Other.Scored.type_name()) is Other.Scored
    with pytest.raises(WireFormatError, match="use the full name"):
        both.resolve("Scored")
    with pytest.raises(WireFormatError, match="is not an event class of the agent"):
        types.resolve("Missing")


def test_event_with_wrong_fields_names_both_sets() -> None:
    text = '{"type":"Scored","id":"x","source_timestamp":null,"fields":{"points":1}}'
    with pytest.raises(WireFormatError, match=r"fields \['points'\].*takes \['score'\]"):
        wire.decode_event(text, wire.EventTypes([Scored]))


def test_value_without_wire_form_names_where() -> None:
    with pytest.raises(WireFormatError, match=r"value\['a'\]\[1\] has type object"):
        wire.encode({"a": [1, object()]})
    with pytest.raises(WireFormatError, match="str keys"):
        wire.encode({1: "x"})


def test_event_that_cannot_cross_is_an_event_serialization_error() -> None:
    with pytest.raises(EventSerializationError, match="cannot cross to Java"):
        wire.encode_event(OutputEvent(output={1, 2}))


def test_tuples_cross_as_lists_and_unknown_tags_are_refused() -> None:
    assert wire.decode(wire.encode((1, (2, 3)))) == [1, [2, 3]]
    with pytest.raises(WireFormatError, match=r"unknown wire tag \$set"):
        wire.decode('{"$set":[1]}')
    with pytest.raises(WireFormatError, match="not wire text"):
        wire.decode("[1,")


def test_answers() -> None:
    assert wire.parse_answer(wire.ok([1])) == (True, "[1]")
    assert wire.parse_answer("") == (True, "null")
    good, body = wire.parse_answer(wire.failure("MemoryPathError", "bad"))
    assert not good
    assert body == {"type": "MemoryPathError", "message": "bad"}
