"""The runner context of Java actions: the Java bridge's calls, answered over one action execution.

A Java action codes against ``flinkagentsctx.api.RunnerContext`` (``java-bridge/``). Its
implementation asks this module's :class:`JavaEndpoint` for everything, in the wire format of
:mod:`flink_agents_ctx.wire`, so the memory rules, event routing and journal matching are the ones
Python actions get: one core, two languages. ::

    Python core                                  JVM (the same task thread)
    JavaActions.run(execution) ── execute(name, event) ──▶ ActionHost ──▶ action.execute(event, ctx)
    JavaEndpoint.memory_get(...) ◀──────────── ctx.getShortTermMemory().get("x")
    JavaEndpoint.durable_execute(id, handle) ◀─ ctx.durableExecute(callable)
        └─ journal miss: run_callable(handle) ──────▶ callable.call()

The Java side is reached through the :class:`JavaRuntime` port: pemja in a job
(:mod:`flink_agents_ctx.context.pemja_runtime`), a fake in tests. One runtime serves an operator: it
is opened on the first Java action execution and closed with the operator; the endpoint is switched
to the running execution before each step.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from flink_agents_ctx import wire
from flink_agents_ctx.agent import ActionSpec, AgentPlan
from flink_agents_ctx.durable.options import DurableFunction
from flink_agents_ctx.errors import (
    DurableCallError,
    FlinkAgentsError,
    JavaActionError,
    JavaBridgeError,
    JavaCallError,
    OperatorStateError,
    UnknownResourceError,
)
from flink_agents_ctx.events import check_json_serialisable
from flink_agents_ctx.execution.action_execution import ActionBody, ActionExecution
from flink_agents_ctx.execution.services import ExecutionServices
from flink_agents_ctx.memory.memory_object import MemoryObject, MemoryTree
from flink_agents_ctx.metrics.group import MetricGroup
from flink_agents_ctx.types import MemoryType


class JavaRuntime(Protocol):
    """The Java side of one operator (``flinkagentsctx.bridge.ActionHost``). Every method answers
    with bridge answer text (see :mod:`flink_agents_ctx.wire`)."""

    def open(self, endpoint: JavaEndpoint, wire_version: int) -> str: ...

    def load(self, name: str, class_name: str, config_wire: str) -> str: ...

    def execute(self, name: str, event_wire: str) -> str: ...

    def run_callable(self, handle: int) -> str: ...

    def close(self) -> None: ...


RuntimeFactory = Callable[[], JavaRuntime]

_JAVA_CALL_ERROR = f"{JavaCallError.__module__}.{JavaCallError.__qualname__}"


class _JavaCall:
    """The Python side of a Java durable call: asks the bridge to make it (on a journal miss)."""

    __slots__ = ("_handle", "_runtime")

    def __init__(self, runtime: JavaRuntime, handle: int) -> None:
        self._runtime = runtime
        self._handle = handle

    def __call__(self) -> Any:
        good, body = wire.parse_answer(self._runtime.run_callable(self._handle))
        if good:
            return wire.decode(body)
        raise JavaCallError(
            f"{body.get('class', body.get('type'))}: {body.get('message', '')}",
            java_class=str(body.get("class", body.get("type"))),
            java_message=str(body.get("message", "")),
            java_stack=str(body.get("stack", "")),
        )


class JavaEndpoint:
    """What the Java bridge calls: each method answers ``"=" + value`` or ``"!" + error`` and
    acts for the execution the operator is running (:meth:`JavaActions.run` switches it)."""

    def __init__(self, services: ExecutionServices, types: wire.EventTypes) -> None:
        self._services = services
        self._types = types
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

    @staticmethod
    def _answer(op: Callable[[], Any]) -> str:
        try:
            return wire.ok(op())
        except JavaCallError as e:
            return wire.failure(
                "JavaCallError",
                e.java_message,
                **{"class": e.java_class, "stack": e.java_stack},
            )
        except DurableCallError as e:  # a recorded failure that could not be rebuilt as itself
            if e.type_name == _JAVA_CALL_ERROR:
                java_class, _, message = e.error_message.partition(": ")
                return wire.failure(
                    "JavaCallError", message, **{"class": java_class, "stack": e.remote_traceback}
                )
            return wire.failure(type(e).__name__, str(e))
        except Exception as e:
            return wire.failure(type(e).__name__, str(e))

    def _memory(self, memory: str, base: str) -> MemoryObject:
        """The memory object the bridge names, once a Java action is running."""
        self._current()
        tree = self._trees.get(memory)
        if tree is None:
            raise OperatorStateError(f"the Java bridge named an unknown memory {memory!r}")
        return MemoryObject(tree, base)

    @staticmethod
    def _out(value: Any) -> Any:
        if isinstance(value, MemoryObject):
            return wire.MemoryObjectPath(value.memory_type, value.path)
        return value

    # -- memory --------------------------------------------------------------------------------

    def memory_get(self, memory: str, base: str, path: str) -> str:
        return self._answer(lambda: self._out(self._memory(memory, base).get(path)))

    def memory_set(self, memory: str, base: str, path: str, value_wire: str) -> str:
        return self._answer(lambda: self._memory(memory, base).set(path, wire.decode(value_wire)))

    def memory_new_object(self, memory: str, base: str, path: str, overwrite: bool) -> str:
        return self._answer(
            lambda: self._out(self._memory(memory, base).new_object(path, bool(overwrite)))
        )

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

    def durable_execute(self, call_id: str, handle: int) -> str:
        def op() -> Any:
            execution = self._current()
            runtime = self.runtime
            if runtime is None:
                raise OperatorStateError("a Java durable call arrived before the bridge opened")
            fn = DurableFunction(_JavaCall(runtime, int(handle)), call_id=str(call_id))
            return execution.durable_execute(fn, (), {})

        return self._answer(op)


class JavaActions:
    """The Java actions of one operator: opens the bridge on first use, loads each action class
    once, and runs steps with the endpoint switched to the running execution."""

    def __init__(
        self, services: ExecutionServices, plan: AgentPlan, runtime_factory: RuntimeFactory
    ) -> None:
        classes = {t for a in plan.actions for t in a.listen_to}
        self._endpoint = JavaEndpoint(services, wire.EventTypes(sorted(classes, key=str)))
        self._factory = runtime_factory
        self._runtime: JavaRuntime | None = None
        self._loaded: set[str] = set()

    def body(self, spec: ActionSpec) -> ActionBody:
        """The body that runs ``spec`` (a Java action) over an execution."""

        def run(execution: ActionExecution) -> None:
            self.run(spec, execution)

        return run

    def _open(self) -> JavaRuntime:
        runtime = self._runtime
        if runtime is None:
            runtime = self._factory()
            good, body = wire.parse_answer(runtime.open(self._endpoint, wire.WIRE_VERSION))
            if not good:
                runtime.close()
                raise JavaBridgeError(str(body.get("message", body)))
            self._endpoint.runtime = runtime
            self._runtime = runtime
        return runtime

    def run(self, spec: ActionSpec, execution: ActionExecution) -> None:
        """Run ``spec`` on the execution's event to the end (Java actions are synchronous)."""
        runtime = self._open()
        if spec.name not in self._loaded:
            good, body = wire.parse_answer(
                runtime.load(spec.name, java_class_of(spec), wire.encode(dict(spec.config)))
            )
            if not good:
                raise JavaBridgeError(str(body.get("message", body)))
            self._loaded.add(spec.name)
        event_wire = wire.encode_event(execution.event)
        endpoint = self._endpoint
        endpoint.execution = execution
        try:
            answer = runtime.execute(spec.name, event_wire)
        finally:
            endpoint.execution = None
        good, body = wire.parse_answer(answer)
        if not good:
            java_class = str(body.get("class", body.get("type")))
            message = str(body.get("message", ""))
            raise JavaActionError(
                f"{java_class}: {message}",
                java_class=java_class,
                java_message=message,
                java_stack=str(body.get("stack", "")),
            )

    def close(self) -> None:
        runtime, self._runtime = self._runtime, None
        self._loaded.clear()
        self._endpoint.runtime = None
        if runtime is not None:
            runtime.close()


def java_class_of(spec: ActionSpec) -> str:
    """The Java class name of a Java action."""
    target = spec.func
    name = getattr(target, "class_name", None)
    if not isinstance(name, str):
        raise FlinkAgentsError(f"action '{spec.name}' is not a Java action")
    return name
