"""Journal records: one per durable call of an action execution."""

from __future__ import annotations

import enum
import pickle
import sys
import traceback
from dataclasses import dataclass
from typing import Any, NamedTuple

import cloudpickle

from flink_agents_ctx.durable.codec import get_codec
from flink_agents_ctx.state_layout import CALL_RECORD_FORMAT


class CallStatus(str, enum.Enum):
    """Where a recorded call is: started and not finished, returned, or raised."""

    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class ErrorInfo:
    """A recorded exception: its type, message and traceback text, and the pickled exception when
    it survives a pickle round trip."""

    type_name: str
    message: str
    traceback: str
    pickled: bytes | None = None

    @classmethod
    def capture(cls, exc: BaseException) -> ErrorInfo:
        klass = type(exc)
        text = "".join(traceback.format_exception(exc))
        return cls(f"{klass.__module__}.{klass.__qualname__}", str(exc), text, _pickle_exc(exc))

    def rebuild(self, allow_pickle: bool) -> BaseException | None:
        """The recorded exception as its own type, or ``None`` when it cannot be rebuilt."""
        if allow_pickle and self.pickled is not None:
            try:
                exc = pickle.loads(self.pickled)
            except Exception:
                exc = None
            if isinstance(exc, Exception):
                return exc
        module_name, _, qualname = self.type_name.rpartition(".")
        # Only classes of modules the process already imported: never import by a stored name.
        module = sys.modules.get(module_name)
        obj: Any = (
            _find_nested(self.type_name) if module is None else getattr(module, qualname, None)
        )
        if isinstance(obj, type) and issubclass(obj, Exception):
            try:
                rebuilt: BaseException = obj(self.message)
            except Exception:
                return None
            if str(rebuilt) == self.message:
                return rebuilt
        return None


def _find_nested(type_name: str) -> Any:
    # Nested classes: "pkg.mod.Outer.Inner" -> module "pkg.mod", attribute path "Outer.Inner".
    parts = type_name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is not None:
            obj: Any = module
            for part in parts[cut:]:
                obj = getattr(obj, part, None)
            return obj
    return None


def _pickle_exc(exc: BaseException) -> bytes | None:
    try:
        data = bytes(cloudpickle.dumps(exc, protocol=5))
        back = pickle.loads(data)
    except Exception:
        return None
    return data if type(back) is type(exc) else None


class CallRecord(NamedTuple):
    """One durable call of an action execution, as the journal keeps it (immutable; a named
    tuple, which is several times cheaper to make than a frozen dataclass, once per call).

    ``position`` names the call within its action execution, independently of when calls finish:
    ``"0"``, ``"1"``... for calls made by the action's own code in program order, and
    ``"<task>/<call>"`` for calls made in tasks the action started (``"0/1"`` is the second call of
    the first task, for example a branch of ``asyncio.gather``; nested tasks add segments).
    """

    position: str
    function_id: str
    digest: str
    status: CallStatus
    codec: str = "json"
    payload: bytes | None = None
    error: ErrorInfo | None = None

    @property
    def identity(self) -> str:
        return f"{self.function_id}({self.digest})"

    def value(self) -> Any:
        """The recorded result of a SUCCEEDED call (raises when the payload does not decode)."""
        return None if self.payload is None else get_codec(self.codec).decode(self.payload)

    def to_state(self) -> tuple[Any, ...]:
        """Plain data for keyed state, independent of this module's classes."""
        err = self.error
        error = None if err is None else (err.type_name, err.message, err.traceback, err.pickled)
        fields = (self.function_id, self.digest, self.status.value, self.codec, self.payload)
        return (CALL_RECORD_FORMAT, self.position, *fields, error)

    @classmethod
    def from_state(cls, data: tuple[Any, ...]) -> CallRecord:
        # Format 1 held an int index where format 2 holds the position; the calls of an
        # action's own code have the index as their position.
        _version, position, function_id, digest, status, codec, payload, error = data
        return cls(
            str(position),
            function_id,
            digest,
            CallStatus(status),
            codec,
            payload,
            None if error is None else ErrorInfo(*error),
        )
