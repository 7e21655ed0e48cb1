"""Running Java actions: one bridge per operator, opened on the first Java action execution.

Each Java action's body asks the bridge to run it on the execution's event, with the endpoint
(:mod:`flink_agents_ctx.context.java`) switched to that execution. Two ways, chosen when the bridge
opens:

- suspendable (JDK 21, continuations available): the body is a coroutine. The action runs in a
  continuation; ``durableExecuteAsync`` leaves the call to a Java thread and suspends it, the
  coroutine awaits the call's future like a Python action, and the operator parks the execution
  and serves other keys. When the call ended, its outcome is journaled on the task thread and the
  continuation resumes there.
- synchronous (JDK 17): the body runs the action to its end; ``durableExecuteAsync`` is a
  synchronous journaled call.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

from flink_agents_ctx import wire
from flink_agents_ctx.agent import ActionSpec, AgentPlan, JavaResourceSpec
from flink_agents_ctx.context.java import (
    JavaAsyncCalls,
    JavaEndpoint,
    JavaRuntime,
    RuntimeFactory,
    java_failure,
)
from flink_agents_ctx.errors import FlinkAgentsError, JavaActionError, JavaBridgeError
from flink_agents_ctx.execution.action_execution import ActionBody, ActionExecution
from flink_agents_ctx.execution.services import ExecutionServices

_log = logging.getLogger(__name__)


def java_class_of(spec: ActionSpec) -> str:
    """The Java class name of a Java action."""
    name = getattr(spec.func, "class_name", None)
    if not isinstance(name, str):
        raise FlinkAgentsError(f"action '{spec.name}' is not a Java action")
    return name


def _raise_failure(answer: str) -> None:
    good, body = wire.parse_answer(answer)
    if not good:
        raise java_failure(body, JavaActionError)


class JavaActions:
    """The Java actions of one operator (see the module docstring)."""

    def __init__(
        self, services: ExecutionServices, plan: AgentPlan, runtime_factory: RuntimeFactory
    ) -> None:
        self._resources = [
            spec.factory
            for spec in plan.resources.values()
            if isinstance(spec.factory, JavaResourceSpec)
        ]
        self._calls = JavaAsyncCalls(services.executor)
        services.executor.add_source(self._calls)
        self._endpoint = JavaEndpoint(services, wire.EventTypes(plan.event_classes), self._calls)
        self._threads = services.executor.threads
        self._factory = runtime_factory
        self._runtime: JavaRuntime | None = None
        self._suspendable = False
        self._loaded: set[str] = set()
        self._tokens = itertools.count()

    def body(self, spec: ActionSpec) -> ActionBody:
        """The body that runs ``spec`` (a Java action) over an execution."""
        return _JavaBody(self, spec)

    @property
    def suspendable(self) -> bool:
        """Whether actions run in continuations (opens the bridge; when it cannot open, the
        action's body raises why, as the action's failure)."""
        try:
            self._open()
        except JavaBridgeError:
            return False
        return self._suspendable

    def _open(self) -> JavaRuntime:
        runtime = self._runtime
        if runtime is None:
            runtime = self._factory()
            good, body = wire.parse_answer(
                runtime.open(self._endpoint, wire.WIRE_VERSION, self._threads)
            )
            if not good:
                runtime.close()
                raise JavaBridgeError(str(body.get("message", body)))
            facts = wire.decode(body)
            self._suspendable = facts.get("continuations") is True
            _log.info(
                "Java bridge open on Java %s: %s",
                facts.get("java_version"),
                "actions are suspended on durableExecuteAsync"
                if self._suspendable
                else "durableExecuteAsync is synchronous ("
                f"{facts.get('continuations_unavailable')})",
            )
            for resource in self._resources:
                runtime.declare_resource(
                    resource.name,
                    resource.type.value,
                    resource.class_name,
                    wire.encode(dict(resource.config)),
                )
            self._endpoint.runtime = runtime
            self._calls.runtime = runtime
            self._runtime = runtime
        return runtime

    def _prepare(self, spec: ActionSpec) -> JavaRuntime:
        runtime = self._open()
        if spec.name not in self._loaded:
            good, body = wire.parse_answer(
                runtime.load(spec.name, java_class_of(spec), wire.encode(dict(spec.config)))
            )
            if not good:
                raise JavaBridgeError(str(body.get("message", body)))
            self._loaded.add(spec.name)
        return runtime

    def _step(self, execution: ActionExecution, token: int | None, name: str, arg: str) -> str:
        """One call into the bridge with the endpoint acting for ``execution``."""
        runtime = self._runtime
        if runtime is None:
            raise JavaBridgeError("the Java bridge is closed")
        endpoint = self._endpoint
        endpoint.execution = execution
        try:
            if token is None:
                return runtime.execute(name, arg)
            if name:
                return runtime.start(token, name, arg)
            return runtime.resume(token, arg)
        finally:
            endpoint.execution = None

    def run(self, spec: ActionSpec, execution: ActionExecution) -> None:
        """Run ``spec`` on the execution's event to its end."""
        self._prepare(spec)
        event_wire = wire.encode_event(execution.event)
        _raise_failure(self._step(execution, None, spec.name, event_wire))

    async def run_suspendable(self, spec: ActionSpec, execution: ActionExecution) -> None:
        """Run ``spec`` in a continuation, awaiting each async call it waits on."""
        runtime = self._prepare(spec)
        event_wire = wire.encode_event(execution.event)
        token = next(self._tokens)
        endpoint = self._endpoint
        answer = self._step(execution, token, spec.name, event_wire)
        ended = answer != "~"
        try:
            while answer == "~":
                future, endpoint.waiting = endpoint.waiting, None
                if future is None:
                    raise JavaBridgeError(
                        f"Java action '{spec.name}' was suspended without waiting on a call"
                    )
                try:
                    reply = wire.ok(await future)
                except Exception as e:
                    reply = endpoint.error_answer(e)
                answer = self._step(execution, token, "", reply)
            ended = True
        finally:
            if not ended:  # cancelled while waiting: the execution was aborted
                runtime.cancel(token)
        _raise_failure(answer)

    def close(self) -> None:
        runtime, self._runtime = self._runtime, None
        self._loaded.clear()
        self._calls.clear()
        self._calls.runtime = None
        self._endpoint.runtime = None
        if runtime is not None:
            good, body = wire.parse_answer(runtime.close())
            if not good:
                _log.warning("closing the Java bridge: %s", body.get("message", body))


class _JavaBody:
    """The body of one Java action (see :class:`~flink_agents_ctx.execution.ActionBody`)."""

    __slots__ = ("_actions", "_spec")

    def __init__(self, actions: JavaActions, spec: ActionSpec) -> None:
        self._actions = actions
        self._spec = spec

    @property
    def is_async(self) -> bool:
        return self._actions.suspendable

    def __call__(self, execution: ActionExecution) -> Any:
        if self._actions.suspendable:
            return self._actions.run_suspendable(self._spec, execution)
        self._actions.run(self._spec, execution)
        return None
