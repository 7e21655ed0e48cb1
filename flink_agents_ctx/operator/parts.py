"""``OperatorParts``: what an operator core is made of (built by
:func:`~flink_agents_ctx.operator.wiring.build_operator`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from flink_agents_ctx.agent import AgentPlan
from flink_agents_ctx.backends.protocols import KeySwitch
from flink_agents_ctx.durable.journal import KeyedJournals
from flink_agents_ctx.event_log import EventLog
from flink_agents_ctx.execution.action_execution import ActionBody
from flink_agents_ctx.execution.services import ExecutionServices
from flink_agents_ctx.memory.write_behind import WriteBehind
from flink_agents_ctx.operator.progress import ProgressFile
from flink_agents_ctx.operator.runs import KeyRuns
from flink_agents_ctx.operator.wakeups import Wakeups


@dataclass(frozen=True, eq=False)
class OperatorParts:
    """The collaborators of one :class:`~flink_agents_ctx.operator.core.OperatorCore`."""

    plan: AgentPlan
    services: ExecutionServices
    runs: KeyRuns
    journals: KeyedJournals
    key_switch: KeySwitch | None
    wakeups: Wakeups
    bodies: Mapping[str, ActionBody]
    housekeeping: Callable[[], None] | None = None
    closers: tuple[Callable[[], None], ...] = field(default=())
    progress: ProgressFile | None = None
    event_log: EventLog | None = None
    #: Starts holding committed short-term memory writes back until checkpoint barriers, once
    #: the operator calls before each (``short-term-memory.write-behind``); None: never.
    defer_writes: Callable[[], WriteBehind] | None = None
