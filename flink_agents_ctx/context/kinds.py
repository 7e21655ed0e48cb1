"""Which runner context serves which kind of action."""

from __future__ import annotations

from collections.abc import Callable

from flink_agents_ctx.context.common import BaseRunnerContext, ContextServices
from flink_agents_ctx.context.python import PythonRunnerContext
from flink_agents_ctx.types import ActionKind

ContextFactory = Callable[[ContextServices], BaseRunnerContext]

_FACTORIES: dict[ActionKind, ContextFactory] = {ActionKind.PYTHON: PythonRunnerContext}


def register_context_kind(kind: ActionKind, factory: ContextFactory) -> None:
    """Make actions of ``kind`` run with contexts built by ``factory``."""
    _FACTORIES[kind] = factory


def context_factories() -> dict[ActionKind, ContextFactory]:
    """The registered factories by kind."""
    return dict(_FACTORIES)
