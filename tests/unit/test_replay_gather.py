"""Regression: replaying an action whose ``asyncio.gather`` branches each make several calls.

Defect guarded here: calls were numbered in the order they were issued, and a call answered from
the journal completes without yielding to the event loop. On replay one branch therefore runs
through all its recorded calls before the next branch starts, so the calls are issued (and
numbered) in another order than in the first run, which depended on the order the calls finished.
A restored run then made finished calls again (lenient mode) or raised
``NonDeterministicReplayError`` (strict mode) although the action is deterministic.

Every call is held by its own gate, so each test decides the order in which calls finish. Only the
public harness is used: snapshots, restores, and the statuses of the journal records.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from flink_agents_ctx import Agent, InputEvent, OutputEvent, RunnerContext
from flink_agents_ctx.testing import AgentTestHarness, HarnessSnapshot
from tests.support.gates import Gates

KEY = "k"
GATE_TIMEOUT_S = 10.0
APPLY_DEADLINE_S = 5.0
IDLE_DEADLINE_S = 5.0

CallId = tuple[str, int, int]
FINAL: CallId = ("final", 0, 0)

#: Real calls, appended when a call starts (``list.append`` is atomic).
CALLS: list[CallId] = []
#: Calls that returned, appended when a call ends (to wait for stray workers at teardown).
ENDED: list[CallId] = []
#: One gate per call: ``("work", branch, i)`` and :data:`FINAL`.
GATES = Gates()
gate = GATES.gate
open_all_gates = GATES.open_all
reset_gates = GATES.reset


def _held(call: CallId) -> None:
    CALLS.append(call)
    try:
        if not gate(call).wait(GATE_TIMEOUT_S):
            raise TimeoutError(f"gate of {call} never opened")
    finally:
        ENDED.append(call)


def work(branch: int, i: int) -> int:
    _held(("work", branch, i))
    return 100 * branch + i


def final(results: list[list[int]]) -> int:
    _held(FINAL)
    return sum(sum(r) for r in results)


async def run_branch(ctx: RunnerContext, branch: int, n_calls: int) -> list[int]:
    results: list[int] = []
    for i in range(n_calls):
        results.append(await ctx.durable_execute_async(work, branch, i))
    return results


async def fan_out(event: InputEvent, ctx: RunnerContext) -> None:
    n_branches, n_calls = event.input
    results = await asyncio.gather(*(run_branch(ctx, b, n_calls) for b in range(n_branches)))
    total = await ctx.durable_execute_async(final, list(results))
    ctx.send_event(OutputEvent(output={"branches": list(results), "total": total}))


def gather_agent() -> Agent:
    return Agent().add_action("fan_out", [InputEvent], fan_out)


def expected_output(n_branches: int, n_calls: int) -> dict[str, Any]:
    branches = [[100 * b + i for i in range(n_calls)] for b in range(n_branches)]
    return {"branches": branches, "total": sum(sum(r) for r in branches)}


def completion_order(name: str, n_branches: int, n_calls: int) -> list[tuple[int, int]]:
    """The order in which the branch calls are let finish (each branch's calls stay in order:
    a branch issues call ``i + 1`` only once call ``i`` has finished)."""
    if name == "program":
        return [(b, i) for b in range(n_branches) for i in range(n_calls)]
    if name == "reversed":
        return [(b, i) for b in reversed(range(n_branches)) for i in range(n_calls)]
    if name == "interleaved":
        return [(b, i) for i in range(n_calls) for b in range(n_branches)]
    if name == "interleaved-reversed":
        return [(b, i) for i in range(n_calls) for b in reversed(range(n_branches))]
    raise ValueError(name)


ORDERS = ("program", "reversed", "interleaved", "interleaved-reversed")
SHAPES = [(b, c) for b in (2, 3) for c in (1, 2, 3)]


def statuses(h: AgentTestHarness) -> list[Any]:
    return [r.status for r in h.journal(KEY)]


def wait_until_succeeded(h: AgentTestHarness, count: int) -> list[Any]:
    """Poll the harness until ``count`` calls of the waiting action are recorded as finished;
    return the outputs emitted meanwhile."""
    outputs: list[Any] = []
    deadline = time.monotonic() + APPLY_DEADLINE_S
    while statuses(h).count("SUCCEEDED") < count:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{count} finished calls expected in the journal, found {statuses(h)}"
            )
        outputs.extend(h.poll(0.01))
    return outputs


@pytest.fixture(autouse=True)
def _isolated_calls() -> Iterator[None]:
    """Fresh counters and gates; at the end open every gate and wait for the workers."""
    CALLS.clear()
    ENDED.clear()
    reset_gates()
    yield
    open_all_gates()
    deadline = time.monotonic() + IDLE_DEADLINE_S
    while len(ENDED) < len(CALLS) and time.monotonic() < deadline:
        time.sleep(0.005)


@pytest.fixture
def harnesses() -> Iterator[list[AgentTestHarness]]:
    """Harnesses a test builds; closed at the end (after the gates opened)."""
    made: list[AgentTestHarness] = []
    yield made
    open_all_gates()
    for h in made:
        h.close()


def config(mode: str) -> dict[str, Any]:
    return {"durable-execution.mismatch-mode": mode, "num-async-threads": 4}


def first_run(
    harnesses: list[AgentTestHarness],
    mode: str,
    n_branches: int,
    n_calls: int,
    order: list[tuple[int, int]],
) -> tuple[list[HarnessSnapshot], list[set[tuple[int, int]]]]:
    """Run the action to its end, letting the branch calls finish in ``order``. Returns a
    snapshot taken before any call finished and one after each finished call was applied (the
    last one while only the final call is pending), with the branch calls recorded by then."""
    h = AgentTestHarness(gather_agent(), config(mode))
    harnesses.append(h)
    assert h.send(KEY, (n_branches, n_calls)) == []
    snapshots = [h.snapshot()]
    recorded: list[set[tuple[int, int]]] = [set()]
    for done, (b, i) in enumerate(order, start=1):
        gate(("work", b, i)).set()
        assert wait_until_succeeded(h, done) == []
        snapshots.append(h.snapshot())
        recorded.append(set(order[:done]))
    # Every branch call has finished; only the final call is pending.
    final_statuses = statuses(h)
    assert final_statuses.count("SUCCEEDED") == n_branches * n_calls
    assert final_statuses.count("PENDING") == 1
    assert len(final_statuses) == n_branches * n_calls + 1
    gate(FINAL).set()
    assert h.drain() == [expected_output(n_branches, n_calls)]
    return snapshots, recorded


def restore_and_count(
    harnesses: list[AgentTestHarness], mode: str, snapshot: HarnessSnapshot
) -> tuple[list[Any], Counter[CallId]]:
    """Restore ``snapshot`` (every gate open), drain it; its outputs and the real calls it made."""
    open_all_gates()
    mark = len(CALLS)
    restored = AgentTestHarness.restore(gather_agent(), snapshot, config(mode))
    harnesses.append(restored)
    outputs = restored.drain()
    return outputs, Counter(CALLS[mark:])


@pytest.mark.parametrize("order_name", ORDERS)
@pytest.mark.parametrize(("n_branches", "n_calls"), SHAPES)
@pytest.mark.parametrize("mode", ["lenient", "strict"])
def test_restore_with_only_the_final_call_pending_makes_only_that_call_again(
    harnesses: list[AgentTestHarness],
    mode: str,
    n_branches: int,
    n_calls: int,
    order_name: str,
) -> None:
    """Defect: gather branches with >= 2 calls each replayed in another order than they ran,
    so the restored run made finished calls again (lenient) or raised
    NonDeterministicReplayError (strict)."""
    order = completion_order(order_name, n_branches, n_calls)
    snapshots, _ = first_run(harnesses, mode, n_branches, n_calls, order)
    outputs, made = restore_and_count(harnesses, mode, snapshots[-1])
    assert outputs == [expected_output(n_branches, n_calls)]
    for b, i in order:
        assert made[("work", b, i)] == 0, f"finished call {(b, i)} was made again"
    # The final call was in flight at the snapshot and has no reconciler: made again, once.
    assert made == Counter({FINAL: 1})


@pytest.mark.parametrize("order_name", ORDERS)
@pytest.mark.parametrize(("n_branches", "n_calls"), SHAPES)
@pytest.mark.parametrize("mode", ["lenient", "strict"])
def test_restore_from_every_intermediate_snapshot_makes_no_finished_call_again(
    harnesses: list[AgentTestHarness],
    mode: str,
    n_branches: int,
    n_calls: int,
    order_name: str,
) -> None:
    """Defect as above, at every point of the first run: after a restore, each call recorded as
    finished is answered from the journal, every other call is made exactly once, and the
    output is that of the failure-free run."""
    order = completion_order(order_name, n_branches, n_calls)
    snapshots, recorded = first_run(harnesses, mode, n_branches, n_calls, order)
    for point, (snapshot, finished) in enumerate(zip(snapshots, recorded, strict=True)):
        outputs, made = restore_and_count(harnesses, mode, snapshot)
        where = f"restored from the snapshot after {point} finished call(s) {order[:point]}"
        assert outputs == [expected_output(n_branches, n_calls)], where
        for b, i in sorted(finished):
            assert made[("work", b, i)] == 0, f"{where}: finished call {(b, i)} made again"
        expected_made = Counter(
            {("work", b, i): 1 for b, i in order if (b, i) not in finished} | {FINAL: 1}
        )
        assert made == expected_made, where
