"""Agent definitions: actions, the events they listen to, and resources.

An agent is declared once on the client, shipped to the TaskManagers with the operator, and compiled
into an :class:`AgentPlan` (an immutable dispatch table) when the operator opens::

    class MyAgent(Agent):
        @action(InputEvent)
        @staticmethod
        def start(event: InputEvent, ctx: RunnerContext) -> None:
            ctx.send_event(OutputEvent(output=event.input))
"""

from __future__ import annotations

import enum
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from flink_agents_ctx.errors import AgentDefinitionError, JavaBridgeError
from flink_agents_ctx.events import Event
from flink_agents_ctx.types import ActionKind, ResourceType
from flink_agents_ctx.values import EVENT_FIELD, find_problem

_ACTION_ATTR = "__flink_agents_action__"


class FailurePolicy(str, enum.Enum):
    """What an exception raised by an action does (``@action(..., on_failure=...)``)."""

    FAIL = "fail"
    """The job fails and restarts from its last checkpoint (the action's journal is kept)."""
    EMIT = "emit"
    """The run goes on with an ActionFailedEvent; the failed action's journal is dropped."""


@dataclass(frozen=True)
class ActionSpec:
    """One action: its name, the event types it listens to, the callable and its own config."""

    name: str
    listen_to: tuple[type[Event], ...]
    func: Callable[..., Any]
    kind: ActionKind = ActionKind.PYTHON
    config: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    on_failure: FailurePolicy = FailurePolicy.FAIL
    is_async: bool = field(init=False)
    """Whether the action is an ``async def`` coroutine function."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_async", inspect.iscoroutinefunction(self.func))


@dataclass(frozen=True)
class JavaClass:
    """The Java class of a Java action: it stands where a Python action has its function."""

    class_name: str

    def __call__(self, event: Any, ctx: Any) -> None:
        raise AgentDefinitionError(
            f"{self.class_name} is a Java action; it runs inside the TaskManager JVM of a "
            "thread-mode job, not as a Python function"
        )


_JAVA_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*")


@dataclass(frozen=True)
class ResourceSpec:
    """A declared resource: built lazily, once per operator, by ``factory``."""

    name: str
    type: ResourceType
    factory: Callable[..., Any]
    takes_context: bool


@dataclass(frozen=True)
class JavaResourceSpec:
    """A resource built in the JVM from a Java class, for Java actions."""

    name: str
    type: ResourceType
    class_name: str
    config: Mapping[str, Any]

    def __call__(self) -> Any:
        # Stands as the factory of its ResourceSpec, so a Python action asking for it learns why.
        raise JavaBridgeError(
            f"resource '{self.name}' is a Java resource ({self.class_name}), built in the JVM for "
            "Java actions; a Python action cannot use it. Declare a Python resource with "
            "agent.add_resource(...) for Python actions"
        )


@dataclass(frozen=True)
class _ActionMark:
    listen_to: tuple[type[Event], ...]
    config: Mapping[str, Any]
    on_failure: FailurePolicy


def _check_failure_policy(where: str, on_failure: str) -> FailurePolicy:
    try:
        return FailurePolicy(on_failure)
    except ValueError:
        raise AgentDefinitionError(
            f"{where}: on_failure is {on_failure!r}; use 'fail' (the job fails and restarts) or "
            "'emit' (an ActionFailedEvent continues the run)"
        ) from None


def action(
    *listen_to: type[Event], on_failure: str = "fail", **action_config: Any
) -> Callable[[Any], Any]:
    """Mark a static method of an :class:`Agent` subclass as an action.

    Args:
        *listen_to: event types that trigger the action (subclasses of them trigger it too).
        on_failure: ``"fail"`` (default): an exception fails the job, which restarts from its
            last checkpoint. ``"emit"``: the run continues with an
            :class:`~flink_agents_ctx.ActionFailedEvent` instead, so an input whose recorded
            failure replays on every restore cannot stop the job.
        **action_config: the action's own settings, read with ``ctx.action_config`` or
            ``ctx.get_action_config_value(key)``.

    Works written above or below ``@staticmethod``.
    """
    events = _check_event_types("@action", listen_to)
    mark = _ActionMark(
        events, MappingProxyType(dict(action_config)), _check_failure_policy("@action", on_failure)
    )

    def decorate(target: Any) -> Any:
        func = target.__func__ if isinstance(target, staticmethod) else target
        if not callable(func):
            raise AgentDefinitionError(f"@action must decorate a function, got {target!r}")
        setattr(func, _ACTION_ATTR, mark)
        return target

    return decorate


def _check_event_types(where: str, listen_to: tuple[Any, ...]) -> tuple[type[Event], ...]:
    if not listen_to:
        raise AgentDefinitionError(f"{where} needs at least one event type to listen to")
    for t in listen_to:
        if not (isinstance(t, type) and issubclass(t, Event)):
            raise AgentDefinitionError(
                f"{where}: {t!r} is not an Event subclass; pass event classes such as InputEvent"
            )
    return tuple(listen_to)


def _check_action_signature(name: str, func: Callable[..., Any]) -> None:
    try:
        inspect.signature(func).bind(None, None)
    except TypeError as e:
        raise AgentDefinitionError(
            f"action '{name}' must take exactly (event, ctx); its signature is "
            f"{inspect.signature(func)}"
        ) from e


def _takes_context(name: str, factory: Callable[..., Any]) -> bool:
    signature = inspect.signature(factory)
    for args in ((None,), ()):
        try:
            signature.bind(*args)
        except TypeError:
            continue
        return bool(args)
    raise AgentDefinitionError(
        f"resource '{name}': the factory must take no argument or one ResourceContext; its "
        f"signature is {signature}"
    )


class Agent:
    """Base class of user agents.

    Actions are static methods marked with :func:`action`, or added with :meth:`add_action`.
    Resources are added with :meth:`add_resource` and obtained in actions with
    ``ctx.get_resource(name, type)``.
    """

    def __init__(self) -> None:
        self._actions: dict[str, ActionSpec] = {}
        self._resources: dict[str, ResourceSpec] = {}
        # Class attributes in definition order, base classes first, so dispatch order is stable.
        for klass in reversed(type(self).__mro__):
            for attr_name, attr in vars(klass).items():
                func = attr.__func__ if isinstance(attr, staticmethod) else attr
                mark = getattr(func, _ACTION_ATTR, None)
                if not isinstance(mark, _ActionMark):
                    # A subclass attribute of the same name replaces an inherited action.
                    self._actions.pop(attr_name, None)
                else:
                    if not isinstance(attr, staticmethod):
                        raise AgentDefinitionError(
                            f"action '{attr_name}' of {type(self).__name__} must be a "
                            "@staticmethod (actions receive (event, ctx), not self)"
                        )
                    self._actions.pop(attr_name, None)
                    self._register(
                        attr_name, mark.listen_to, func, dict(mark.config), mark.on_failure
                    )

    def add_action(
        self,
        name: str,
        listen_to: list[type[Event]] | tuple[type[Event], ...],
        func: Callable[..., Any],
        *,
        on_failure: str = "fail",
        **action_config: Any,
    ) -> Agent:
        """Add an action programmatically; returns the agent for chaining (arguments as for
        :func:`action`)."""
        if name in self._actions:
            raise AgentDefinitionError(f"the agent already has an action named '{name}'")
        events = _check_event_types(f"add_action('{name}')", tuple(listen_to))
        policy = _check_failure_policy(f"add_action('{name}')", on_failure)
        self._register(name, events, func, action_config, policy)
        return self

    def add_java_action(
        self,
        name: str,
        class_name: str,
        listen_to: list[type[Event]] | tuple[type[Event], ...],
        *,
        on_failure: str = "fail",
        **action_config: Any,
    ) -> Agent:
        """Add an action written in Java; returns the agent for chaining.

        Args:
            name: the action's name in the agent.
            class_name: a class implementing ``flinkagentsctx.api.Action`` with a public
                no-argument constructor, in a jar the job ships (``env.add_jars(...)`` or
                ``pipeline.jars``).
            listen_to, on_failure, **action_config: as for :func:`action`; the settings must
                have a wire form (JSON data, bytes), the Java action reads them with
                ``ctx.getActionConfig()``.

        Java actions need thread mode (``python.execution-mode: thread``, the default of
        :class:`~flink_agents_ctx.AgentsExecutionEnvironment`).
        """
        if name in self._actions:
            raise AgentDefinitionError(f"the agent already has an action named '{name}'")
        if not isinstance(class_name, str) or not _JAVA_NAME.fullmatch(class_name):
            raise AgentDefinitionError(
                f"add_java_action('{name}'): class_name {class_name!r} is not a Java class name; "
                "give the binary name, such as 'com.example.ScoreAction' (nested classes: "
                "'com.example.Outer$Inner')"
            )
        events = _check_event_types(f"add_java_action('{name}')", tuple(listen_to))
        policy = _check_failure_policy(f"add_java_action('{name}')", on_failure)
        problem = find_problem(action_config, EVENT_FIELD)
        if problem is not None:
            raise AgentDefinitionError(
                f"add_java_action('{name}'): setting{problem.where} {problem.reason}; Java "
                "action settings must be JSON data (None, bool, int, float, str, bytes, lists, "
                "str-keyed dicts)"
            )
        self._actions[name] = ActionSpec(
            name,
            events,
            JavaClass(class_name),
            ActionKind.JAVA,
            MappingProxyType(dict(action_config)),
            policy,
        )
        return self

    def add_java_resource(
        self, name: str, resource_type: ResourceType, class_name: str, **config: Any
    ) -> Agent:
        """Declare a resource of Java actions: an instance of ``class_name`` built in the JVM on
        first use (``ctx.getResource(name, type)`` from Java), once per operator, and closed with
        the operator when it is ``AutoCloseable``. The class needs a public constructor taking a
        ``Map<String, Object>`` (it gets ``config``) or none. Returns the agent for chaining."""
        if not isinstance(resource_type, ResourceType):
            raise AgentDefinitionError(
                f"resource '{name}': type must be a ResourceType, got {resource_type!r}"
            )
        if name in self._resources:
            raise AgentDefinitionError(f"the agent already has a resource named '{name}'")
        if not isinstance(class_name, str) or not _JAVA_NAME.fullmatch(class_name):
            raise AgentDefinitionError(
                f"add_java_resource('{name}'): class_name {class_name!r} is not a Java class name"
            )
        problem = find_problem(config, EVENT_FIELD)
        if problem is not None:
            raise AgentDefinitionError(
                f"add_java_resource('{name}'): setting{problem.where} {problem.reason}; settings "
                "must be JSON data"
            )
        java = JavaResourceSpec(name, resource_type, class_name, MappingProxyType(dict(config)))
        self._resources[name] = ResourceSpec(name, resource_type, java, False)
        return self

    def add_resource(
        self, name: str, resource_type: ResourceType, factory: Callable[..., Any]
    ) -> Agent:
        """Declare a resource built lazily by ``factory`` (no argument, or a ResourceContext)."""
        if not isinstance(resource_type, ResourceType):
            raise AgentDefinitionError(
                f"resource '{name}': type must be a ResourceType, got {resource_type!r}"
            )
        if name in self._resources:
            raise AgentDefinitionError(f"the agent already has a resource named '{name}'")
        if not callable(factory):
            raise AgentDefinitionError(f"resource '{name}': factory {factory!r} is not callable")
        self._resources[name] = ResourceSpec(
            name, resource_type, factory, _takes_context(name, factory)
        )
        return self

    def _register(
        self,
        name: str,
        listen_to: tuple[type[Event], ...],
        func: Callable[..., Any],
        config: Mapping[str, Any],
        on_failure: FailurePolicy = FailurePolicy.FAIL,
    ) -> None:
        if not callable(func):
            raise AgentDefinitionError(f"action '{name}': {func!r} is not callable")
        _check_action_signature(name, func)
        self._actions[name] = ActionSpec(
            name, listen_to, func, ActionKind.PYTHON, MappingProxyType(dict(config)), on_failure
        )

    @property
    def actions(self) -> Mapping[str, ActionSpec]:
        """The agent's actions by name, in dispatch order."""
        return MappingProxyType(self._actions)

    @property
    def resources(self) -> Mapping[str, ResourceSpec]:
        """The agent's declared resources by name."""
        return MappingProxyType(self._resources)

    def plan(self) -> AgentPlan:
        """Compile the agent into an immutable dispatch plan."""
        if not self._actions:
            raise AgentDefinitionError(
                f"{type(self).__name__} has no actions; mark static methods with @action(...)"
            )
        return AgentPlan(
            tuple(self._actions.values()), dict(self._resources), type(self).__qualname__
        )


class AgentPlan:
    """Which actions run for which event type, in a fixed order."""

    def __init__(
        self,
        actions: tuple[ActionSpec, ...],
        resources: dict[str, ResourceSpec],
        name: str = "agent",
    ) -> None:
        self.name = name
        self.actions = actions
        self.resources = resources
        self.by_name = {a.name: a for a in actions}
        self._dispatch: dict[type[Event], tuple[ActionSpec, ...]] = {}

    @property
    def event_classes(self) -> tuple[type[Event], ...]:
        """The event classes the actions listen to, in a stable order."""
        found = {t for a in self.actions for t in a.listen_to}
        return tuple(sorted(found, key=lambda t: t.type_name()))

    def actions_for(self, event_type: type[Event]) -> tuple[ActionSpec, ...]:
        """Actions listening to ``event_type`` or one of its base classes, in declaration order."""
        found = self._dispatch.get(event_type)
        if found is None:
            mro = event_type.__mro__
            found = tuple(a for a in self.actions if any(t in mro for t in a.listen_to))
            self._dispatch[event_type] = found
        return found
