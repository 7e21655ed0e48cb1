"""The operator's built-in metrics, named as Apache Flink Agents users know them.

Counting happens in Python ints and is pushed to the backend (PyFlink counters and meters, one JVM
call each) at most every ``flush_interval_s`` and on close: per-record JVM calls for bookkeeping
would cost more than the agent's own state access. Reported values lag by at most that interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flink_agents_ctx.backends.protocols import Counter, Meter
from flink_agents_ctx.metrics.group import MetricGroup

EVENTS_PROCESSED = "numOfEventProcessed"
EVENTS_PROCESSED_RATE = "numOfEventProcessedPerSec"
ACTIONS_EXECUTED = "numOfActionsExecuted"
ACTIONS_EXECUTED_RATE = "numOfActionsExecutedPerSec"
ACTION_GROUP_KEY = "action"
DURABLE_CALLS_MADE = "numOfDurableCallsMade"
DURABLE_CALLS_REPLAYED = "numOfDurableCallsReplayed"
JOURNAL_MISMATCHES = "numOfJournalMismatches"


class Tally:
    """A count pushed to a counter and a meter in batches. The operator's hot path counts by
    adding to :attr:`pending` (an int, no call); :meth:`BuiltinMetrics.flush` pushes it."""

    __slots__ = ("counter", "meter", "pending", "pushed")

    def __init__(self, group: MetricGroup, counter_name: str, meter_name: str) -> None:
        self.counter: Counter = group.get_counter(counter_name)
        self.meter: Meter = group.get_meter(meter_name)
        self.pending = 0
        self.pushed = 0

    def push(self) -> None:
        if self.pending:
            n, self.pending = self.pending, 0
            self.pushed += n
            self.counter.inc(n)
            self.meter.mark_event(n)


class BuiltinMetrics:
    """Counts events and action executions, agent-wide and per action (group ``action=<name>``)."""

    def __init__(
        self,
        agent_group: MetricGroup,
        flush_interval_s: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._agent = agent_group
        self._events = Tally(agent_group, EVENTS_PROCESSED, EVENTS_PROCESSED_RATE)
        self._actions = Tally(agent_group, ACTIONS_EXECUTED, ACTIONS_EXECUTED_RATE)
        self._per_action: dict[str, tuple[MetricGroup, Tally]] = {}
        self._interval = flush_interval_s
        self._clock = clock
        self._next_flush = clock() + flush_interval_s
        self._sources: list[tuple[Counter, Callable[[], int], list[int]]] = []

    @property
    def agent_group(self) -> MetricGroup:
        """The agent-wide group (what ``ctx.agent_metric_group`` is)."""
        return self._agent

    def count_from(self, name: str, read: Callable[[], int]) -> None:
        """Report the running total ``read()`` as the agent-wide counter ``name`` (pushed with the
        other counts)."""
        self._sources.append((self._agent.get_counter(name), read, [0]))

    @property
    def actions_executed(self) -> int:
        """Action executions counted since this instance was made (pushed or not)."""
        per_action = sum(tally.pending for _, tally in self._per_action.values())
        return self._actions.pushed + self._actions.pending + per_action

    def action_group(self, action: str) -> MetricGroup:
        """The key-value group ``action=<action>`` (also what ``ctx.action_metric_group`` is)."""
        return self._for_action(action)[0]

    def _for_action(self, action: str) -> tuple[MetricGroup, Tally]:
        found = self._per_action.get(action)
        if found is None:
            group = self._agent.get_sub_group(ACTION_GROUP_KEY, action)
            found = (group, Tally(group, ACTIONS_EXECUTED, ACTIONS_EXECUTED_RATE))
            self._per_action[action] = found
        return found

    @property
    def events(self) -> Tally:
        """The agent-wide count of events processed (add to its ``pending``)."""
        return self._events

    def action_tally(self, action: str) -> Tally:
        """The count of executions of ``action`` (add to its ``pending``; the agent-wide count
        follows at the next flush)."""
        return self._for_action(action)[1]

    def event_processed(self) -> None:
        self._events.pending += 1

    def action_executed(self, action: str) -> None:
        self._for_action(action)[1].pending += 1

    def maybe_flush(self) -> None:
        """Push counts when the flush interval has passed (call once per input)."""
        now = self._clock()
        if now >= self._next_flush:
            self._next_flush = now + self._interval
            self.flush()

    def flush(self) -> None:
        """Push every pending count now."""
        self._events.push()
        executed = 0
        for _, tally in self._per_action.values():
            executed += tally.pending
            tally.push()
        self._actions.pending += executed
        self._actions.push()
        for counter, read, pushed in self._sources:
            total = read()
            if total != pushed[0]:
                counter.inc(total - pushed[0])
                pushed[0] = total
