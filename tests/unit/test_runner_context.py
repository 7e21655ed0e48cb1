"""Runner-context behaviour through the harness: events, errors, resources, config, async."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from typing import Any

import pytest

from flink_agents_ctx import (
    ActionExecutionError,
    Agent,
    AgentDefinitionError,
    ConfigError,
    Event,
    EventSerializationError,
    InputEvent,
    MailboxThreadError,
    MemoryValueError,
    MetricGroup,
    OutputEvent,
    ResourceContext,
    ResourceType,
    RunnerContext,
    UnknownResourceError,
    UnsupportedAwaitError,
    action,
)
from flink_agents_ctx.testing import AgentTestHarness
from flink_agents_ctx.testing.fakes import InMemoryKeyedState, InMemoryMetricBackend


class Carrier(Event):
    payload: Any


def single_action_agent(func: Any, **config: Any) -> Agent:
    agent = Agent()
    agent.add_action("only", [InputEvent], func, **config)
    return agent


def failure_of(h: AgentTestHarness, key: str, value: Any) -> BaseException:
    with pytest.raises(ActionExecutionError) as err:
        h.send(key, value)
    assert err.value.__cause__ is not None
    return err.value.__cause__


def test_non_serialisable_event_names_type_and_field_and_commits_nothing() -> None:
    def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.short_term_memory.set("written", True)
        ctx.send_event(OutputEvent(output="never"))
        ctx.send_event(Carrier(payload={"when": datetime(2026, 1, 1)}))

    h = AgentTestHarness(single_action_agent(act))
    cause = failure_of(h, "k", 1)
    assert isinstance(cause, EventSerializationError)
    assert cause.event_type.endswith("Carrier")
    assert cause.field == "payload['when']"
    assert "has type datetime" in str(cause)
    assert h.short_term_memory("k") == {}


def test_sending_a_non_event_is_a_typed_error() -> None:
    h = AgentTestHarness(single_action_agent(lambda e, ctx: ctx.send_event({"x": 1})))
    assert isinstance(failure_of(h, "k", 1), EventSerializationError)


def test_failed_action_commits_nothing_and_later_inputs_work() -> None:
    def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.short_term_memory.set("last", event.input)
        ctx.sensory_memory.set("seen", True)
        if event.input == "boom":
            raise ValueError("bad input")
        ctx.send_event(OutputEvent(output=event.input))

    h = AgentTestHarness(single_action_agent(act))
    assert h.send("k", "ok") == ["ok"]
    with pytest.raises(ActionExecutionError, match="action 'only' failed .* ValueError: bad"):
        h.send("k", "boom")
    assert h.short_term_memory("k") == {"last": "ok"}
    assert h.sensory_memory("k") == {}
    assert h.send("k", "again") == ["again"]


def test_bad_memory_value_in_an_action_is_typed() -> None:
    h = AgentTestHarness(single_action_agent(lambda e, ctx: ctx.short_term_memory.set("s", {1})))
    cause = failure_of(h, "k", 1)
    assert isinstance(cause, MemoryValueError)
    assert h.short_term_memory("k") == {}


def test_unknown_resource_lists_what_is_declared() -> None:
    agent = single_action_agent(lambda e, ctx: ctx.get_resource("llm", ResourceType.CHAT_MODEL))
    agent.add_resource("tool", ResourceType.TOOL, lambda: object())
    cause = failure_of(AgentTestHarness(agent), "k", 1)
    assert isinstance(cause, UnknownResourceError)
    assert isinstance(cause, KeyError)
    assert cause.name == "llm"
    assert "tool (tool)" in str(cause)


def test_resource_of_the_wrong_type_is_unknown() -> None:
    agent = single_action_agent(lambda e, ctx: ctx.get_resource("tool", ResourceType.CHAT_MODEL))
    agent.add_resource("tool", ResourceType.TOOL, lambda: object())
    cause = failure_of(AgentTestHarness(agent), "k", 1)
    assert isinstance(cause, UnknownResourceError)
    assert "declared as tool" in str(cause)


class Model:
    """A resource that records the metric group of whichever action calls it."""

    built = 0
    last: Model | None = None

    def __init__(self, rc: ResourceContext) -> None:
        Model.built += 1
        Model.last = self
        self.rc = rc
        self.closed = False

    def call(self) -> None:
        self.rc.metric_group.get_counter("model_calls").inc()

    def close(self) -> None:
        self.closed = True


class TwoCallers(Agent):
    @action(InputEvent)
    @staticmethod
    def first(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.get_resource("model", ResourceType.CHAT_MODEL).call()
        ctx.send_event(Carrier(payload=1))

    @action(Carrier)
    @staticmethod
    def second(event: Carrier, ctx: RunnerContext) -> None:
        model = ctx.get_resource("model", ResourceType.CHAT_MODEL)
        model.call()
        model.call()


def test_resources_are_built_once_see_the_calling_action_and_close() -> None:
    Model.built = 0
    agent = TwoCallers().add_resource("model", ResourceType.CHAT_MODEL, Model)
    h = AgentTestHarness(agent)
    h.run([("a", 1), ("b", 2)])
    assert Model.built == 1
    assert h.metric("action", "first", "model_calls") == 2
    assert h.metric("action", "second", "model_calls") == 4
    model = Model.last
    h.close()
    assert model is not None and model.closed


def test_action_config_values() -> None:
    seen: list[Any] = []

    class Configured(Agent):
        @action(InputEvent, temperature=0.2)
        @staticmethod
        def tuned(event: InputEvent, ctx: RunnerContext) -> None:
            seen.append((ctx.get_action_config_value("temperature"), dict(ctx.action_config)))
            ctx.send_event(Carrier(payload=0))

        @action(Carrier)
        @staticmethod
        def plain(event: Carrier, ctx: RunnerContext) -> None:
            seen.append((ctx.get_action_config_value("temperature"), dict(ctx.action_config)))
            seen.append(ctx.config.get_int("retries", 3))

    AgentTestHarness(Configured(), {"retries": "5"}).send("k", 1)
    assert seen == [(0.2, {"temperature": 0.2}), (None, {}), 5]


def test_outputs_carry_the_input_timestamp() -> None:
    captured: list[OutputEvent] = []

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        out = OutputEvent(output=event.input)
        captured.append(out)
        ctx.send_event(out)

    h = AgentTestHarness(single_action_agent(act))
    assert h.send("k", "v", timestamp=1234) == ["v"]
    assert captured[0].source_timestamp == 1234


def test_async_action_without_suspension_runs() -> None:
    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.send_event(OutputEvent(output=event.input * 2))

    assert AgentTestHarness(single_action_agent(act)).run([("k", 21)]) == [42]


def test_async_action_waiting_on_what_nothing_completes_is_refused() -> None:
    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        await asyncio.Event().wait()  # nothing in the action can ever set it

    cause = failure_of(AgentTestHarness(single_action_agent(act)), "k", 1)
    assert isinstance(cause, UnsupportedAwaitError)
    assert "durable_execute_async" in str(cause)


def test_async_action_needing_an_io_loop_is_refused() -> None:
    async def act(event: InputEvent, ctx: RunnerContext) -> None:
        await asyncio.get_running_loop().getaddrinfo("localhost", 80)

    cause = failure_of(AgentTestHarness(single_action_agent(act)), "k", 1)
    assert isinstance(cause, UnsupportedAwaitError)
    assert "getaddrinfo" in str(cause)


def test_send_event_from_a_worker_thread_is_refused() -> None:
    errors: list[BaseException] = []

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        def worker() -> None:
            try:
                ctx.send_event(OutputEvent(output=1))
            except BaseException as e:
                errors.append(e)

        t = threading.Thread(target=worker)
        t.start()
        t.join()

    assert AgentTestHarness(single_action_agent(act)).send("k", 1) == []
    assert [type(e) for e in errors] == [MailboxThreadError]


def test_get_resource_from_a_worker_thread_is_refused() -> None:
    errors: list[BaseException] = []

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        t = threading.Thread(target=lambda: _capture(errors, ctx))
        t.start()
        t.join()

    agent = single_action_agent(act).add_resource("t", ResourceType.TOOL, lambda: 1)
    AgentTestHarness(agent).send("k", 1)
    assert [type(e) for e in errors] == [MailboxThreadError]


def _capture(errors: list[BaseException], ctx: RunnerContext) -> None:
    try:
        ctx.get_resource("t", ResourceType.TOOL)
    except BaseException as e:
        errors.append(e)


def test_events_dispatch_to_subscribers_of_base_classes_in_declaration_order() -> None:
    order: list[str] = []

    class Sub(Carrier):
        pass

    class Dispatch(Agent):
        @action(InputEvent)
        @staticmethod
        def start(event: InputEvent, ctx: RunnerContext) -> None:
            ctx.send_event(Sub(payload=1))

        @action(Carrier)
        @staticmethod
        def base_listener(event: Carrier, ctx: RunnerContext) -> None:
            order.append("base")

        @action(Sub)
        @staticmethod
        def sub_listener(event: Sub, ctx: RunnerContext) -> None:
            order.append("sub")

    AgentTestHarness(Dispatch()).send("k", 1)
    assert order == ["base", "sub"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Agent().plan(), "has no actions"),
        (lambda: Agent().add_action("a", [int], lambda e, c: None), "not an Event subclass"),
        (lambda: Agent().add_action("a", [InputEvent], lambda e: None), r"exactly \(event, ctx\)"),
        (lambda: Agent().add_resource("r", "tool", lambda: 1), "must be a ResourceType"),  # type: ignore[arg-type]
        (
            lambda: Agent().add_resource("r", ResourceType.TOOL, lambda a, b: 1),
            "no argument or one ResourceContext",
        ),
        (lambda: action()(lambda e, c: None), "at least one event type"),
    ],
)
def test_bad_definitions_fail_when_built(build: Any, message: str) -> None:
    with pytest.raises(AgentDefinitionError, match=message):
        build()


def test_action_must_be_static() -> None:
    class Bad(Agent):
        @action(InputEvent)
        def method(self, event: InputEvent) -> None:
            pass

    with pytest.raises(AgentDefinitionError, match="must be a @staticmethod"):
        Bad()


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"short-term-memory.state-ttl.ms": "soon"}, "short-term-memory.state-ttl.ms"),
        ({"short-term-memory.state-ttl.visibility": "Sometimes"}, "visibility"),
        ({"short-term-memory.state-ttl.ms": True}, "state-ttl.ms"),
    ],
)
def test_misconfigured_options_fail_at_construction(config: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        AgentTestHarness(single_action_agent(lambda e, c: None), config)


def test_metric_group_names_with_equals_are_rejected() -> None:
    from flink_agents_ctx import MetricNameError
    from flink_agents_ctx.testing.fakes import InMemoryMetricBackend

    group = MetricGroup(InMemoryMetricBackend())
    with pytest.raises(MetricNameError, match="contains '='"):
        group.get_sub_group("a=b")
    with pytest.raises(MetricNameError, match="contains '='"):
        group.get_sub_group("k", "v=1")
    with pytest.raises(MetricNameError):
        group.get_counter("x=y")
    assert group.get_sub_group("k", "v") is group.get_sub_group("k", "v")


def test_a_failing_state_write_at_commit_fails_that_action_only() -> None:
    from flink_agents_ctx.config import AgentConfig
    from flink_agents_ctx.operator.wiring import build_operator
    from flink_agents_ctx.testing.fakes import InMemoryKeyedState, InMemoryMetricBackend
    from flink_agents_ctx.types import MemoryType

    class FlakyState(InMemoryKeyedState):
        """A keyed-state fake whose short-term map fails one put (a storage fault)."""

        fail_next_put = False

        def map_state(self, name: str, ttl: Any = None) -> Any:
            store = super().map_state(name, ttl)
            put = store.put

            def flaky_put(key: str, value: Any) -> None:
                if FlakyState.fail_next_put and name.endswith("short-term-memory"):
                    FlakyState.fail_next_put = False
                    raise OSError("disk full")
                put(key, value)

            store.put = flaky_put  # type: ignore[method-assign]
            return store

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.short_term_memory.set("owner", event.input)
        ctx.send_event(OutputEvent(output=event.input))

    state = FlakyState()
    core, probe = build_operator(
        single_action_agent(act).plan(), state, InMemoryMetricBackend(), AgentConfig()
    )
    state.set_current_key("k1")
    FlakyState.fail_next_put = True
    with pytest.raises(ActionExecutionError) as err:
        core.process_input("k1", "k1-data", None, _NoTimers())
    assert isinstance(err.value.__cause__, OSError)
    state.set_current_key("k2")
    assert core.process_input("k2", "k2-data", None, _NoTimers()) == ["k2-data"]
    assert probe.memory(MemoryType.SHORT_TERM) == {"owner": "k2-data"}


def test_overriding_an_action_without_the_decorator_removes_it() -> None:
    class Base(Agent):
        @action(InputEvent)
        @staticmethod
        def first(event: InputEvent, ctx: RunnerContext) -> None:
            ctx.send_event(OutputEvent(output="base"))

        @action(InputEvent)
        @staticmethod
        def second(event: InputEvent, ctx: RunnerContext) -> None:
            ctx.send_event(OutputEvent(output="second"))

    class Sub(Base):
        @staticmethod
        def first(event: InputEvent, ctx: RunnerContext) -> None:
            ctx.send_event(OutputEvent(output="sub"))

    assert list(Sub().actions) == ["second"]
    assert AgentTestHarness(Sub()).send("k", 1) == ["second"]


def test_ttl_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        AgentTestHarness(
            single_action_agent(lambda e, c: None), {"short-term-memory.state-ttl.ms": 0}
        )


def test_a_factory_returning_none_is_still_called_once() -> None:
    calls: list[int] = []

    def factory() -> None:
        calls.append(1)

    def act(event: InputEvent, ctx: RunnerContext) -> None:
        assert ctx.get_resource("nothing", ResourceType.TOOL) is None

    agent = single_action_agent(act).add_resource("nothing", ResourceType.TOOL, factory)
    AgentTestHarness(agent).run([("a", 1), ("b", 2)])
    assert calls == [1]


class _NoTimers:
    """Timers for runs that never wait (every action here is synchronous)."""

    def now_ms(self) -> int:
        return 0

    def wake_at(self, time_ms: int) -> None:
        raise AssertionError("a synchronous run registered a timer")

    def at_end_of_input(self) -> None:
        raise AssertionError("a synchronous run registered a timer")

    def cancel_end_of_input(self) -> None:
        raise AssertionError("a synchronous run cancelled a timer")


class CountingState(InMemoryKeyedState):
    """Counts reads of the short-term memory map (what a call into the JVM costs in a job)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def map_state(self, name: str, ttl: Any = None) -> Any:
        store = super().map_state(name, ttl)
        if name.endswith("short-term-memory"):
            get = store.get

            def counted(key: str) -> Any:
                self.reads += 1
                return get(key)

            store.get = counted  # type: ignore[method-assign]
        return store


def counter_agent() -> Agent:
    def act(event: InputEvent, ctx: RunnerContext) -> None:
        key, fail = event.input
        memory = ctx.short_term_memory
        n = (memory.get("n") or 0) + 1
        memory.set("n", n)
        if fail:
            raise ValueError("after writing")
        ctx.send_event(OutputEvent(output=(key, n)))

    return single_action_agent(act)


@pytest.mark.parametrize("cache_keys", [0, 2, 4096])
def test_memory_stays_exact_with_reads_kept_between_inputs(cache_keys: int) -> None:
    from flink_agents_ctx.config import AgentConfig
    from flink_agents_ctx.operator.wiring import build_operator

    state = CountingState()
    config = AgentConfig({"short-term-memory.cache-keys": cache_keys})
    core, _ = build_operator(counter_agent().plan(), state, InMemoryMetricBackend(), config)
    outputs = []
    for i in range(30):
        key = f"k{i % 5}"  # five keys round robin: more than a cache of two keeps
        state.set_current_key(key)
        fail = i % 7 == 3  # a failed action's write must not be seen by the next input
        try:
            outputs.extend(core.process_input(key, (key, fail), None, _NoTimers()))
        except ActionExecutionError:
            assert fail
    counts: dict[str, int] = {}
    expected = []
    for i in range(30):
        key = f"k{i % 5}"
        if i % 7 != 3:
            counts[key] = counts.get(key, 0) + 1
            expected.append((key, counts[key]))
    assert outputs == expected
    # Without kept reads every input reads its counter (30), and a key's first input (and k3's
    # next one: its first failed) also reads the root to create it (6). Kept for all keys: only
    # those 10 + 2 first reads, and one read after each of the three other failures, whose
    # aborted action dropped the key's cache. Two kept keys never cover five in round robin.
    assert state.reads == (15 if cache_keys == 4096 else 36)


def test_bytes_read_from_memory_can_be_sent_in_an_event() -> None:
    def act(event: InputEvent, ctx: RunnerContext) -> None:
        memory = ctx.short_term_memory
        if event.input == "store":
            memory.set("blob", b"\x00\xffpayload")
        else:
            ctx.send_event(Carrier(payload={"blob": memory.get("blob")}))
            ctx.send_event(OutputEvent(output=memory.get("blob")))

    h = AgentTestHarness(single_action_agent(act))
    assert h.run([("k", "store"), ("k", "send")]) == [b"\x00\xffpayload"]
