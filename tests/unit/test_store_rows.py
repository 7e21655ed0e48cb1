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


def test_error_column_with_null_type(tmp_path: Path) -> None:
    agent, snap = park_then_commit(tmp_path, act_fail, "FAILED")
    update(
        tmp_path / "s.db",
        f"UPDATE {TABLE} SET error = ?",
        ('{"type": null, "message": "m", "traceback": "", "pickled": null}',),
    )
    r = AgentTestHarness.restore(agent, snap, cfg(tmp_path))
    try:
        out = r.drain()
        pytest.fail(f"no failure: outputs {out}, action caught {CAUGHT}")
    except ActionStateStoreError:
        pass  # what the README promises
    finally:
        r.close()


def test_failed_row_with_null_error(tmp_path: Path) -> None:
    agent, snap = park_then_commit(tmp_path, act_fail, "FAILED")
    update(tmp_path / "s.db", f"UPDATE {TABLE} SET error = NULL")
    r = AgentTestHarness.restore(agent, snap, cfg(tmp_path))
    try:
        out = r.drain()
        pytest.fail(f"no failure: outputs {out}, action caught {CAUGHT}")
    except ActionStateStoreError:
        pass
    finally:
        r.close()


def test_succeeded_row_with_null_payload(tmp_path: Path) -> None:
    agent, snap = park_then_commit(tmp_path, act_ok, "SUCCEEDED")
    update(tmp_path / "s.db", f"UPDATE {TABLE} SET payload = NULL")
    r = AgentTestHarness.restore(agent, snap, cfg(tmp_path))
    try:
        out = r.drain()
        pytest.fail(f"no failure: outputs {out}")
    except ActionStateStoreError:
        pass
    finally:
        r.close()
