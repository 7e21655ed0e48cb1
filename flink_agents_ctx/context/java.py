"""The core's side of the Java bridge: the calls of Java actions' runner context, answered over
the running action execution, and the port to the Java side.

A Java action codes against ``flinkagentsctx.api.RunnerContext`` (``java-bridge/``). Its
implementation asks this module's :class:`JavaEndpoint` for everything, in the wire format of
:mod:`flink_agents_ctx.wire`, so the memory rules, event routing and journal matching are the ones
Python actions get: one core, two languages. ::

    Python core                                  JVM (the same task thread)
    JavaActions.run(execution) ── execute(name, event) ──▶ ActionHost ──▶ action.execute(event, ctx)
    JavaEndpoint.memory_get(...) ◀──────────── ctx.getShortTermMemory().get("x")
    JavaEndpoint.durable_execute(id, handle) ◀─ ctx.durableExecute(callable)
        └─ journal miss: run_callable(handle) ──────▶ callable.call()
    JavaEndpoint.durable_execute_async(id, h) ◀─ ctx.durableExecuteAsync(callable)   (JDK 21)
        └─ journal miss: "~" ─────────────────────▶ callable.call() on a Java thread; the
                                                     action's continuation yields
    JavaAsyncCalls.pump() ── take_completed() ────▶ ended calls: journaled on the task thread,
                                                     then the continuation is resumed

The Java side is reached through the :class:`JavaRuntime` port: pemja in a job
(:mod:`flink_agents_ctx.context.pemja_runtime`), a fake in tests. One runtime serves an operator
(:mod:`flink_agents_ctx.context.java_actions`): it is opened on the first Java action execution and
closed with the operator; the endpoint is switched to the running execution before each step.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Hashable
from typing import Any, Protocol, TypeVar

from flink_agents_ctx import wire
from flink_agents_ctx.durable.executor import CallExecutor, Submit
from flink_agents_ctx.durable.options import DurableFunction
from flink_agents_ctx.errors import (
    DurableCallError,
    JavaActionError,
    JavaBridgeError,
    JavaCallError,
    OperatorStateError,
    UnknownResourceError,
)
from flink_agents_ctx.events import check_json_serialisable
from flink_agents_ctx.execution.action_execution import ActionExecution
from flink_agents_ctx.execution.services import ExecutionServices
from flink_agents_ctx.memory.memory_object import MemoryObject, MemoryTree
from flink_agents_ctx.metrics.group import MetricGroup
from flink_agents_ctx.types import MemoryType


class JavaRuntime(Protocol):
    """The Java side of one operator (``flinkagentsctx.bridge.ActionHost``). Every method answers
    with bridge answer text (see :mod:`flink_agents_ctx.wire`)."""

    def open(self, endpoint: JavaEndpoint, wire_version: int, async_threads: int) -> str:
        """Connect; answers facts: ``java_version``, ``continuations`` (whether actions can be
        suspended) and ``continuations_unavailable`` (why not)."""

    def load(self, name: str, class_name: str, config_wire: str) -> str: ...

    def execute(self, name: str, event_wire: str) -> str:
        """Run an action to its end (no suspension)."""

    def run_callable(self, handle: int) -> str:
        """Make a synchronous durable call on this thread."""

    def start(self, token: int, name: str, event_wire: str) -> str:
        """Run an action in a continuation: ``""`` ended, ``"~"`` waits on an async call."""

    def resume(self, token: int, reply: str) -> str:
        """Go on with a waiting action, with the answer of its call."""

    def cancel(self, token: int) -> None: ...

    def declare_resource(
        self, name: str, type_name: str, class_name: str, config_wire: str
    ) -> None:
        """A Java resource, built in the JVM when a Java action first asks for it."""

    def take_completed(self) -> str:
        """``[[handle, answer], ...]``: the async calls that ended on Java threads."""

    def close(self) -> str:
        """Stop; answers ``""`` or ``"!"`` and the Java resources that failed to close."""


RuntimeFactory = Callable[[], JavaRuntime]

_JAVA_CALL_ERROR = f"{JavaCallError.__module__}.{JavaCallError.__qualname__}"


JavaError = TypeVar("JavaError", JavaActionError, JavaCallError)


def java_failure(body: dict[str, Any], error: type[JavaError]) -> JavaError:
    """The error of a Java exception the bridge answered with (class, message, stack)."""
    java_class = str(body.get("class", body.get("type")))
    message = str(body.get("message", ""))
    return error(
        f"{java_class}: {message}",
        java_class=java_class,
        java_message=message,
        java_stack=str(body.get("stack", "")),
    )


def call_outcome(answer: str) -> Any:
    """The result of a Java durable call from the bridge's answer; raises its failure as
    :class:`JavaCallError`."""
    good, body = wire.parse_answer(answer)
    if good:
        return wire.decode(body)
    raise java_failure(body, JavaCallError)


class _JavaCall:
    """The Python side of a synchronous Java durable call: asks the bridge to make it (on a
    journal miss), on the task thread."""

    __slots__ = ("_handle", "_runtime")

    def __init__(self, runtime: JavaRuntime, handle: int) -> None:
        self._runtime = runtime
        self._handle = handle

    def __call__(self) -> Any:
        return call_outcome(self._runtime.run_callable(self._handle))


class JavaAsyncCalls:
    """The async durable calls of suspended Java actions, which Java threads make: a
    :class:`~flink_agents_ctx.durable.executor.CompletionSource` of the operator's call executor.

    A call's work (record its outcome, commit it to the journal) is registered when the action
    makes the call and runs on the task thread once the bridge reports the call ended, before
    the action is resumed with it."""

    def __init__(self, executor: CallExecutor) -> None:
        self._executor = executor
        self._runs: dict[int, Callable[[], None]] = {}
        self._answers: dict[int, str] = {}
        self.runtime: JavaRuntime | None = None

    def submitter(self, handle: int) -> Submit:
        """Where the session hands the work of call ``handle``."""

        def submit(key: Hashable, session: int, position: str, work: Callable[[], Any]) -> None:
            self._runs[handle] = self._executor.deferred(key, session, position, work)

        return submit

    def outcome(self, handle: int) -> Any:
        """The outcome of an ended call (its work runs this, via :class:`_AsyncJavaCall`)."""
        return call_outcome(self._answers.pop(handle))

    def pending(self) -> bool:
        return bool(self._runs)

    def pump(self) -> None:
        runtime = self.runtime
        if runtime is None:
            return
        for handle, answer in wire.decode(runtime.take_completed()):
            run = self._runs.pop(handle, None)
            if run is not None:
                self._answers[handle] = answer
                try:
                    run()
                finally:  # a call abandoned meanwhile never reads its answer
                    self._answers.pop(handle, None)

    def clear(self) -> None:
        self._runs.clear()
        self._answers.clear()


class _AsyncJavaCall:
    """The Python side of an async Java durable call: its outcome, once a Java thread made it."""

    __slots__ = ("_calls", "_handle")

    def __init__(self, calls: JavaAsyncCalls, handle: int) -> None:
        self._calls = calls
        self._handle = handle

    def __call__(self) -> Any:
        return self._calls.outcome(self._handle)


class JavaEndpoint:
    """What the Java bridge calls: each method answers ``"=" + value`` or ``"!" + error`` and
    acts for the execution the operator is running (:meth:`JavaActions.run` switches it)."""

    def __init__(
        self, services: ExecutionServices, types: wire.EventTypes, calls: JavaAsyncCalls
    ) -> None:
        self._services = services
        self._types = types
        self._calls = calls
        self.waiting: asyncio.Future[Any] | None = None
        self._trees: dict[str, MemoryTree] = {
            MemoryType.SENSORY.value: services.sensory,
            MemoryType.SHORT_TERM.value: services.short_term,
        }
        self.runtime: JavaRuntime | None = None
        self.execution: ActionExecution | None = None

    def _current(self) -> ActionExecution:
        execution = self.execution
        if execution is None:
            raise OperatorStateError("the Java bridge called the core while no Java action runs")
        return execution

    @classmethod
    def _answer(cls, op: Callable[[], Any]) -> str:
        try:
            return wire.ok(op())
        except Exception as e:
            return cls.error_answer(e)

    @staticmethod
    def error_answer(error: Exception) -> str:
        """The answer that carries ``error`` to the bridge."""
        if isinstance(error, JavaCallError):
            java = (error.java_class, error.java_message, error.java_stack)
        elif isinstance(error, DurableCallError) and error.type_name == _JAVA_CALL_ERROR:
            # A recorded Java failure that could not be rebuilt as itself.
            java_class, _, message = error.error_message.partition(": ")
            java = (java_class, message, error.remote_traceback)
        else:
            return wire.failure(type(error).__name__, str(error))
        return wire.failure("JavaCallError", java[1], **{"class": java[0], "stack": java[2]})

    def _memory(self, memory: str, base: str) -> MemoryObject:
        """The memory object the bridge names, once a Java action is running."""
        if self.execution is None:
            self._current()  # raises
        tree = self._trees.get(memory)
        if tree is None:
            raise OperatorStateError(f"the Java bridge named an unknown memory {memory!r}")
        return tree.root() if not base else MemoryObject(tree, base)

    # -- memory (the most frequent calls: no closures on their path) --------------------------

    def memory_get(self, memory: str, base: str, path: str) -> str:
        try:
            value = self._memory(memory, base).get(path)
            if type(value) is MemoryObject:
                value = wire.MemoryObjectPath(value.memory_type, value.path)
            return "=" + wire.encode(value)
        except Exception as e:
            return self.error_answer(e)

    def memory_set(self, memory: str, base: str, path: str, value_wire: str) -> str:
        try:
            ref = self._memory(memory, base).set(path, wire.decode(value_wire))
            return "=" + wire.encode(ref)
        except Exception as e:
            return self.error_answer(e)

    def memory_new_object(self, memory: str, base: str, path: str, overwrite: bool) -> str:
        def op() -> Any:
            made = self._memory(memory, base).new_object(path, bool(overwrite))
            return wire.MemoryObjectPath(made.memory_type, made.path)

        return self._answer(op)

    def memory_delete(self, memory: str, base: str, path: str) -> str:
        return self._answer(lambda: self._memory(memory, base).delete(path))

    def memory_is_exist(self, memory: str, base: str, path: str) -> str:
        return self._answer(lambda: self._memory(memory, base).is_exist(path))

    def memory_field_names(self, memory: str, base: str) -> str:
        return self._answer(lambda: self._memory(memory, base).get_field_names())

    def memory_fields(self, memory: str, base: str) -> str:
        return self._answer(lambda: self._memory(memory, base).get_fields())

    # -- events, key, config, resources, metrics ----------------------------------------------

    def send_event(self, event_wire: str) -> str:
        def op() -> None:
            execution = self._current()
            event = wire.decode_event(event_wire, self._types)
            check_json_serialisable(event)
            execution.send_event(event)

        return self._answer(op)

    def key(self) -> str:
        return self._answer(lambda: self._current().key)

    def config_value(self, key: str) -> str:
        return self._answer(lambda: self._current().config.get_raw(key))

    def resource(self, name: str, resource_type: str) -> str:
        def op() -> Any:
            self._current()
            declared = self._services.resources.declared_type(name)
            if declared is None:
                raise UnknownResourceError(
                    f"resource '{name}' is not declared by the agent",
                    name=name,
                    resource_type=resource_type,
                )
            raise JavaBridgeError(
                f"resource '{name}' ({declared.value}) is a Python resource; Java actions cannot "
                "use Python resources in this release. Call it from a Python action and pass the "
                "result on in memory or an event"
            )

        return self._answer(op)

    def metric(self, scope: str, groups_wire: str, kind: str, name: str, value: Any) -> str:
        def op() -> None:
            execution = self._current()
            group: MetricGroup = (
                execution.agent_metric_group if scope == "agent" else execution.action_metric_group
            )
            for step in json.loads(groups_wire):
                group = (
                    group.get_sub_group(step) if type(step) is str else group.get_sub_group(*step)
                )
            if kind == "counter":
                group.get_counter(name).inc(int(value))
            elif kind == "meter":
                group.get_meter(name).mark_event(int(value))
            elif kind == "gauge":
                group.get_gauge(name).update(value)
            elif kind == "histogram":
                group.get_histogram(name).update(float(value))
            else:
                raise OperatorStateError(
                    f"the Java bridge asked for an unknown metric kind {kind!r}"
                )

        return self._answer(op)

    # -- durable calls -------------------------------------------------------------------------

    def durable_execute_async(self, call_id: str, handle: int) -> str:
        """Answers the recorded outcome (replay), or ``"~"``: the call is started as far as the
        journal goes, the bridge makes it on a Java thread and suspends the action; the future
        is in :attr:`waiting` for the action's coroutine to await."""
        try:
            execution = self._current()
            fn = DurableFunction(_AsyncJavaCall(self._calls, int(handle)), call_id=str(call_id))
            future = execution.durable_execute_async(
                fn, (), {}, submit=self._calls.submitter(int(handle))
            )
        except Exception as e:
            return self.error_answer(e)
        if not future.done():
            self.waiting = future
            return "~"
        error = future.exception()
        if error is None:
            return wire.ok(future.result())
        if isinstance(error, Exception):
            return self.error_answer(error)
        raise error

    def durable_execute(self, call_id: str, handle: int) -> str:
        def op() -> Any:
            execution = self._current()
            runtime = self.runtime
            if runtime is None:
                raise OperatorStateError("a Java durable call arrived before the bridge opened")
            fn = DurableFunction(_JavaCall(runtime, int(handle)), call_id=str(call_id))
            return execution.durable_execute(fn, (), {})

        return self._answer(op)
