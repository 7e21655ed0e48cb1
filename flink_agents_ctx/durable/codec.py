"""Codecs for recorded call results: bytes that decode to an equal value in another process.

``json`` (the default) is a tagged JSON that keeps Python types exactly: bytes stay bytes, tuples
stay tuples, ints of any size stay ints (in hex past Python's 4,300-digit decimal limit), non-str
dict keys, sets, NaN and infinities survive, and dataclasses, enums and pydantic models are rebuilt
as their own type. Decoding never runs code other than a dataclass, enum or pydantic model
constructor of a class already imported in the process.
``pickle`` records anything cloudpickle can serialise; decoding it can run arbitrary code, so use it
only for journals in the job's own state.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import json
import math
import pickle
import sys
import uuid
from typing import Any, Protocol

import cloudpickle

from flink_agents_ctx.errors import JournalEncodingError

_DECIMAL_INT_BITS = 14_000
_encode_str = json.encoder.encode_basestring_ascii  # what json.dumps uses for str by default


class Codec(Protocol):
    name: str

    def encode(self, value: Any) -> bytes: ...
    def decode(self, data: bytes) -> Any: ...


class JsonCodec:
    """Tagged JSON (see the module docstring)."""

    name = "json"

    def encode(self, value: Any) -> bytes:
        # The same bytes json.dumps writes, without its machinery, for the commonest results.
        kind = type(value)
        if kind is int and value.bit_length() <= _DECIMAL_INT_BITS:
            return b"%d" % value
        if value is None:
            return b"null"
        if kind is bool:
            return b"true" if value else b"false"
        if kind is str:
            return _encode_str(value).encode()
        return json.dumps(
            _to_json(value, "result"), separators=(",", ":"), allow_nan=False
        ).encode()

    def decode(self, data: bytes) -> Any:
        return _from_json(json.loads(data))


class PickleCodec:
    """cloudpickle; for trusted storage only."""

    name = "pickle"

    def encode(self, value: Any) -> bytes:
        try:
            return bytes(cloudpickle.dumps(value, protocol=5))
        except Exception as e:
            raise JournalEncodingError(
                f"the call's result of type {type(value).__qualname__} cannot be pickled: {e}",
                path="result",
                type_name=type(value).__qualname__,
                codec=self.name,
            ) from e

    def decode(self, data: bytes) -> Any:
        return pickle.loads(data)


CODECS: dict[str, Codec] = {"json": JsonCodec(), "pickle": PickleCodec()}


def get_codec(name: str) -> Codec:
    """The codec called ``name``; raises ``ValueError`` naming the known ones."""
    try:
        return CODECS[name]
    except KeyError:
        raise ValueError(
            f"unknown durable-call codec {name!r}; known codecs: {', '.join(sorted(CODECS))}"
        ) from None


def _type_path(t: type) -> str:
    return f"{t.__module__}:{t.__qualname__}"


def _resolve_type(path: str) -> type:
    module_name, _, qualname = path.partition(":")
    module = sys.modules.get(module_name)
    if module is None:
        raise ValueError(
            f"recorded value of type {path} cannot be decoded: module {module_name!r} is not "
            "imported in this process"
        )
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise ValueError(f"recorded type {path} is not a class")
    return obj


def _to_json(value: Any, path: str) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return {"$e": _type_path(type(value)), "v": _to_json(value.value, f"{path}.value")}
    if isinstance(value, int):
        number = int(value)
        # json writes ints in decimal, which Python refuses past 4,300 digits: use hex there.
        return number if number.bit_length() <= _DECIMAL_INT_BITS else {"$i": format(number, "x")}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$f": repr(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, list):
        return [_to_json(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if type(value) is tuple:
        return {"$t": [_to_json(v, f"{path}[{i}]") for i, v in enumerate(value)]}
    if type(value) is dict:
        if all(isinstance(k, str) for k in value):
            return {"$m": {k: _to_json(v, f"{path}[{k!r}]") for k, v in value.items()}}
        return {
            "$d": [
                [_to_json(k, f"{path}<key>"), _to_json(v, f"{path}[{k!r}]")]
                for k, v in value.items()
            ]
        }
    if type(value) in (set, frozenset):
        tag = "$s" if type(value) is set else "$fs"
        return {tag: [_to_json(v, f"{path}<member>") for v in value]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {
            f.name: _to_json(getattr(value, f.name), f"{path}.{f.name}")
            for f in dataclasses.fields(value)
            if f.init
        }
        return {"$dc": _type_path(type(value)), "v": fields}
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump) and hasattr(type(value), "model_validate"):
        return {"$pm": _type_path(type(value)), "v": model_dump(mode="json")}
    if isinstance(value, datetime.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"$dec": str(value)}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    raise JournalEncodingError(
        f"the call's {path} has type {type(value).__qualname__}, which the 'json' journal codec "
        "cannot record. Return plain data, a dataclass or a pydantic model, or declare "
        "durable(fn, codec='pickle')",
        path=path,
        type_name=type(value).__qualname__,
        codec="json",
    )


def _from_json(data: Any) -> Any:
    if isinstance(data, list):
        return [_from_json(v) for v in data]
    if not isinstance(data, dict):
        return data
    tag, body = next(iter(data.items()))
    if tag == "$m":
        return {k: _from_json(v) for k, v in body.items()}
    if tag == "$t":
        return tuple(_from_json(v) for v in body)
    if tag == "$d":
        return {_from_json(k): _from_json(v) for k, v in body}
    if tag == "$s":
        return {_from_json(v) for v in body}
    if tag == "$fs":
        return frozenset(_from_json(v) for v in body)
    if tag == "$b":
        return base64.b64decode(body)
    if tag == "$f":
        return float(body)
    if tag == "$i":
        return int(body, 16)
    if tag == "$e":
        # Only enum lookups: a recorded value may come from a shared store, so it must not be
        # able to call an arbitrary class.
        klass = _resolve_type(body)
        if not (isinstance(klass, type) and issubclass(klass, enum.Enum)):
            raise ValueError(f"recorded type {body} is not an enum")
        return klass(_from_json(data["v"]))
    if tag == "$dc":
        klass = _resolve_type(body)
        if not (isinstance(klass, type) and dataclasses.is_dataclass(klass)):
            raise ValueError(f"recorded type {body} is not a dataclass")
        return klass(**{k: _from_json(v) for k, v in data["v"].items()})
    if tag == "$pm":
        klass = _resolve_type(body)
        if not (isinstance(klass, type) and hasattr(klass, "model_fields")):
            raise ValueError(f"recorded type {body} is not a pydantic model")
        return klass.model_validate(data["v"])  # type: ignore[attr-defined]
    if tag == "$dt":
        return datetime.datetime.fromisoformat(body)
    if tag == "$date":
        return datetime.date.fromisoformat(body)
    if tag == "$dec":
        return decimal.Decimal(body)
    if tag == "$uuid":
        return uuid.UUID(body)
    raise ValueError(f"unknown tag {tag!r} in a recorded value")
