"""Call identity: which function a durable call runs, and a canonical digest of its arguments.

Replay matches call ``i`` of an action against journal record ``i`` by (function id, argument
digest). Both must be equal for the same call in any Python process: no ``hash()`` (salted per
process), no pickle bytes (set order and memo layout vary), no ``str()`` of objects (addresses).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import hashlib
import inspect
import math
import types
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from flink_agents_ctx.errors import NonCanonicalArgumentError

DIGEST_CHARS = 32
# Ints up to this many bits are written in decimal (older digests stay valid); larger ones in hex,
# which Python converts without its 4,300-digit limit on decimal strings.
DECIMAL_INT_BITS = 14_000


_MODULE_FUNCTION_IDS: dict[Callable[..., Any], str] = {}


def function_id(fn: Callable[..., Any]) -> str:
    """A name for ``fn`` that is the same in every process and differs between distinct functions.

    Lambdas and nested functions add their line and column; bound methods name the class of the
    object they are bound to; ``functools.partial`` names the wrapped function (its bound arguments
    are part of the digest).
    """
    known = _MODULE_FUNCTION_IDS.get(fn) if type(fn) is types.FunctionType else None
    if known is not None:
        return known
    if isinstance(fn, functools.partial):
        return f"partial({function_id(fn.func)})"
    if inspect.ismethod(fn):
        owner = fn.__self__
        klass = owner if isinstance(owner, type) else type(owner)
        return f"{klass.__module__}.{klass.__qualname__}.{fn.__func__.__name__}"
    code = getattr(fn, "__code__", None)
    qualname = getattr(fn, "__qualname__", None)
    if code is not None and isinstance(qualname, str):
        base = f"{fn.__module__}.{qualname}"
        if "<lambda>" in qualname or "<locals>" in qualname:
            base += f"@{code.co_firstlineno}:{_first_column(code)}"
        elif type(fn) is types.FunctionType and len(_MODULE_FUNCTION_IDS) < 4096:
            _MODULE_FUNCTION_IDS[fn] = base  # module-level functions live as long as the process
        return base
    if inspect.isbuiltin(fn):
        owner = getattr(fn, "__self__", None)
        if owner is not None and not inspect.ismodule(owner):
            klass = owner if isinstance(owner, type) else type(owner)
            return f"{klass.__module__}.{klass.__qualname__}.{fn.__name__}"
        return f"{fn.__module__}.{fn.__qualname__}"
    klass = type(fn)
    return f"{klass.__module__}.{klass.__qualname__}.__call__"


def _first_column(code: Any) -> int:
    for _, _, col, _ in code.co_positions():
        if col:
            return int(col)
    return 0


def argument_digest(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    """A digest of a canonical encoding of the call's arguments (keyword order does not matter)."""
    encoded = _canonical(args, "args")
    encoded += _EMPTY_KWARGS if not kwargs else _canonical(dict(kwargs), "kwargs")
    return _sha256(encoded).hexdigest()[:DIGEST_CHARS]


def canonical_bytes(value: Any) -> bytes:
    """The canonical encoding of one value (what digests are computed over)."""
    return _canonical(value, "value")


def _canonical(value: Any, path: str) -> bytes:
    """The canonical encoding: the fast encoder for plain data, the general one (which names
    the path of a value without an encoding) for everything else."""
    try:
        return _fast(value)
    except _NotPlain:
        return _encode(value, path)


class _NotPlain(Exception):
    """The fast encoder met a type it does not handle."""


# Encodings of short strings seen recently (labels, model names, prompts' fixed parts repeat).
_STR_FRAMES: dict[str, bytes] = {}
_STR_FRAME_MAX_CHARS = 256


def _fast(value: Any) -> bytes:
    # The same bytes as _encode for plain data (exact built-in types), without path strings.
    t = type(value)
    if t is str:
        frame = _STR_FRAMES.get(value)
        if frame is None:
            body = value.encode("utf-8", "surrogatepass")
            frame = b"s%d:%s" % (len(body), body)
            if len(value) <= _STR_FRAME_MAX_CHARS:
                if len(_STR_FRAMES) >= 4096:
                    _STR_FRAMES.clear()
                _STR_FRAMES[value] = frame
        return frame
    if t is int:
        if value.bit_length() > DECIMAL_INT_BITS:
            raise _NotPlain
        body = b"%d" % value
        return b"i%d:%s" % (len(body), body)
    if value is None:
        return b"N"
    if t is bool:
        return b"T" if value else b"F"
    if t is tuple or t is list:
        body = b"".join(map(_fast, value))
        return b"%s%d:%s" % (b"t" if t is tuple else b"l", len(body), body)
    if t is bytes:
        return b"b%d:%s" % (len(value), value)
    if t is float:
        text = b"nan" if math.isnan(value) else value.hex().encode()
        return b"f%d:%s" % (len(text), text)
    if t is dict:
        items = sorted(b"%s%s" % (_fast(k), _fast(v)) for k, v in value.items())
        body = b"".join([b"p%d:%s" % (len(item), item) for item in items])
        return b"d%d:%s" % (len(body), body)
    raise _NotPlain


_EMPTY_KWARGS = b"d0:"
_sha256 = hashlib.sha256


_KEY_DIGESTS: dict[tuple[type, Any], str] = {}


def key_digest(key: Any) -> str:
    """The digest of a Flink key, the same in every process: SHA-256 (hex) of its canonical
    encoding, or of its ``repr`` for key types without one (Flink keys compare by value, so their
    repr is stable for one key type). Idempotency keys and store rows both use it."""
    kind = type(key)
    plain = kind is str or kind is int or kind is bytes  # equal only to keys of their own type
    if plain:
        known = _KEY_DIGESTS.get((kind, key))
        if known is not None:
            return known
    try:
        canonical = canonical_bytes(key)
    except NonCanonicalArgumentError:
        canonical = b"repr:" + repr(key).encode()
    digest = hashlib.sha256(canonical).hexdigest()
    if plain:
        if len(_KEY_DIGESTS) >= 4096:
            _KEY_DIGESTS.clear()
        _KEY_DIGESTS[(kind, key)] = digest
    return digest


def input_digest(value: Any) -> str:
    """A digest of an input record, the same in every process (of its ``repr`` when it has no
    canonical encoding: such inputs then match only within one process's lifetime)."""
    try:
        canonical = canonical_bytes(value)
    except NonCanonicalArgumentError:
        canonical = b"repr:" + repr(value).encode()
    return hashlib.sha256(canonical).hexdigest()[:DIGEST_CHARS]


def call_arguments(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The positional arguments a call really receives (a partial's bound ones first)."""
    if isinstance(fn, functools.partial):
        return (*call_arguments(fn.func, fn.args), *args)
    return args


def call_keywords(fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments a call really receives (a partial's bound ones first)."""
    if isinstance(fn, functools.partial):
        return {**call_keywords(fn.func, fn.keywords), **kwargs}
    return dict(kwargs)


def _frame(tag: bytes, body: bytes) -> bytes:
    return tag + str(len(body)).encode() + b":" + body


def _encode(value: Any, path: str) -> bytes:
    # bool before int: True is an int.
    if value is None:
        return b"N"
    if value is True:
        return b"T"
    if value is False:
        return b"F"
    t = type(value)
    if isinstance(value, int) and not isinstance(value, enum.Enum):
        number = int(value)
        if number.bit_length() > DECIMAL_INT_BITS:
            return _frame(b"I", format(number, "x").encode())
        return _frame(b"i", str(number).encode())
    if isinstance(value, float):
        text = "nan" if math.isnan(value) else value.hex()
        return _frame(b"f", text.encode())
    if isinstance(value, str):
        return _frame(b"s", value.encode("utf-8", "surrogatepass"))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _frame(b"b", bytes(value))
    if isinstance(value, enum.Enum):
        return _frame(b"E", _type_name(t).encode() + _encode(value.value, f"{path}.value"))
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        tag = b"l" if isinstance(value, list) else b"t"
        return _frame(tag, b"".join(_encode(v, f"{path}[{i}]") for i, v in enumerate(value)))
    if isinstance(value, tuple):  # NamedTuple: its type is part of the identity
        names: tuple[str, ...] = value._fields  # type: ignore[attr-defined]
        parts = [_encode(getattr(value, f), f"{path}.{f}") for f in names]
        return _frame(b"n", _type_name(t).encode() + b"".join(parts))
    if isinstance(value, Mapping):
        items = sorted(
            _encode(k, f"{path}<key>") + _encode(v, f"{path}[{k!r}]") for k, v in value.items()
        )
        return _frame(b"d", b"".join(_frame(b"p", item) for item in items))
    if isinstance(value, (set, frozenset)):
        members = sorted(_encode(v, f"{path}<member>") for v in value)
        return _frame(b"S" if isinstance(value, set) else b"Z", b"".join(members))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [
            _frame(b"k", f.name.encode()) + _encode(getattr(value, f.name), f"{path}.{f.name}")
            for f in dataclasses.fields(value)
        ]
        return _frame(b"D", _type_name(t).encode() + b"".join(fields))
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump) and hasattr(t, "model_fields"):  # pydantic v2 model
        return _frame(b"P", _type_name(t).encode() + _encode(model_dump(), f"{path}"))
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return _frame(b"z", _type_name(t).encode() + value.isoformat().encode())
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return _frame(b"x", _type_name(t).encode() + str(value).encode())
    raise NonCanonicalArgumentError(
        f"argument {path} of a durable call has type {t.__qualname__}, which has no canonical "
        "encoding, so the call cannot be matched on replay. Pass plain data (str, numbers, bytes, "
        "lists, dicts, sets, dataclasses, enums, pydantic models), or give the call an explicit "
        "identity with durable(fn, call_id='...')",
        path=path,
        type_name=t.__qualname__,
    )


def _type_name(t: type) -> str:
    return f"{t.__module__}.{t.__qualname__}"
