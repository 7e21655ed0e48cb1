"""Valid values: what agent memory keeps and what events carry, checked by one walker.

Two policies, side by side (a value is valid when every part of it is)::

    part                    memory (checkpoint-stable)      event fields (JSON form)
    None, bool, int, str    yes (exact types)               yes
    float                   yes (also NaN, infinities)      finite only
    bytes                   yes                             yes (base64 in the JSON form)
    list                    yes                             yes
    tuple                   no: store list(value)           yes (a list in the JSON form)
    dict                    str keys                        str keys
    Event, MemoryRef        no                              yes (nested)
    anything else           no, with a conversion hint      no

Memory values are pickled into Flink state and must come back equal in another Python process
after a restore, so only exact built-in types pass (an ``IntEnum`` would pickle by its class).
Event fields must have a JSON form so that events can be stored and cross to actions written in
other languages; ``bytes`` read from memory can be sent as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flink_agents_ctx.errors import MemoryValueError
from flink_agents_ctx.types import MemoryRef

MAX_DEPTH = 100


@dataclass(frozen=True)
class ValuePolicy:
    """Which parts a value may be built from (see the module docstring)."""

    name: str
    exact_scalars: bool
    finite_floats: bool
    tuples: bool
    nested_events: bool


MEMORY = ValuePolicy(
    "memory", exact_scalars=True, finite_floats=False, tuples=False, nested_events=False
)
EVENT_FIELD = ValuePolicy(
    "event field", exact_scalars=False, finite_floats=True, tuples=True, nested_events=True
)

_SCALARS = (type(None), bool, int, str, bytes)

_MEMORY_FIXES: dict[str, str] = {
    "tuple": "store list(value)",
    "set": "store sorted(value) (a list)",
    "frozenset": "store sorted(value) (a list)",
    "bytearray": "store bytes(value)",
    "datetime": "store value.isoformat()",
    "date": "store value.isoformat()",
    "time": "store value.isoformat()",
    "UUID": "store str(value)",
    "Decimal": "store str(value)",
    "Path": "store str(value)",
    "PosixPath": "store str(value)",
}


@dataclass(frozen=True)
class Problem:
    """The first invalid part of a value: where it is (``""``, ``[2]``, ``['a']``...) and why."""

    where: str
    reason: str


def _is_event(value: Any) -> bool:
    # events.Event sets this marker; importing the class here would be an import cycle.
    return bool(getattr(type(value), "_is_agent_event", False))


def find_problem(value: Any, policy: ValuePolicy) -> Problem | None:
    """The first part of ``value`` that ``policy`` does not allow, or ``None``."""
    return _walk(value, policy, "", 0)


def _walk(value: Any, policy: ValuePolicy, where: str, depth: int) -> Problem | None:
    kind = type(value)
    if kind in _SCALARS:
        return None
    if depth > MAX_DEPTH:
        return Problem(where, f"is nested more than {MAX_DEPTH} levels deep")
    if kind is float:
        if policy.finite_floats and not math.isfinite(value):
            return Problem(where, f"is {value!r}, which JSON cannot carry")
        return None
    if kind is list or (policy.tuples and isinstance(value, (list, tuple))):
        for i, item in enumerate(value):
            found = _walk(item, policy, f"{where}[{i}]", depth + 1)
            if found is not None:
                return found
        return None
    if kind is dict or (not policy.exact_scalars and isinstance(value, dict)):
        for key, item in value.items():
            if type(key) is not str:
                return Problem(
                    where, f"has a dict key {key!r} of type {type(key).__name__}; use str keys"
                )
            found = _walk(item, policy, f"{where}[{key!r}]", depth + 1)
            if found is not None:
                return found
        return None
    if not policy.exact_scalars and isinstance(value, (bool, int, str, bytes, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return Problem(where, f"is {value!r}, which JSON cannot carry")
        return None
    if policy.nested_events and (isinstance(value, MemoryRef) or _is_event(value)):
        return None
    return Problem(where, f"has type {kind.__name__}")


def stable_copy(value: Any, path: str, memory_type: str) -> Any:
    """A private copy of ``value`` for memory; raise :class:`MemoryValueError` unless the
    :data:`MEMORY` policy allows it.

    Copying lists and dicts means later changes to the caller's object neither bypass this check
    nor reach memory without ``set``.
    """
    if type(value) in _SCALARS:
        return value
    problem = find_problem(value, MEMORY)
    if problem is None:
        return copy_value(value)
    reason = problem.reason
    if reason.startswith("has type "):
        type_name = reason.removeprefix("has type ")
        fix = _MEMORY_FIXES.get(type_name) or (
            "convert it to None/bool/int/float/str/bytes, a list or a str-keyed dict "
            "(for a dataclass: dataclasses.asdict(value))"
        )
        reason = f"{reason}, which is not checkpoint-stable; {fix}"
    raise MemoryValueError(
        f"value at memory path '{path}'{problem.where} {reason}. Nothing was written.",
        path=path,
        memory_type=memory_type,
    )


def copy_value(value: Any) -> Any:
    """Copy the lists and dicts of a memory value (scalars are immutable)."""
    kind = type(value)
    if kind is list:
        return [copy_value(v) for v in value]
    if kind is dict:
        return {k: copy_value(v) for k, v in value.items()}
    return value
