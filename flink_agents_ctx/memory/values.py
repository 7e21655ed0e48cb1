"""Checkpoint-stable values: what memory accepts.

A value survives a checkpoint and a restore into another Python process unchanged only if it is
built from None, bool, int, float, str, bytes, lists and dicts with str keys. Anything else (sets,
tuples, datetimes, user classes) would come back different, or not at all, after a failover, so it
is refused at write time with the path of the offending part and a conversion to use instead.
"""

from __future__ import annotations

from typing import Any

from flink_agents_ctx.errors import MemoryValueError

_SCALARS = (type(None), bool, int, float, str, bytes)

_FIXES: dict[str, str] = {
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


def stable_copy(value: Any, path: str, memory_type: str) -> Any:
    """A private copy of ``value`` for memory; raise :class:`MemoryValueError` unless it is
    checkpoint-stable.

    Copying lists and dicts means later changes to the caller's object neither bypass this check
    nor reach memory without ``set``.
    """
    if type(value) in _SCALARS:
        return value
    problem = _find_unstable(value, "", 0)
    if problem is None:
        return copy_value(value)
    where, bad = problem
    type_name = type(bad).__name__
    if isinstance(bad, dict):
        detail = f"has a dict key {where!r} that is not a str; use str keys"
        where = ""
    else:
        fix = _FIXES.get(type_name)
        if fix is None:
            fix = (
                "convert it to None/bool/int/float/str/bytes, a list or a str-keyed dict "
                "(for a dataclass: dataclasses.asdict(value))"
            )
        detail = f"has type {type_name}, which is not checkpoint-stable; {fix}"
    raise MemoryValueError(
        f"value at memory path '{path}'{where} {detail}. Nothing was written.",
        path=path,
        memory_type=memory_type,
    )


def copy_value(value: Any) -> Any:
    """Copy the lists and dicts of a checkpoint-stable value (scalars are immutable)."""
    kind = type(value)
    if kind is list:
        return [copy_value(v) for v in value]
    if kind is dict:
        return {k: copy_value(v) for k, v in value.items()}
    return value


def _find_unstable(value: Any, where: str, depth: int) -> tuple[str, Any] | None:
    if isinstance(value, _SCALARS):
        # bool/int/... subclasses (IntEnum, numpy scalars registered as int) pickle by class.
        return None if type(value) in _SCALARS else (where, value)
    if depth > 100:
        return where, value
    if type(value) is list:
        for i, item in enumerate(value):
            found = _find_unstable(item, f"{where}[{i}]", depth + 1)
            if found is not None:
                return found
        return None
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                return repr(key), value
            found = _find_unstable(item, f"{where}[{key!r}]", depth + 1)
            if found is not None:
                return found
        return None
    return where, value
