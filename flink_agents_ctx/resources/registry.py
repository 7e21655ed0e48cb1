"""Lazily built, per-operator resources.

A resource is created the first time an action asks for it and closed when the operator closes.
Resources are shared by every action, so they must not hold "the current action" in a field:
instead a resource built with a :class:`ResourceContext` reads ``resource_context.metric_group``,
which resolves to the metric group of the action that is calling *right now* on *this* thread (a
context variable, copied into worker threads together with the rest of the call's context).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Mapping
from typing import Any

from flink_agents_ctx.agent import ResourceSpec
from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.errors import UnknownResourceError
from flink_agents_ctx.mailbox import Mailbox
from flink_agents_ctx.metrics.group import MetricGroup
from flink_agents_ctx.types import ResourceType

_log = logging.getLogger(__name__)

current_action_metric_group: contextvars.ContextVar[MetricGroup | None] = contextvars.ContextVar(
    "flink_agents_ctx_current_action_metric_group", default=None
)


class ResourceContext:
    """What a resource factory may receive: the config, other resources, the caller's metrics."""

    def __init__(self, registry: ResourceRegistry, fallback_group: MetricGroup) -> None:
        self._registry = registry
        self._fallback = fallback_group

    @property
    def config(self) -> AgentConfig:
        return self._registry.config

    @property
    def metric_group(self) -> MetricGroup:
        """The metric group of the action calling the resource now (agent group outside actions)."""
        return current_action_metric_group.get() or self._fallback

    def get_resource(self, name: str, resource_type: ResourceType) -> Any:
        """Another resource this one depends on."""
        return self._registry.get(name, resource_type)


class ResourceRegistry:
    """Builds each declared resource once, on first use; closes them in reverse order."""

    def __init__(
        self,
        specs: Mapping[str, ResourceSpec],
        config: AgentConfig,
        agent_group: MetricGroup,
        mailbox: Mailbox,
    ) -> None:
        self._specs = dict(specs)
        self._mailbox = mailbox
        self.config = config
        self._context = ResourceContext(self, agent_group)
        self._built: dict[str, Any] = {}

    def get(self, name: str, resource_type: ResourceType) -> Any:
        """The resource, built on first use. Only on the mailbox thread: building is not locked."""
        self._mailbox.check("get_resource")
        spec = self._specs.get(name)
        if spec is None or spec.type != resource_type:
            declared = ", ".join(f"{s.name} ({s.type.value})" for s in self._specs.values())
            if spec is not None:
                hint = f"'{name}' is declared as {spec.type.value}, not {resource_type.value}"
            else:
                hint = "declare it with agent.add_resource(name, type, factory)"
            raise UnknownResourceError(
                f"unknown resource '{name}' of type {getattr(resource_type, 'value', resource_type)}"
                f"; {hint}. Declared: {declared or 'none'}",
                name=name,
                resource_type=str(getattr(resource_type, "value", resource_type)),
            )
        if name not in self._built:
            self._built[name] = (
                spec.factory(self._context) if spec.takes_context else spec.factory()
            )
        return self._built[name]

    def declared_type(self, name: str) -> ResourceType | None:
        """The type ``name`` is declared with, or ``None``."""
        spec = self._specs.get(name)
        return None if spec is None else spec.type

    def close(self) -> None:
        """Close every built resource that has ``close()``; errors are logged, not raised."""
        for name, resource in reversed(list(self._built.items())):
            close = getattr(resource, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:
                    _log.exception("closing resource '%s' failed", name)
        self._built.clear()
