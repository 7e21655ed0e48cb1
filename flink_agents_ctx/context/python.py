"""The runner context of Python actions."""

from __future__ import annotations

from flink_agents_ctx.context.common import BaseRunnerContext
from flink_agents_ctx.events import Event, check_json_serialisable


class PythonRunnerContext(BaseRunnerContext):
    """Context for Python actions: events must be JSON-serialisable so that they can be stored,
    journaled and handed to actions written in other languages."""

    def _validate_event(self, event: Event) -> None:
        check_json_serialisable(event)
