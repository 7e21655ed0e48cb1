"""The operator's built-in metrics, named as Apache Flink Agents users know them."""

from __future__ import annotations

from flink_agents_ctx.backends.protocols import Counter, Meter
from flink_agents_ctx.metrics.group import MetricGroup

EVENTS_PROCESSED = "numOfEventProcessed"
EVENTS_PROCESSED_RATE = "numOfEventProcessedPerSec"
ACTIONS_EXECUTED = "numOfActionsExecuted"
ACTIONS_EXECUTED_RATE = "numOfActionsExecutedPerSec"
ACTION_GROUP_KEY = "action"


class BuiltinMetrics:
    """Counts events and action executions, agent-wide and per action (group ``action=<name>``)."""

    def __init__(self, agent_group: MetricGroup) -> None:
        self._agent = agent_group
        self._events: Counter = agent_group.get_counter(EVENTS_PROCESSED)
        self._events_rate: Meter = agent_group.get_meter(EVENTS_PROCESSED_RATE)
        self._actions: Counter = agent_group.get_counter(ACTIONS_EXECUTED)
        self._actions_rate: Meter = agent_group.get_meter(ACTIONS_EXECUTED_RATE)
        self._per_action: dict[str, tuple[MetricGroup, Counter, Meter]] = {}

    def action_group(self, action: str) -> MetricGroup:
        """The key-value group ``action=<action>`` (also what ``ctx.action_metric_group`` is)."""
        return self._for_action(action)[0]

    def _for_action(self, action: str) -> tuple[MetricGroup, Counter, Meter]:
        found = self._per_action.get(action)
        if found is None:
            group = self._agent.get_sub_group(ACTION_GROUP_KEY, action)
            found = (
                group,
                group.get_counter(ACTIONS_EXECUTED),
                group.get_meter(ACTIONS_EXECUTED_RATE),
            )
            self._per_action[action] = found
        return found

    def event_processed(self, n: int = 1) -> None:
        self._events.inc(n)
        self._events_rate.mark_event(n)

    def action_executed(self, action: str) -> None:
        _, counter, meter = self._for_action(action)
        counter.inc()
        meter.mark_event()
        self._actions.inc()
        self._actions_rate.mark_event()
