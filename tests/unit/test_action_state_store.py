"""The write-ahead action-state store: the SQL adapters (a real SQLite file, a real PostgreSQL
server), and the operator through the harness with the in-memory fake store."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import pytest

from flink_agents_ctx import (
    ActionStateStoreError,
    Agent,
    ConfigError,
    DurableCallTimeoutError,
    InputEvent,
    OutputEvent,
    RunnerContext,
    action,
    durable,
)
from flink_agents_ctx.action_state import open_store
from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.durable.execution_ref import ExecutionRef
from flink_agents_ctx.durable.identity import input_digest, key_digest
from flink_agents_ctx.durable.records import CallRecord, CallStatus, ErrorInfo
from flink_agents_ctx.testing import AgentTestHarness, InMemoryActionStateStore
from tests.support.durable_agents import CALLS, TwoCallsAgent, count, gated


@pytest.fixture(autouse=True)
def _fresh(fresh_calls: None) -> None:
    pass


def execution(job: str = "job", key: Any = "k", seq: int = 0, value: Any = 7) -> ExecutionRef:
    return ExecutionRef(job, key, seq, input_digest(value), "act", 0)


def records() -> list[CallRecord]:
    failure = ErrorInfo.capture(ValueError("no luck"))
    return [
        CallRecord("0", "mod.f", "d0", CallStatus.SUCCEEDED, "json", b'{"a": 1}'),
        CallRecord("1", "mod.g", "d1", CallStatus.FAILED, "json", error=failure),
        CallRecord("0/1", "mod.h", "d2", CallStatus.PENDING, "pickle"),
    ]


# -- the SQL adapters (a SQLite file; a PostgreSQL server the test session starts) ---------------


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/journal.db"  # tmp_path is absolute: four slashes
    url: str = request.getfixturevalue("postgres_url")
    store = open_store(url)
    store.prune(older_than=float("inf"))  # the server is shared by the session's tests
    store.close()
    return url


def test_sql_store_round_trips_records(store_url: str) -> None:
    store = open_store(store_url)
    for record in records():
        store.save(execution(), record)
    store.close()
    reopened = open_store(store_url)  # committed: a new connection (another process) reads them
    assert reopened.load(execution()) == {r.position: r for r in records()}
    assert reopened.load(execution(seq=1)) == {}
    assert reopened.count("job") == 3
    reopened.close()


def test_saving_a_position_again_replaces_the_record(store_url: str) -> None:
    store = open_store(store_url)
    pending = CallRecord("0", "mod.f", "d0", CallStatus.PENDING, "json")
    done = CallRecord("0", "mod.f", "d0", CallStatus.SUCCEEDED, "json", b"42")
    store.save(execution(), pending)
    store.save(execution(), done)
    assert store.load(execution()) == {"0": done}
    store.close()


def test_keys_are_stored_structurally(store_url: str) -> None:
    store = open_store(store_url)
    # Keys that a joined "a:b:c" rendering would confuse, and values equal as text only.
    keys: list[Any] = [("a:b", "c"), ("a", "b:c"), 1, "1", b"1", (1,), None]
    for i, key in enumerate(keys):
        record = CallRecord("0", "f", "d", CallStatus.SUCCEEDED, "json", b"%d" % i)
        store.save(execution(key=key), record)
    for i, key in enumerate(keys):
        assert store.load(execution(key=key))["0"].payload == b"%d" % i
    assert len({key_digest(k) for k in keys}) == len(keys)
    store.close()


def test_prune_deletes_only_records_older_than_the_cut(store_url: str) -> None:
    now = [1000.0]
    store = open_store(store_url)
    store._clock = lambda: now[0]  # type: ignore[attr-defined]
    store.save(execution(seq=0), records()[0])
    now[0] = 2000.0
    store.save(execution(seq=1), records()[0])
    assert store.prune(older_than=1500.0) == 1
    assert store.load(execution(seq=0)) == {}
    assert list(store.load(execution(seq=1))) == ["0"]
    store.close()


def test_records_of_another_input_with_the_same_sequence_number_are_not_used(
    store_url: str,
) -> None:
    store = open_store(store_url)
    store.save(execution(value="first"), records()[0])
    assert store.load(execution(value="second")) == {}
    store.close()


def test_jobs_sharing_a_store_are_kept_apart(store_url: str) -> None:
    store = open_store(store_url)
    store.save(execution(job="a"), records()[0])
    assert store.load(execution(job="b")) == {}
    assert (store.count("a"), store.count("b")) == (1, 0)
    store.close()


def test_a_misconfigured_store_address_is_a_config_error() -> None:
    for url in ("mysql://h/db", "sqlite://relative.db", "journal.db", "sqlite:///relative.db"):
        with pytest.raises(ConfigError) as err:
            AgentConfig({"action-state.store": url})
        assert err.value.key == "action-state.store"


def test_passwords_never_appear_in_store_errors() -> None:
    url = "postgresql://agent:s3cret-pw@127.0.0.1:1/journal"  # nothing listens on port 1
    with pytest.raises(ConfigError) as config_err:
        AgentConfig({"action-state.store": url.replace("postgresql", "mysql")})
    assert "s3cret-pw" not in str(config_err.value) and "s3cret-pw" not in repr(
        config_err.value.value
    )
    with pytest.raises(ActionStateStoreError) as err:
        open_store(url, attempts=1)
    assert "s3cret-pw" not in str(err.value)
    assert err.value.store == "postgresql://agent:***@127.0.0.1:1/journal"


# -- the operator with a store -----------------------------------------------------------------


STORE = {"job-identifier": "job-a"}


@pytest.fixture
def store() -> InMemoryActionStateStore:
    """One store shared by a test's harnesses (its "jobs" before and after a restore)."""
    return InMemoryActionStateStore()


def test_calls_finished_after_the_snapshot_are_not_made_again(
    store: InMemoryActionStateStore,
) -> None:
    h = AgentTestHarness(TwoCallsAgent(), STORE, store=store)
    before = h.snapshot()  # the "checkpoint": taken before input 7 arrived
    assert h.run([("k", 7)]) == [214]
    assert (CALLS["plus_hundred"], CALLS["double"]) == (1, 1)
    h.close()
    # The job fails and restarts from the snapshot; input 7 is processed again.
    restored = AgentTestHarness.restore(TwoCallsAgent(), before, STORE, store=store)
    assert restored.run([("k", 7)]) == [214]
    assert (CALLS["plus_hundred"], CALLS["double"]) == (1, 1)  # both answered by the store
    assert restored.durable_replays == 2


def test_without_a_store_the_same_restore_calls_again() -> None:
    h = AgentTestHarness(TwoCallsAgent())
    before = h.snapshot()
    assert h.run([("k", 7)]) == [214]
    restored = AgentTestHarness.restore(TwoCallsAgent(), before)
    assert restored.run([("k", 7)]) == [214]
    assert (CALLS["plus_hundred"], CALLS["double"]) == (2, 2)


def test_two_jobs_sharing_a_store_do_not_see_each_others_records(
    store: InMemoryActionStateStore,
) -> None:
    a = AgentTestHarness(TwoCallsAgent(), STORE, store=store)
    b = AgentTestHarness(TwoCallsAgent(), {**STORE, "job-identifier": "job-b"}, store=store)
    assert a.run([("k", 7)]) == [214]
    assert b.run([("k", 7)]) == [214]
    assert (CALLS["plus_hundred"], CALLS["double"]) == (2, 2)
    assert a.action_state_store is store
    assert store.count("job-a") == store.count("job-b") == 2


def test_a_failing_store_fails_the_job_even_if_the_action_catches_everything(
    store: InMemoryActionStateStore,
) -> None:
    def act(event: InputEvent, ctx: RunnerContext) -> None:
        for i in range(3):
            # An action must not be able to go on without its record.
            with contextlib.suppress(Exception):
                ctx.durable_execute(count, "sync", i)
        ctx.send_event(OutputEvent(output="went on"))

    agent = Agent().add_action("act", [InputEvent], act, on_failure="emit")
    h = AgentTestHarness(agent, {**STORE, "action-state.write-attempts": 2}, store=store)
    store.failing_saves = 10**6
    with pytest.raises(ActionStateStoreError, match="after 2 attempt"):
        h.send("k", 1)
    assert CALLS["sync"] == 1  # the calls after the failed commit were refused


def test_transient_store_errors_are_retried(store: InMemoryActionStateStore) -> None:
    h = AgentTestHarness(TwoCallsAgent(), {**STORE, "action-state.write-attempts": 3}, store=store)
    store.failing_saves = 2
    assert h.run([("k", 7)]) == [214]
    assert store.count() == 2


def test_a_failing_store_fails_the_job_for_async_calls_too(
    store: InMemoryActionStateStore,
) -> None:
    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        try:
            value = await ctx.durable_execute_async(count, "async")
        except Exception:
            value = -1
        ctx.send_event(OutputEvent(output=value))

    h = AgentTestHarness(
        Agent().add_action("act", [InputEvent], act),
        {**STORE, "action-state.write-attempts": 1},
        store=store,
    )
    store.failing_saves = 10**6
    h.send("k", 1)
    with pytest.raises(ActionStateStoreError):
        h.drain()


def reconcile_42() -> int:
    count("reconciler")
    return 42


class ReconciledAgent(Agent):
    @action(InputEvent)
    @staticmethod
    async def run(event: InputEvent, ctx: RunnerContext) -> None:
        result = await ctx.durable_execute_async(durable(gated, reconciler=reconcile_42), 7)
        ctx.send_event(OutputEvent(output=result))


def test_a_call_started_after_the_snapshot_is_reconciled_from_the_store(
    store: InMemoryActionStateStore,
) -> None:
    h = AgentTestHarness(ReconciledAgent(), STORE, store=store)
    before = h.snapshot()
    assert h.send("k", 7) == []  # the call is running: PENDING is in the store, not the snapshot
    deadline = time.monotonic() + 10
    while CALLS["gated"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert CALLS["gated"] == 1
    h.close()
    restored = AgentTestHarness.restore(ReconciledAgent(), before, STORE, store=store)
    assert restored.run([("k", 7)]) == [42]
    assert CALLS["gated"] == 1  # the original attempt only
    assert CALLS["reconciler"] == 1


def pickled_result(x: int) -> Any:
    count("pickled")
    return {"x": x}


async def pickling_action(event: InputEvent, ctx: RunnerContext) -> None:
    call = durable(pickled_result, codec="pickle")
    ctx.send_event(OutputEvent(output=await ctx.durable_execute_async(call, event.input)))


def test_pickled_records_from_the_store_are_not_unpickled_unless_allowed(
    store: InMemoryActionStateStore,
) -> None:
    agent = Agent().add_action("act", [InputEvent], pickling_action)
    h = AgentTestHarness(agent, STORE, store=store)
    before = h.snapshot()
    assert h.run([("k", 3)]) == [{"x": 3}]
    refused = AgentTestHarness.restore(agent, before, STORE, store=store)
    with pytest.raises(ActionStateStoreError, match="allow-pickle"):
        refused.run([("k", 3)])
    allowed = AgentTestHarness.restore(
        agent, before, {**STORE, "action-state.allow-pickle": True}, store=store
    )
    assert allowed.run([("k", 3)]) == [{"x": 3}]
    assert CALLS["pickled"] == 1


def test_store_stays_bounded_on_a_long_stream(store: InMemoryActionStateStore) -> None:
    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.send_event(OutputEvent(output=await ctx.durable_execute_async(count, "x")))

    agent = Agent().add_action("act", [InputEvent], act)
    h = AgentTestHarness(agent, {**STORE, "action-state.retention.ms": 200}, store=store)
    sent, peak, started = 0, 0, time.monotonic()
    while time.monotonic() - started < 3.0:
        h.run([(sent % 50, sent)])
        sent += 1
        peak = max(peak, store.count())
    # Pruning runs every 50 ms and keeps 200 ms of records: about a tenth of 3 s worth at most.
    assert sent > 50
    assert peak < sent * 0.25, (peak, sent)
    assert CALLS["x"] == sent


def test_records_read_from_the_store_keep_exception_types_without_pickle(
    store: InMemoryActionStateStore,
) -> None:
    def boom() -> None:
        count("boom")
        raise ValueError("no luck")

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        try:
            ctx.durable_execute(boom)
        except ValueError as e:
            ctx.send_event(OutputEvent(output=f"ValueError: {e}"))

    agent = Agent().add_action("act", [InputEvent], act)
    h = AgentTestHarness(agent, STORE, store=store)
    before = h.snapshot()
    assert h.run([("k", 1)]) == ["ValueError: no luck"]
    restored = AgentTestHarness.restore(agent, before, STORE, store=store)
    assert restored.run([("k", 1)]) == ["ValueError: no luck"]  # rebuilt by type name
    assert CALLS["boom"] == 1


def test_a_timed_out_call_keeps_its_timeout_in_the_store(
    store: InMemoryActionStateStore,
) -> None:
    def slow() -> str:
        time.sleep(0.3)
        count("slow")
        return "late"

    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        try:
            value = await ctx.durable_execute_async(durable(slow, timeout_s=0.05))
        except DurableCallTimeoutError:
            value = "timed out"
        ctx.send_event(OutputEvent(output=value))

    agent = Agent().add_action("act", [InputEvent], act)
    h = AgentTestHarness(agent, STORE, store=store)
    before = h.snapshot()
    assert h.run([("k", 1)]) == ["timed out"]
    deadline = time.monotonic() + 5
    while CALLS["slow"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # the late outcome has come back and was not committed
    restored = AgentTestHarness.restore(agent, before, STORE, store=store)
    assert restored.run([("k", 1)]) == ["timed out"]  # replayed as the action first saw it
    assert CALLS["slow"] == 1
