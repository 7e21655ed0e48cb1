"""Store rows whose error or payload column is garbled but parses: each fails the job with
ActionStateStoreError (the action never sees them as the call's own outcome)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flink_agents_ctx import ActionStateStoreError, Agent, InputEvent, OutputEvent, RunnerContext
from flink_agents_ctx.testing import AgentTestHarness

TABLE = "flink_agents_action_state"
GATE = threading.Event()
CALLS: list[str] = []
CAUGHT: list[str] = []


def gated_fail(x: int) -> int:
    CALLS.append("fail")
    GATE.wait(10)
    raise ValueError("boom")


def gated_ok(x: int) -> int:
    CALLS.append("ok")
    GATE.wait(10)
    return 2 * x


async def act_fail(event: InputEvent, ctx: RunnerContext) -> None:
    try:
        await ctx.durable_execute_async(gated_fail, event.input)
    except Exception as e:  # the action catches "the call's" error
        CAUGHT.append(f"{type(e).__name__}: {e}")
        ctx.send_event(OutputEvent(output="caught"))


async def act_ok(event: InputEvent, ctx: RunnerContext) -> None:
    v = await ctx.durable_execute_async(gated_ok, event.input)
    ctx.send_event(OutputEvent(output=("value", v)))


@pytest.fixture(autouse=True)
def _open_gate() -> Iterator[None]:
    yield
    GATE.set()


def cfg(tmp: Path) -> dict[str, Any]:
    return {
        "action-state.store": f"sqlite:///{tmp}/s.db",
        "job-identifier": "j",
        "action-state.write-attempts": 1,
    }


def rows(db: Path, col: str) -> list[Any]:
    with contextlib.closing(sqlite3.connect(db)) as c:
        return [r[0] for r in c.execute(f"SELECT {col} FROM {TABLE}")]


def update(db: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    with contextlib.closing(sqlite3.connect(db)) as c:
        c.execute(sql, params)
        c.commit()


def park_then_commit(tmp: Path, func: Any, status: str) -> tuple[Agent, Any]:
    """Snapshot while the call runs, let it commit its row to the store, return the snapshot."""
    GATE.clear()
    CALLS.clear()
    CAUGHT.clear()
    agent = Agent().add_action("act", [InputEvent], func)
    h = AgentTestHarness(agent, cfg(tmp))
    assert h.send("k", 21) == []
    snap = h.snapshot()
    GATE.set()
    deadline = time.monotonic() + 5
    while rows(tmp / "s.db", "status") != [status]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    h.close()
    return agent, snap


GARBLED = [
    pytest.param(
        act_fail,
        "FAILED",
        "error = ?",
        ('{"type": null, "message": "m", "traceback": "", "pickled": null}',),
        id="error-type-null",
    ),
    pytest.param(act_fail, "FAILED", "error = NULL", (), id="failure-without-error"),
    pytest.param(act_ok, "SUCCEEDED", "payload = NULL", (), id="result-without-payload"),
]


@pytest.mark.parametrize(("func", "status", "assignment", "params"), GARBLED)
def test_a_garbled_row_fails_the_job(
    tmp_path: Path, func: Any, status: str, assignment: str, params: tuple[Any, ...]
) -> None:
    agent, snap = park_then_commit(tmp_path, func, status)
    update(tmp_path / "s.db", f"UPDATE {TABLE} SET {assignment}", params)
    restored = AgentTestHarness.restore(agent, snap, cfg(tmp_path))
    try:
        # The job fails, also when the action catches the error (act_fail catches everything).
        with pytest.raises(ActionStateStoreError, match="is corrupt"):
            restored.drain()
    finally:
        restored.close()
