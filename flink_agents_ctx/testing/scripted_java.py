"""A Java runtime without a JVM for the test harness: Python stand-ins for Java action classes
that speak the bridge's wire format to the real endpoint (see :class:`ScriptedJavaRuntime`)."""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from flink_agents_ctx import wire


class ScriptedJavaContext:
    """What a stand-in Java action of :class:`ScriptedJavaRuntime` gets: the bridge's calls, made
    with wire text exactly as ``flinkagentsctx.bridge`` makes them, with answers decoded (an
    error answer raises :class:`ScriptedJavaError`)."""

    def __init__(self, runtime: ScriptedJavaRuntime, config: dict[str, Any]) -> None:
        self._runtime = runtime
        self.action_config = config

    def call(self, method: str, *args: Any) -> Any:
        endpoint = self._runtime.endpoint
        if endpoint is None:
            raise AssertionError("the scripted Java runtime was not opened")
        return _decoded(getattr(endpoint, method)(*args))

    def get(self, memory: str, path: str, base: str = "") -> Any:
        return self.call("memory_get", memory, base, path)

    def set(self, memory: str, path: str, value: Any, base: str = "") -> Any:
        return self.call("memory_set", memory, base, path, wire.encode(value))

    def send(self, type_name: str, fields: dict[str, Any], event_id: str = "java-1") -> None:
        event = {"type": type_name, "id": event_id, "source_timestamp": None, "fields": fields}
        self.call("send_event", json.dumps(wire.to_json(event)))

    def durable_execute(self, call_id: str, fn: Callable[[], Any]) -> Any:
        handle = self._runtime.add_call(fn)
        return self.call("durable_execute", call_id, handle)

    def durable_execute_async(self, call_id: str, fn: Callable[[], Any]) -> AsyncCallRequest:
        """What a generator stand-in yields to wait on an async call (the value of the ``yield``
        is the call's result; its failure is thrown in as :class:`ScriptedJavaError`)."""
        return AsyncCallRequest(call_id, fn)


def _decoded(answer: str) -> Any:
    good, body = wire.parse_answer(answer)
    if not good:
        raise ScriptedJavaError(body)
    return wire.decode(body)


class AsyncCallRequest(NamedTuple):
    call_id: str
    fn: Callable[[], Any]


class ScriptedJavaError(Exception):
    """An error answer of the core to a stand-in Java action (``body`` is the error object)."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(f"{body.get('type')}: {body.get('message')}")
        self.body = body


class ScriptedJavaRuntime:
    """A :class:`~flink_agents_ctx.context.java.JavaRuntime` without a JVM, for harness tests:
    "Java classes" are Python functions ``(event: dict, ctx: ScriptedJavaContext) -> None`` by
    class name. It speaks the wire format to the real endpoint, so what it tests is the core's
    side of the bridge; the Java side has its own tests, and jobs run the real one.

    A stand-in that is a generator waits on async calls by yielding
    ``ctx.durable_execute_async(call_id, fn)``. With ``continuations=True`` it is suspended there
    as on JDK 21 (``fn`` runs on a thread of its own); without, the call is synchronous as on
    JDK 17.
    """

    def __init__(
        self,
        classes: Mapping[str, Callable[[dict[str, Any], ScriptedJavaContext], Any]],
        continuations: bool = False,
    ) -> None:
        self.classes = dict(classes)
        self.continuations = continuations
        self.endpoint: Any = None
        self.loaded: dict[str, tuple[str, dict[str, Any]]] = {}
        self.calls: dict[int, Callable[[], Any]] = {}
        self.suspended: dict[int, Any] = {}
        self.resources: dict[str, tuple[str, str, dict[str, Any]]] = {}
        self.closed = False
        self._next = 0
        self._completed: list[list[Any]] = []
        self._lock = threading.Lock()

    def open(self, endpoint: Any, wire_version: int, async_threads: int) -> str:
        self.endpoint = endpoint
        if wire_version != wire.WIRE_VERSION:
            return wire.failure("BridgeVersionError", f"speaks {wire.WIRE_VERSION}")
        return wire.ok(
            {
                "wire_version": wire.WIRE_VERSION,
                "java_version": "scripted",
                "continuations": self.continuations,
                "continuations_unavailable": None if self.continuations else "scripted",
            }
        )

    def load(self, name: str, class_name: str, config_wire: str) -> str:
        if class_name not in self.classes:
            return wire.failure("JavaClassNotFoundError", f"class {class_name} was not found")
        self.loaded[name] = (class_name, wire.decode(config_wire))
        return ""

    def add_call(self, fn: Callable[[], Any]) -> int:
        handle = self._next
        self._next += 1
        self.calls[handle] = fn
        return handle

    def _begin(self, name: str, event_wire: str) -> Any:
        class_name, config = self.loaded[name]
        event = json.loads(event_wire)
        event["fields"] = wire.from_json(event["fields"])
        return self.classes[class_name](event, ScriptedJavaContext(self, config))

    @staticmethod
    def _failure(kind: str, e: BaseException) -> str:
        return wire.failure(kind, str(e), **{"class": type(e).__name__, "stack": "scripted"})

    def execute(self, name: str, event_wire: str) -> str:
        try:
            body = self._begin(name, event_wire)
            if inspect.isgenerator(body):  # no continuations: each async call is synchronous
                value: Any = None
                while True:
                    request = body.send(value)
                    handle = self.add_call(request.fn)
                    value = _decoded(self.endpoint.durable_execute(request.call_id, handle))
        except StopIteration:
            return ""
        except Exception as e:
            return self._failure("JavaActionError", e)
        return ""

    def start(self, token: int, name: str, event_wire: str) -> str:
        try:
            body = self._begin(name, event_wire)
        except Exception as e:
            return self._failure("JavaActionError", e)
        if not inspect.isgenerator(body):
            return ""
        return self._advance(token, body, lambda: next(body))

    def resume(self, token: int, reply: str) -> str:
        body = self.suspended.pop(token)

        def step() -> Any:
            try:
                value = _decoded(reply)
            except ScriptedJavaError as e:
                return body.throw(e)
            return body.send(value)

        return self._advance(token, body, step)

    def _advance(self, token: int, body: Any, step: Callable[[], Any]) -> str:
        try:
            while True:
                request = step()
                handle = self.add_call(request.fn)
                answer = self.endpoint.durable_execute_async(request.call_id, handle)
                if answer == "~":
                    self.suspended[token] = body
                    threading.Thread(target=self._run_async, args=(handle,), daemon=True).start()
                    return "~"

                def step(answer: str = answer) -> Any:
                    try:
                        value = _decoded(answer)
                    except ScriptedJavaError as e:
                        return body.throw(e)
                    return body.send(value)
        except StopIteration:
            return ""
        except Exception as e:
            return self._failure("JavaActionError", e)

    def _run_async(self, handle: int) -> None:
        answer = self.run_callable(handle)
        with self._lock:
            self._completed.append([handle, answer])

    def cancel(self, token: int) -> None:
        body = self.suspended.pop(token, None)
        if body is not None:
            body.close()

    def declare_resource(
        self, name: str, type_name: str, class_name: str, config_wire: str
    ) -> None:
        self.resources[name] = (type_name, class_name, wire.decode(config_wire))

    def take_completed(self) -> str:
        with self._lock:
            done, self._completed = self._completed, []
        return wire.encode(done)

    def run_callable(self, handle: int) -> str:
        try:
            return wire.ok(self.calls.pop(handle)())
        except Exception as e:
            return self._failure("JavaCallError", e)

    def close(self) -> str:
        self.closed = True
        return ""
