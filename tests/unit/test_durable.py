"""Durable execution and async actions through the harness: the reference scenarios and ours."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from flink_agents_ctx import (
    ActionExecutionError,
    ActionFailedEvent,
    Agent,
    DurableCallError,
    DurableCallTimeoutError,
    DurableScopeError,
    InputEvent,
    JournalEncodingError,
    JournalMissError,
    NonDeterministicReplayError,
    OutputEvent,
    RetryPolicy,
    RunnerContext,
    action,
    current_call,
    durable,
)
from flink_agents_ctx.durable.identity import argument_digest, function_id
from flink_agents_ctx.durable.records import CallRecord, CallStatus, ErrorInfo
from flink_agents_ctx.testing import AgentTestHarness
from tests.support.durable_agents import (
    CALLS,
    AsyncChainAgent,
    CaughtFailureAgent,
    Gate,
    GatherAgent,
    SyncTripleAgent,
    TripleThenWaitAgent,
    TwoCallsAgent,
    UncaughtFailureAgent,
    boom,
    count,
    gated,
    slow_times_ten,
    triple,
)

pytestmark = pytest.mark.usefixtures("fresh_calls")


def one_action(func: Any, **options: Any) -> Agent:
    return Agent().add_action("act", [InputEvent], func, **options)


def cause_of(call: Any) -> BaseException:
    with pytest.raises(ActionExecutionError) as err:
        call()
    assert err.value.__cause__ is not None
    return err.value.__cause__


def record(fn: Any, *args: Any, position: str = "0", **fields: Any) -> CallRecord:
    status = fields.pop("status", CallStatus.SUCCEEDED)
    return CallRecord(position, function_id(fn), argument_digest(args, {}), status, **fields)


# -- reference scenarios ----------------------------------------------------------------------


def test_async_call_then_chain() -> None:
    assert AgentTestHarness(AsyncChainAgent()).run([("k", 5)]) == [100]
    assert CALLS["times_ten"] == 1


def test_two_chained_async_calls() -> None:
    assert AgentTestHarness(TwoCallsAgent()).run([("k", 7)]) == [214]


def test_two_keys_interleave() -> None:
    h = AgentTestHarness(AsyncChainAgent(), {"num-async-threads": 2})
    assert h.send(3, 3) == []  # waiting on its call
    assert h.send(4, 4) == []  # does not wait for key 3
    assert sorted(h.drain()) == [60, 80]


def test_sync_durable_call() -> None:
    assert AgentTestHarness(SyncTripleAgent()).run([("k", 5)]) == [15]
    assert CALLS["triple"] == 1


def test_replaying_a_recorded_journal_does_not_call_again() -> None:
    h = AgentTestHarness(SyncTripleAgent())
    assert h.replay("k", 7, [record(triple, 7, payload=b"21")]) == [21]
    assert CALLS["triple"] == 0
    assert h.durable_replays == 1


def test_recorded_exception_is_replayed_when_the_action_catches_it() -> None:
    failure = ErrorInfo.capture(ValueError("no luck with 7"))
    h = AgentTestHarness(CaughtFailureAgent())
    rec = record(boom, 7, status=CallStatus.FAILED, error=failure)
    assert h.replay("k", 7, [rec]) == ["ERROR:no luck with 7"]
    assert CALLS["boom"] == 0
    # A first run records the same thing.
    assert AgentTestHarness(CaughtFailureAgent()).run([("k", 7)]) == ["ERROR:no luck with 7"]
    assert CALLS["boom"] == 1


def test_recorded_exception_fails_the_action_again_when_uncaught() -> None:
    failure = ErrorInfo.capture(ValueError("no luck with 7"))
    h = AgentTestHarness(UncaughtFailureAgent())
    rec = record(boom, 7, status=CallStatus.FAILED, error=failure)
    cause = cause_of(lambda: h.replay("k", 7, [rec]))
    assert type(cause) is ValueError and str(cause) == "no luck with 7"
    assert CALLS["boom"] == 0


def reconcile_42() -> int:
    count("reconciler")
    return 42


class ReconciledAgent(Agent):
    @action(InputEvent)
    @staticmethod
    async def run(event: InputEvent, ctx: RunnerContext) -> None:
        result = await ctx.durable_execute_async(durable(gated, reconciler=reconcile_42), 7)
        ctx.send_event(OutputEvent(output=result))


class OtherCallAgent(Agent):
    @action(InputEvent)
    @staticmethod
    async def run(event: InputEvent, ctx: RunnerContext) -> None:
        call = durable(slow_times_ten, reconciler=reconcile_42)
        ctx.send_event(OutputEvent(output=await ctx.durable_execute_async(call, 7)))


def test_reconciler_answers_a_call_that_started_before_the_snapshot() -> None:
    h = AgentTestHarness(ReconciledAgent())
    assert h.send("k", 7) == []
    assert [r.status for r in h.journal("k")] == [CallStatus.PENDING]
    snap = h.snapshot()
    deadline = time.monotonic() + 5
    while CALLS["gated"] == 0 and time.monotonic() < deadline:
        time.sleep(0.005)  # the worker has started the call (closing drops calls not started)
    h.close()
    restored = AgentTestHarness.restore(ReconciledAgent(), snap)
    assert restored.drain() == [42]
    assert CALLS["gated"] == 1  # only the original attempt, still blocked on the gate
    assert CALLS["reconciler"] == 1


def test_pending_record_of_another_function_runs_the_new_call() -> None:
    h = AgentTestHarness(OtherCallAgent())
    assert h.replay("k", 7, [record(gated, 7, status=CallStatus.PENDING)]) == [70]
    assert CALLS["times_ten"] == 1
    assert CALLS["reconciler"] == 0
    assert h.journal_mismatches == 1


# -- snapshots while actions wait ------------------------------------------------------------


def test_snapshot_while_waiting_then_restore_makes_no_finished_call_again() -> None:
    h = AgentTestHarness(TripleThenWaitAgent())
    assert h.send("k", 7) == []
    assert [r.status for r in h.journal("k")] == [CallStatus.SUCCEEDED, CallStatus.PENDING]
    assert h.short_term_memory("k") == {}  # the waiting action's writes are not committed
    snap = h.snapshot()
    Gate.event.set()
    assert h.drain() == [21]  # the failure-free run
    restored = AgentTestHarness.restore(TripleThenWaitAgent(), snap)
    assert restored.drain() == [21]
    assert CALLS["triple"] == 1  # finished before the snapshot: never made again
    assert CALLS["gated"] == 2  # in flight at the snapshot, no reconciler: made again
    assert restored.short_term_memory("k") == {"seen": 7}
    assert restored.journal("k") == []  # dropped once the action completed


def test_events_sent_before_an_await_leave_only_when_the_action_finishes() -> None:
    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.send_event(OutputEvent(output="early"))
        await ctx.durable_execute_async(gated, 1)
        ctx.send_event(OutputEvent(output="late"))

    h = AgentTestHarness(one_action(act))
    assert h.send("k", 1) == []
    Gate.event.set()
    assert h.drain() == ["early", "late"]


def test_inputs_of_a_busy_key_wait_and_keep_their_order() -> None:
    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        if event.input == "first":
            await ctx.durable_execute_async(gated, 0)
        ctx.send_event(OutputEvent(output=f"{ctx.key}:{event.input}"))

    h = AgentTestHarness(one_action(act))
    assert h.send("a", "first") == []
    assert h.send("a", "second") == []  # waits behind "first"
    assert h.send("b", "other") == ["b:other"]  # another key is not held up
    snap = h.snapshot()
    Gate.event.set()
    assert h.drain() == ["a:first", "a:second"]
    assert AgentTestHarness.restore(one_action(act), snap).drain() == ["a:first", "a:second"]


def test_gather_runs_calls_together_and_journals_them_in_call_order() -> None:
    barrier = threading.Barrier(3, timeout=10)

    def meet(name: str, delay: float) -> str:
        count(name)
        barrier.wait()  # raises BrokenBarrierError unless all three run at the same time
        time.sleep(delay)
        return name

    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        results = await asyncio.gather(
            ctx.durable_execute_async(meet, "a", 0.06),
            ctx.durable_execute_async(meet, "b", 0.03),
            ctx.durable_execute_async(meet, "c", 0.0),
        )
        await ctx.durable_execute_async(gated, 0)
        ctx.send_event(OutputEvent(output=results))

    h = AgentTestHarness(one_action(act), {"num-async-threads": 4})
    h.send("k", 0)
    deadline = time.monotonic() + 10
    while len(h.journal("k")) < 4 and time.monotonic() < deadline:
        h.poll()
    journal = h.journal("k")
    assert [r.status for r in journal] == [CallStatus.SUCCEEDED] * 3 + [CallStatus.PENDING]
    assert [r.value() for r in journal[:3]] == ["a", "b", "c"]  # call order, not finish order
    snap = h.snapshot()
    Gate.event.set()
    restored = AgentTestHarness.restore(one_action(act), snap)
    assert restored.drain() == [["a", "b", "c"]]
    assert CALLS["a"] == CALLS["b"] == CALLS["c"] == 1


def test_end_of_input_finishes_every_key_together() -> None:
    second_calls = threading.Barrier(3, timeout=10)

    def call(x: int) -> int:
        count("call", x)
        if x >= 10:
            # Only passes if the second calls of all three keys run at the same time: a drain
            # that finished one key after the other would break the barrier.
            second_calls.wait()
        return x

    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.send_event(OutputEvent(output=await ctx.durable_execute_async(call, event.input)))

    h = AgentTestHarness(one_action(act), {"num-async-threads": 3})
    outputs = []
    for key in range(3):
        outputs += h.send(key, key)
        outputs += h.send(key, key + 10)  # waits behind the key's first input
    outputs += h.end_input()
    assert sorted(outputs) == [0, 1, 2, 10, 11, 12]
    assert CALLS["call"] == 6
    assert h.busy_keys == []


def test_end_of_input_does_not_spin_on_outcomes_nobody_waits_for() -> None:
    def slow(seconds: float) -> float:
        time.sleep(seconds)
        return seconds

    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        try:
            if event.input == "gives up":
                await ctx.durable_execute_async(durable(slow, timeout_s=0.05), 0.2)
            else:
                await ctx.durable_execute_async(slow, 0.8)
        except DurableCallTimeoutError:
            pass  # its late outcome still arrives, for a key with nothing waiting any more
        ctx.send_event(OutputEvent(output=event.input))

    h = AgentTestHarness(one_action(act), {"num-async-threads": 2})
    h.send("a", "gives up")
    h.send("b", "waits")
    h.poll(0.1)  # "a" has timed out and finished
    wall, cpu = time.monotonic(), time.process_time()
    h.end_input()
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    assert wall > 0.2
    assert cpu < 0.5 * wall, f"end of input used {cpu:.2f} s of CPU in {wall:.2f} s"


def test_end_of_input_applies_timeouts_and_timers_while_other_keys_still_wait() -> None:
    release = threading.Event()

    def blocked(x: str) -> str:
        release.wait(10)
        return x

    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        if event.input == "t":
            try:
                await ctx.durable_execute_async(durable(blocked, timeout_s=0.05), "t")
            except DurableCallTimeoutError:
                ctx.send_event(OutputEvent(output="timed out"))
        elif event.input == "s":
            await asyncio.sleep(0.05)
            ctx.send_event(OutputEvent(output="slept"))
        else:
            ctx.send_event(OutputEvent(output=await ctx.durable_execute_async(blocked, "w")))

    h = AgentTestHarness(one_action(act), {"num-async-threads": 3})
    for key in ("w", "t", "s"):
        assert h.send(key, key) == []  # all three wait
    threading.Timer(0.5, release.set).start()
    outputs = h.end_input()
    # The timeout and the sleep came due during the drain, before the blocked call returned.
    assert sorted(outputs[:2]) == ["slept", "timed out"]
    assert outputs[2:] == ["w"]
    assert h.busy_keys == []


def test_a_run_failing_the_job_keeps_its_journal_for_callbacks_before_the_restart() -> None:
    failed = []

    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        await ctx.durable_execute_async(triple, 2)
        await ctx.durable_execute_async(count, "second")  # parks: the journal is in state
        if not failed:
            failed.append(True)
            raise RuntimeError("fails the job once")
        ctx.send_event(OutputEvent(output="done"))

    h = AgentTestHarness(one_action(act))
    h.send("k", 0)
    with pytest.raises(ActionExecutionError):
        h.drain()
    # Flink may still fire a timer of the key before it cancels the task: the parked run in
    # state resumes and replays its recorded calls.
    assert h.drain() == ["done"]
    assert CALLS["triple"] == 1


def test_waiting_keys_share_one_poll_timer() -> None:
    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        await ctx.durable_execute_async(gated, event.input)
        ctx.send_event(OutputEvent(output=event.input))

    h = AgentTestHarness(one_action(act), {"num-async-threads": 4})
    for key in range(100):
        h.send(key, key)
    waited_until = time.monotonic() + 0.5
    while time.monotonic() < waited_until:
        h.poll()
    fired = h.timers_fired
    Gate.event.set()
    assert sorted(h.drain()) == list(range(100))
    # Half a second of 100 waiting keys: one poll timer backing off to 20 ms fires about 30
    # times; a timer per key polling the same way would fire about 3,000 times.
    assert 0 < fired < 100


def test_gather_wall_time_is_about_one_call() -> None:
    h = AgentTestHarness(GatherAgent(), {"num-async-threads": 3})
    assert h.run([("k", 1)]) == [[10, 101, 2]]


# -- identity and mismatch modes -------------------------------------------------------------


def test_strict_mode_raises_on_a_changed_call() -> None:
    h = AgentTestHarness(SyncTripleAgent(), {"durable-execution.mismatch-mode": "strict"})
    cause = cause_of(lambda: h.replay("k", 7, [record(boom, 7, payload=b"1")]))
    assert isinstance(cause, NonDeterministicReplayError)
    assert cause.call_position == "0"
    assert cause.expected.startswith(function_id(boom))
    assert cause.actual.startswith(function_id(triple))
    assert CALLS["triple"] == 0


def test_lenient_mode_calls_again_and_counts() -> None:
    h = AgentTestHarness(SyncTripleAgent())
    assert h.replay("k", 7, [record(triple, 8, payload=b"24")]) == [21]  # other arguments
    assert CALLS["triple"] == 1
    assert h.journal_mismatches == 1
    assert h.metric("numOfJournalMismatches") == 1


def test_replay_only_mode_refuses_unrecorded_calls() -> None:
    h = AgentTestHarness(SyncTripleAgent(), {"durable-execution.mismatch-mode": "replay-only"})
    assert h.replay("k", 7, [record(triple, 7, payload=b"21")]) == [21]
    cause = cause_of(lambda: h.run([("k", 8)]))
    assert isinstance(cause, JournalMissError) and cause.call_position == "0"
    assert CALLS["triple"] == 0


def test_explicit_call_id_replaces_function_and_arguments() -> None:
    def act(event: InputEvent, ctx: RunnerContext) -> None:
        lock = threading.Lock()  # no canonical encoding: needs an explicit identity
        call = durable(lambda _lock: count("locked") or 5, call_id="with-lock")
        ctx.send_event(OutputEvent(output=ctx.durable_execute(call, lock)))

    h = AgentTestHarness(one_action(act))
    assert h.run([("k", 0)]) == [5]
    rec = CallRecord("0", "id:with-lock", "-", CallStatus.SUCCEEDED, payload=b"6")
    assert h.replay("k2", 0, [rec]) == [6]
    assert CALLS["locked"] == 1


# -- failures, retries, timeouts -------------------------------------------------------------


def test_unrebuildable_exception_replays_as_a_typed_durable_call_error() -> None:
    failure = ErrorInfo("somewhere.not.imported.QuotaError", "quota exceeded", "Traceback ...")
    rec = record(boom, 7, status=CallStatus.FAILED, error=failure)
    cause = cause_of(lambda: AgentTestHarness(UncaughtFailureAgent()).replay("k", 7, [rec]))
    assert isinstance(cause, DurableCallError)
    assert cause.type_name == "somewhere.not.imported.QuotaError"
    assert cause.error_message == "quota exceeded"
    assert cause.remote_traceback == "Traceback ..."


class _TwoPartError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")


def test_exception_that_does_not_pickle_keeps_type_name_and_message() -> None:
    info = ErrorInfo.capture(_TwoPartError(429, "slow down"))
    assert info.pickled is None
    assert info.type_name.endswith("_TwoPartError") and info.message == "429: slow down"
    assert "_TwoPartError" in info.traceback or info.traceback == ""
    assert info.rebuild(allow_pickle=True) is None


def test_base_exceptions_are_not_journaled() -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.durable_execute(interrupted)

    h = AgentTestHarness(one_action(act))
    with pytest.raises(KeyboardInterrupt):
        h.send("k", 0)
    assert h.journal("k") == []


def test_retry_policy_retries_listed_exceptions() -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(current_call().attempt)
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return "ok"

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        policy = RetryPolicy(max_attempts=3, initial_delay_s=0, retry_on=(ConnectionError,))
        ctx.send_event(OutputEvent(output=ctx.durable_execute(durable(flaky, retry=policy))))

    assert AgentTestHarness(one_action(act)).run([("k", 0)]) == ["ok"]
    assert attempts == [1, 2, 3]


def test_retry_policy_does_not_retry_other_exceptions() -> None:
    def act(event: InputEvent, ctx: RunnerContext) -> None:
        policy = RetryPolicy(max_attempts=5, initial_delay_s=0, retry_on=(ConnectionError,))
        ctx.durable_execute(durable(boom, retry=policy), 1)

    assert isinstance(cause_of(lambda: AgentTestHarness(one_action(act)).send("k", 0)), ValueError)
    assert CALLS["boom"] == 1


def test_timeouts_fail_sync_and_async_calls() -> None:
    def sync_act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.durable_execute(durable(gated, timeout_s=0.05), 1)

    async def async_act(event: InputEvent, ctx: RunnerContext) -> None:
        try:
            await ctx.durable_execute_async(durable(gated, timeout_s=0.05), 2)
        except DurableCallTimeoutError as e:
            ctx.send_event(OutputEvent(output=f"timed out: call {e.call_position}"))

    cause = cause_of(lambda: AgentTestHarness(one_action(sync_act)).send("k", 0))
    assert isinstance(cause, DurableCallTimeoutError)
    assert AgentTestHarness(one_action(async_act)).run([("k", 0)]) == ["timed out: call 0"]


def test_result_the_codec_cannot_record_fails_loudly() -> None:
    def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.durable_execute(threading.Lock)

    cause = cause_of(lambda: AgentTestHarness(one_action(act)).send("k", 0))
    assert isinstance(cause, JournalEncodingError) and cause.codec == "json"
    assert "codec='pickle'" in str(cause)


def test_memory_events_and_resources_are_refused_inside_durable_calls() -> None:
    def sync_act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.durable_execute(lambda: ctx.short_term_memory.get("x"))

    async def async_act(event: InputEvent, ctx: RunnerContext) -> None:
        await ctx.durable_execute_async(lambda: ctx.send_event(OutputEvent(output=1)))

    for act in (sync_act, async_act):
        cause = cause_of(lambda act=act: AgentTestHarness(one_action(act)).run([("k", 0)]))
        assert isinstance(cause, DurableScopeError)


def test_idempotency_key_is_stable_across_a_restore() -> None:
    keys: list[str] = []

    def keyed(x: int) -> int:
        keys.append(current_call().idempotency_key)
        return gated(x)

    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.send_event(OutputEvent(output=await ctx.durable_execute_async(keyed, 1)))

    h = AgentTestHarness(one_action(act), {"job-identifier": "orders"})
    h.send("k", 0)
    snap = h.snapshot()
    Gate.event.set()
    assert AgentTestHarness.restore(one_action(act), snap, {"job-identifier": "orders"}).drain()
    assert len(keys) == 2 and keys[0] == keys[1]
    assert keys[0].startswith("orders:") and keys[0].endswith(":act.0:0")
    assert keys[0].split(":")[2] == "0"  # the key's first input that needed an identity


def test_emit_policy_turns_a_failure_into_an_event() -> None:
    class Guarded(Agent):
        @action(InputEvent, on_failure="emit")
        @staticmethod
        def run(event: InputEvent, ctx: RunnerContext) -> None:
            ctx.short_term_memory.set("half-done", True)
            ctx.durable_execute(boom, event.input)

        @action(ActionFailedEvent)
        @staticmethod
        def report(event: ActionFailedEvent, ctx: RunnerContext) -> None:
            ctx.send_event(OutputEvent(output=f"{event.action}:{event.error_type}:{event.message}"))

    h = AgentTestHarness(Guarded())
    assert h.run([("k", 3)]) == ["run:ValueError:no luck with 3"]
    assert h.short_term_memory("k") == {}
