"""One action execution, driven without an operator: start, park, snapshot, restore, replay,
commit and abort, on in-memory state with the real memory, journal and worker pool."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from flink_agents_ctx import (
    ActionExecutionError,
    ActionFailedEvent,
    Agent,
    InputEvent,
    OutputEvent,
    RunnerContext,
)
from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.context.python import python_body
from flink_agents_ctx.durable.execution_ref import ExecutionRef
from flink_agents_ctx.durable.records import CallStatus
from flink_agents_ctx.errors import OperatorStateError
from flink_agents_ctx.execution.action_execution import ActionExecution, Status
from flink_agents_ctx.execution.services import ExecutionServices
from flink_agents_ctx.operator.wiring import build_services
from flink_agents_ctx.testing.fakes import InMemoryKeyedState, InMemoryMetricBackend

CALLS: list[str] = []
GATE = threading.Event()


def lookup(x: int) -> int:
    CALLS.append("lookup")
    return x * 10


def gated(x: int) -> int:
    CALLS.append("gated")
    if not GATE.wait(10):
        raise TimeoutError("gate never opened")
    return x + 1


async def two_calls(event: InputEvent, ctx: RunnerContext) -> None:
    a = await ctx.durable_execute_async(lookup, event.input)
    ctx.short_term_memory.set("a", a)
    b = await ctx.durable_execute_async(gated, a)
    ctx.send_event(OutputEvent(output=b))


def failing(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.short_term_memory.set("half", True)
    ctx.send_event(OutputEvent(output="never"))
    raise ValueError("no luck")


def agent() -> Agent:
    return (
        Agent()
        .add_action("two_calls", [InputEvent], two_calls)
        .add_action("fails", [InputEvent], failing)
        .add_action("emits", [InputEvent], failing, on_failure="emit")
    )


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    CALLS.clear()
    GATE.clear()
    yield
    GATE.set()


class Operator:
    """What an execution needs from its operator: services over one key's state."""

    def __init__(self, snapshot: bytes | None = None) -> None:
        self.state = InMemoryKeyedState()
        if snapshot is not None:
            self.state.restore(snapshot)
        self.state.set_current_key("k")
        self.plan = agent().plan()
        self.services: ExecutionServices = build_services(
            self.plan, self.state, InMemoryMetricBackend(), AgentConfig({"num-async-threads": 2})
        )
        self.services.mailbox.enter()

    def execution(self, action: str, restored: bool = False) -> ActionExecution:
        spec = self.plan.by_name[action]
        return ActionExecution(
            self.services,
            spec,
            InputEvent(input=7),
            "k",
            1234,
            body=python_body(spec),
            identify=lambda: ExecutionRef("job", "k", 0, "digest", action, 0),
            restored=restored,
        )

    def memory(self) -> dict[str, Any]:
        tree = self.services.short_term
        try:
            return tree.to_dict()
        finally:
            tree.store.leave()

    def journal(self) -> dict[str, Any]:
        return {k: v[4] for k, v in self.state.map_state("flink-agents.action-journal").items()}


def resume_until_waiting_on_gate(execution: ActionExecution) -> None:
    deadline = time.monotonic() + 5
    while "gated" not in CALLS:
        assert time.monotonic() < deadline, "the first call never finished"
        time.sleep(0.005)
        if execution.has_news(time.monotonic()):
            assert execution.resume() is False
            execution.park()


def test_start_park_snapshot_restore_replay_commit() -> None:
    first = Operator()
    execution = first.execution("two_calls")
    assert execution.start() is False  # waits on lookup
    execution.park()
    assert execution.status is Status.PARKED
    assert first.journal() == {"0": CallStatus.PENDING.value}  # flushed: a checkpoint holds it
    resume_until_waiting_on_gate(execution)
    assert first.journal() == {"0": "SUCCEEDED", "1": "PENDING"}
    assert first.memory() == {}  # the parked execution's writes are not committed
    snapshot = first.state.snapshot()  # the checkpoint
    execution.abort(keep_journal=True)  # the job fails
    assert execution.status is Status.ABORTED
    first.services.executor.shutdown()

    restored = Operator(snapshot)
    again = restored.execution("two_calls", restored=True)
    GATE.set()
    assert again.start() is False  # lookup answers from the journal, gated is made again
    again.park()
    deadline = time.monotonic() + 5
    while not again.has_news(time.monotonic()):
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert again.resume() is True
    outcome = again.commit()
    assert [(type(e), e.output, e.source_timestamp) for e in outcome.events] == [
        (OutputEvent, 71, 1234)
    ]
    assert CALLS.count("lookup") == 1  # made once, in the first run
    assert restored.memory() == {"a": 70}
    assert restored.journal() == {}  # the execution is over: its journal is gone
    assert again.status is Status.COMMITTED
    restored.services.executor.shutdown()


def test_a_failure_aborts_and_keeps_the_journal_or_emits() -> None:
    op = Operator()
    failed = op.execution("fails")
    with pytest.raises(ActionExecutionError, match="no luck") as err:
        failed.start()
    assert isinstance(err.value.__cause__, ValueError)
    assert failed.status is Status.ABORTED
    assert op.memory() == {}  # nothing it wrote was committed

    emitted = op.execution("emits")
    assert emitted.start() is True
    outcome = emitted.commit()
    (event,) = outcome.events
    assert isinstance(event, ActionFailedEvent)
    assert (event.action, event.error_type, event.message) == ("emits", "ValueError", "no luck")
    assert op.memory() == {}


def test_lifecycle_steps_out_of_order_are_refused() -> None:
    op = Operator()
    execution = op.execution("fails")
    with pytest.raises(OperatorStateError, match="expected done"):
        execution.commit()
    with pytest.raises(OperatorStateError, match="expected waiting"):
        execution.park()
    execution.abort(keep_journal=False)
    with pytest.raises(OperatorStateError, match="expected new"):
        execution.start()
