"""Regression tests for known durable-execution defects, through the public harness only.

Each section names the defect it guards. Stores are SQLite files in ``tmp_path``; rows are
corrupted with the ``sqlite3`` module, touching only the table ``flink_agents_action_state`` and
its ``payload`` / ``codec`` columns.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flink_agents_ctx import (
    ActionStateStoreError,
    Agent,
    AgentConfig,
    ConfigError,
    InputEvent,
    OutputEvent,
    ResourceContext,
    ResourceType,
    RunnerContext,
    durable,
)
from flink_agents_ctx.testing import AgentTestHarness
from tests.support.gates import Gates

KEY = "k"
TABLE = "flink_agents_action_state"
GATE_TIMEOUT_S = 10.0
DEADLINE_S = 5.0

#: Real calls by name, appended when a call starts (``list.append`` is atomic).
CALLS: list[str] = []
#: Names of calls that returned (to wait for stray workers at teardown).
ENDED: list[str] = []
#: Branches an action took that must not be taken (e.g. its ``except ValueError``).
BRANCHES: list[str] = []
GATES = Gates()
gate = GATES.gate
open_all_gates = GATES.open_all
reset_gates = GATES.reset


def held(name: str) -> None:
    """Block until the gate ``name`` opens."""
    if not gate(name).wait(GATE_TIMEOUT_S):
        raise TimeoutError(f"gate {name} never opened")


@pytest.fixture(autouse=True)
def _isolated_calls() -> Iterator[None]:
    CALLS.clear()
    ENDED.clear()
    BRANCHES.clear()
    reset_gates()
    yield
    open_all_gates()
    deadline = time.monotonic() + DEADLINE_S
    while len(ENDED) < len(CALLS) and time.monotonic() < deadline:
        time.sleep(0.005)


@pytest.fixture
def harnesses() -> Iterator[list[AgentTestHarness]]:
    """Harnesses a test builds; closed at the end (after the gates opened)."""
    made: list[AgentTestHarness] = []
    yield made
    open_all_gates()
    for h in made:
        with contextlib.suppress(Exception):
            h.close()


def one_action(func: Any) -> Agent:
    return Agent().add_action("act", [InputEvent], func)


def statuses(h: AgentTestHarness, key: Any = KEY) -> list[Any]:
    return [r.status for r in h.journal(key)]


def wait_for_journal(h: AgentTestHarness, wanted: list[str]) -> None:
    """Poll the harness until the waiting action's journal statuses are ``wanted``."""
    deadline = time.monotonic() + DEADLINE_S
    while statuses(h) != wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"journal {statuses(h)}, expected {wanted}")
        assert h.poll(0.01) == []


def store_config(tmp_path: Path) -> dict[str, Any]:
    return {
        "action-state.store": f"sqlite:///{tmp_path}/s.db",
        "job-identifier": "job-a",
        "action-state.write-attempts": 1,
    }


def store_rows(db: Path, column: str) -> list[Any]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return [row[0] for row in conn.execute(f"SELECT {column} FROM {TABLE}")]


def wait_for_store_status(
    db: Path, wanted: list[str], polling: AgentTestHarness | None = None
) -> list[Any]:
    """Wait until the store's rows have the statuses ``wanted`` (a worker commits them before
    it hands the outcome to the task thread). With ``polling``, poll that harness meanwhile, so
    that an error applying the outcome surfaces at once; returns its outputs."""
    outputs: list[Any] = []
    deadline = time.monotonic() + DEADLINE_S
    while sorted(store_rows(db, "status")) != sorted(wanted):
        if time.monotonic() > deadline:
            raise AssertionError(f"store rows {store_rows(db, 'status')}, expected {wanted}")
        if polling is None:
            time.sleep(0.005)
        else:
            outputs.extend(polling.poll(0.01))
    return outputs


def update_store(db: Path, statement: str, params: tuple[Any, ...] = ()) -> None:
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(statement, params)


# == 2. Resources used inside durable calls report to the calling action's metric group ==========
#
# Defect: the context variable carrying the action's metric group was not copied into the worker
# threads that run durable_execute_async calls and sync calls with a timeout, so a resource used
# there reported to the agent-wide group.


class HitMeter:
    """A resource counting ``hits`` in the metric group of whoever calls it."""

    def __init__(self, rc: ResourceContext) -> None:
        self._rc = rc

    def hit(self) -> int:
        CALLS.append("hit")
        self._rc.metric_group.get_counter("hits").inc()
        ENDED.append("hit")
        return 1


def hit_meter_factory(rc: ResourceContext) -> HitMeter:
    return HitMeter(rc)


def meter(ctx: RunnerContext) -> HitMeter:
    resource: HitMeter = ctx.get_resource("meter", ResourceType.CUSTOM)
    return resource


def hit_in_body(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.send_event(OutputEvent(output=meter(ctx).hit()))


async def hit_in_async_call(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.send_event(OutputEvent(output=await ctx.durable_execute_async(meter(ctx).hit)))


def hit_in_sync_call_with_timeout(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.send_event(OutputEvent(output=ctx.durable_execute(durable(meter(ctx).hit, timeout_s=5))))


def metered_agent(func: Any) -> Agent:
    return one_action(func).add_resource("meter", ResourceType.CUSTOM, hit_meter_factory)


def assert_one_hit_on_the_action_group(h: AgentTestHarness) -> None:
    assert h.metric("action", "act", "hits") == 1
    assert h.metric("hits") in (None, 0)


def test_resource_used_in_the_action_body_reports_to_the_action_group(
    harnesses: list[AgentTestHarness],
) -> None:
    """Control for defect 2: the metric read-back path (passes on the defective code too)."""
    h = AgentTestHarness(metered_agent(hit_in_body))
    harnesses.append(h)
    assert h.run([(KEY, 1)]) == [1]
    assert_one_hit_on_the_action_group(h)


@pytest.mark.parametrize(
    "func", [hit_in_async_call, hit_in_sync_call_with_timeout], ids=["async", "sync-timeout"]
)
def test_resource_used_inside_a_worker_thread_call_reports_to_the_action_group(
    harnesses: list[AgentTestHarness], func: Any
) -> None:
    """Defect 2: a resource used inside a durable call run on a worker thread reported to the
    agent group instead of the calling action's group."""
    h = AgentTestHarness(metered_agent(func))
    harnesses.append(h)
    assert h.run([(KEY, 1)]) == [1]
    assert CALLS.count("hit") == 1
    assert_one_hit_on_the_action_group(h)


# == 3. A store read failing when a fresh run opens its durable session fails the job =============
#
# Defect: the failure was raised to the action, which could catch it with ``except Exception``,
# and the run then committed its memory writes and outputs. The README promises the job fails
# even when the action catches exceptions.


def counted_double(x: int) -> int:
    CALLS.append("counted_double")
    ENDED.append("counted_double")
    return 2 * x


def catch_all_sync(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.short_term_memory.set("seen", event.input)
    try:
        value = ctx.durable_execute(counted_double, event.input)
    except Exception as e:
        BRANCHES.append("except")
        ctx.send_event(OutputEvent(output=f"caught {type(e).__name__}"))
        return
    ctx.send_event(OutputEvent(output=value))


async def catch_all_async(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.short_term_memory.set("seen", event.input)
    try:
        value = await ctx.durable_execute_async(counted_double, event.input)
    except Exception as e:
        BRANCHES.append("except")
        ctx.send_event(OutputEvent(output=f"caught {type(e).__name__}"))
        return
    ctx.send_event(OutputEvent(output=value))


@pytest.mark.parametrize("func", [catch_all_sync, catch_all_async], ids=["sync", "async"])
def test_store_read_failure_at_session_start_fails_the_job_even_if_caught(
    harnesses: list[AgentTestHarness], tmp_path: Path, func: Any
) -> None:
    """Defect 3: a failed store read when the session opens reached the action as a catchable
    exception and the run committed."""
    h = AgentTestHarness(one_action(func), store_config(tmp_path))
    harnesses.append(h)
    # The store created its table when the harness opened it; now every read fails.
    update_store(tmp_path / "s.db", f"DROP TABLE {TABLE}")
    emitted: list[Any] = []
    with pytest.raises(ActionStateStoreError):
        emitted.extend(h.send(KEY, 21))
    assert emitted == []
    assert CALLS == []  # no call without its record
    # Nothing the action did was committed.
    assert h.short_term_memory(KEY) == {}


# == 4. A corrupt store record fails the job instead of reaching the action ======================
#
# Defect: a garbage payload reached the action as the call's own ValueError (JSONDecodeError), so
# an action with ``except ValueError`` took its failure branch; a corrupt codec column was
# reported as a pickle-codec problem.

# Accepted wordings of the corrupt-payload error (any one, lowercase substring of the message).
CORRUPT_WORDINGS = (
    "corrupt",
    "cannot be decoded",
    "could not be decoded",
    "not valid",
    "unreadable",
    "cannot be read",
)


def gated_answer(x: int) -> int:
    CALLS.append("gated_answer")
    try:
        held("answer")
    finally:
        ENDED.append("gated_answer")
    return 2 * x


async def except_value_error(event: InputEvent, ctx: RunnerContext) -> None:
    try:
        value = await ctx.durable_execute_async(gated_answer, event.input)
    except ValueError as e:
        BRANCHES.append(f"value-error: {e}")
        ctx.send_event(OutputEvent(output="value-error"))
        return
    ctx.send_event(OutputEvent(output=value))


def snapshot_then_commit_to_store(
    harnesses: list[AgentTestHarness], tmp_path: Path
) -> tuple[Agent, Any]:
    """Park the action on its call, snapshot, then let the call finish so that its record is
    only in the store (the snapshot holds it as PENDING). Returns the agent and the snapshot."""
    agent = one_action(except_value_error)
    h = AgentTestHarness(agent, store_config(tmp_path))
    harnesses.append(h)
    assert h.send(KEY, 21) == []
    assert statuses(h) == ["PENDING"]
    snapshot = h.snapshot()
    gate("answer").set()
    wait_for_store_status(tmp_path / "s.db", ["SUCCEEDED"])
    h.close()  # this instance "fails" before it applies the outcome
    return agent, snapshot


def test_restore_from_an_intact_store_record_is_the_baseline(
    harnesses: list[AgentTestHarness], tmp_path: Path
) -> None:
    """Control for defect 4: the uncorrupted record is replayed from the store."""
    agent, snapshot = snapshot_then_commit_to_store(harnesses, tmp_path)
    restored = AgentTestHarness.restore(agent, snapshot, store_config(tmp_path))
    harnesses.append(restored)
    assert restored.drain() == [42]
    assert CALLS.count("gated_answer") == 1


def test_garbage_payload_in_the_store_fails_the_job(
    harnesses: list[AgentTestHarness], tmp_path: Path
) -> None:
    """Defect 4: a garbage payload reached the action as a ValueError."""
    agent, snapshot = snapshot_then_commit_to_store(harnesses, tmp_path)
    update_store(tmp_path / "s.db", f"UPDATE {TABLE} SET payload = ?", (b"{not json",))
    restored = AgentTestHarness.restore(agent, snapshot, store_config(tmp_path))
    harnesses.append(restored)
    emitted: list[Any] = []
    with pytest.raises(ActionStateStoreError) as err:
        emitted.extend(restored.drain())
    assert emitted == []
    assert BRANCHES == []  # the action's ``except ValueError`` branch was not taken
    assert CALLS.count("gated_answer") == 1  # and the call was not made again
    message = str(err.value).lower()
    assert any(w in message for w in CORRUPT_WORDINGS), message


def test_unknown_codec_in_the_store_fails_the_job_without_blaming_pickle(
    harnesses: list[AgentTestHarness], tmp_path: Path
) -> None:
    """Defect 4: a corrupt codec column was reported as a pickle-codec record."""
    agent, snapshot = snapshot_then_commit_to_store(harnesses, tmp_path)
    update_store(tmp_path / "s.db", f"UPDATE {TABLE} SET codec = ?", ("nonsense",))
    restored = AgentTestHarness.restore(agent, snapshot, store_config(tmp_path))
    harnesses.append(restored)
    emitted: list[Any] = []
    with pytest.raises(ActionStateStoreError) as err:
        emitted.extend(restored.drain())
    assert emitted == []
    assert BRANCHES == []
    assert CALLS.count("gated_answer") == 1
    assert "pickle" not in str(err.value).lower(), str(err.value)


# == 5. A SQLite address with a relative path is rejected =========================================
#
# Defect: ``sqlite:///relative.db`` was accepted and created ``/relative.db``. It must be a
# ConfigError showing the four-slash form ``sqlite:////<absolute path>``.


def counted_triple(x: int) -> int:
    CALLS.append("counted_triple")
    ENDED.append("counted_triple")
    return 3 * x


def triple_sync(event: InputEvent, ctx: RunnerContext) -> None:
    ctx.send_event(OutputEvent(output=ctx.durable_execute(counted_triple, event.input)))


@pytest.fixture
def relative_name() -> Iterator[str]:
    """A file name that must not appear in ``/`` (removed at the end if it does)."""
    name = f"flink-agents-regress-{os.getpid()}-{uuid.uuid4().hex[:8]}.db"
    assert not os.path.exists(f"/{name}")
    yield name
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"/{name}{suffix}")


def assert_relative_path_error(err: ConfigError) -> None:
    assert err.key == "action-state.store"
    assert "sqlite:////" in str(err), str(err)


def test_relative_sqlite_path_is_a_config_error(relative_name: str) -> None:
    """Defect 5: the configuration accepted a relative SQLite path."""
    with pytest.raises(ConfigError) as err:
        AgentConfig({"action-state.store": f"sqlite:///{relative_name}"})
    assert_relative_path_error(err.value)


def test_harness_with_a_relative_sqlite_path_fails_and_creates_no_file(relative_name: str) -> None:
    """Defect 5: the store opened ``/<name>`` for ``sqlite:///<name>``."""
    config = {"action-state.store": f"sqlite:///{relative_name}", "job-identifier": "job-a"}
    error: ConfigError | None = None
    try:
        h = AgentTestHarness(one_action(triple_sync), config)
    except ConfigError as e:
        error = e
    else:
        h.close()
    created = os.path.exists(f"/{relative_name}")
    assert error is not None, "a relative SQLite path was accepted"
    assert_relative_path_error(error)
    assert not created


def test_absolute_sqlite_path_with_four_slashes_keeps_working(
    harnesses: list[AgentTestHarness], tmp_path: Path
) -> None:
    """Control for defect 5: ``sqlite:////abs/path`` is the valid form."""
    config = store_config(tmp_path)
    assert config["action-state.store"].startswith("sqlite:////")
    AgentConfig(config)
    h = AgentTestHarness(one_action(triple_sync), config)
    harnesses.append(h)
    assert h.run([(KEY, 7)]) == [21]
    assert store_rows(tmp_path / "s.db", "status") == ["SUCCEEDED"]


# == 6. Integers over Python's 4,300-digit string limit are recorded exactly =====================
#
# Defect: such an int as a call's argument raised a bare ValueError from the argument digest, and
# as a call's result from the json codec. The fix encodes it exactly. ``where`` puts the big int in
# the argument only, the result only, or both. The calls wait on the gate "big" (opened up front
# unless a test holds the call in flight).

BIG = 10**5000 + 7
SIGNS = pytest.mark.parametrize("sign", [1, -1], ids=["positive", "negative"])
WHERE = pytest.mark.parametrize("where", ["argument", "result", "both"])


def low_digits(x: int) -> int:
    CALLS.append("big-call")
    try:
        held("big")
    finally:
        ENDED.append("big-call")
    return abs(x) % 1000


def big_of(sign: int) -> int:
    CALLS.append("big-call")
    try:
        held("big")
    finally:
        ENDED.append("big-call")
    return sign * BIG


def plus_one(x: int) -> int:
    CALLS.append("big-call")
    try:
        held("big")
    finally:
        ENDED.append("big-call")
    return x + 1


def big_call(sign: int, where: str) -> tuple[Any, int]:
    """The function and argument of the call with a big int in ``where``."""
    if where == "argument":
        return low_digits, sign * BIG
    if where == "result":
        return big_of, sign
    return plus_one, sign * BIG


def expected_result(sign: int, where: str) -> int:
    if where == "argument":
        return BIG % 1000
    if where == "result":
        return sign * BIG
    return sign * BIG + 1


def big_sync(event: InputEvent, ctx: RunnerContext) -> None:
    fn, arg = big_call(*event.input)
    ctx.send_event(OutputEvent(output=ctx.durable_execute(fn, arg)))


def gated_echo(x: int) -> int:
    CALLS.append("gated_echo")
    try:
        held("echo")
    finally:
        ENDED.append("gated_echo")
    return x


async def big_then_wait(event: InputEvent, ctx: RunnerContext) -> None:
    fn, arg = big_call(*event.input)
    value = await ctx.durable_execute_async(fn, arg)
    await ctx.durable_execute_async(gated_echo, 1)
    ctx.send_event(OutputEvent(output=value))


async def big_async(event: InputEvent, ctx: RunnerContext) -> None:
    fn, arg = big_call(*event.input)
    ctx.send_event(OutputEvent(output=await ctx.durable_execute_async(fn, arg)))


def same_int(actual: list[Any], expected: int) -> bool:
    """Compare without rendering 5,000-digit ints (their str() is what the defect trips on)."""
    return len(actual) == 1 and type(actual[0]) is int and actual[0] == expected


@SIGNS
@WHERE
def test_big_int_in_a_sync_call(harnesses: list[AgentTestHarness], sign: int, where: str) -> None:
    """Defect 6: a >4,300-digit int as a call's argument (digest) or result (codec) raised a
    bare ValueError."""
    gate("big").set()
    h = AgentTestHarness(one_action(big_sync))
    harnesses.append(h)
    outputs = h.run([(KEY, (sign, where))])
    assert same_int(outputs, expected_result(sign, where))
    assert CALLS.count("big-call") == 1


@SIGNS
@WHERE
@pytest.mark.parametrize("with_store", [False, True], ids=["keyed-state", "sqlite-store"])
def test_big_int_call_replays_from_the_journal(
    harnesses: list[AgentTestHarness], tmp_path: Path, sign: int, where: str, with_store: bool
) -> None:
    """Defect 6: the recorded big-int call round-trips through the journal (and the store) and
    its digest matches: after a restore it is answered, not made again."""
    gate("big").set()
    config = store_config(tmp_path) if with_store else {}
    agent = one_action(big_then_wait)
    h = AgentTestHarness(agent, config)
    harnesses.append(h)
    assert h.send(KEY, (sign, where)) == []
    wait_for_journal(h, ["SUCCEEDED", "PENDING"])
    snapshot = h.snapshot()
    open_all_gates()
    assert same_int(h.drain(), expected_result(sign, where))
    restored = AgentTestHarness.restore(agent, snapshot, config)
    harnesses.append(restored)
    assert same_int(restored.drain(), expected_result(sign, where))
    assert CALLS.count("big-call") == 1  # recorded before the snapshot: never made again
    # In flight at the snapshot: made again, unless the store recorded it meanwhile (the first
    # harness ran to its end before the restore).
    assert CALLS.count("gated_echo") == (1 if with_store else 2)


@SIGNS
@WHERE
def test_big_int_call_replays_from_the_store(
    harnesses: list[AgentTestHarness], tmp_path: Path, sign: int, where: str
) -> None:
    """Defect 6: a big-int record that only the store holds (the call finished after the
    snapshot) is encoded and decoded exactly and matched by its digest."""
    config = store_config(tmp_path)
    agent = one_action(big_async)
    h = AgentTestHarness(agent, config)
    harnesses.append(h)
    assert h.send(KEY, (sign, where)) == []
    assert statuses(h) == ["PENDING"]
    snapshot = h.snapshot()
    gate("big").set()
    wait_for_store_status(tmp_path / "s.db", ["SUCCEEDED"], polling=h)
    h.close()
    restored = AgentTestHarness.restore(agent, snapshot, config)
    harnesses.append(restored)
    assert same_int(restored.drain(), expected_result(sign, where))
    assert CALLS.count("big-call") == 1
