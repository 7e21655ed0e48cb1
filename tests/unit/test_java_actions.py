"""Java actions through the core's side of the bridge, in the harness.

The "Java classes" here are Python stand-ins run by :class:`ScriptedJavaRuntime`: they talk to the
real :class:`~flink_agents_ctx.context.java.JavaEndpoint` in wire text, exactly as the Java bridge
does. The Java side has its own tests (``java-bridge/src/test``), and
``tests/integration/test_java_bridge.py`` runs both together in a mini-cluster job.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import pytest

from flink_agents_ctx import (
    ActionExecutionError,
    ActionFailedEvent,
    Agent,
    AgentDefinitionError,
    Event,
    InputEvent,
    JavaActionError,
    JavaBridgeError,
    JavaCallError,
    OutputEvent,
    ResourceType,
    RunnerContext,
    action,
)
from flink_agents_ctx.testing import AgentTestHarness
from flink_agents_ctx.testing.fakes import InMemoryActionStateStore
from flink_agents_ctx.testing.scripted_java import (
    ScriptedJavaContext,
    ScriptedJavaError,
    ScriptedJavaRuntime,
)

STORE = {"job-identifier": "java-test"}


class Checked(Event):
    note: str


class Back(Event):
    value: Any


class Mixed(Agent):
    """Python -> Java -> Python, each reading what the others wrote."""

    @action(InputEvent)
    @staticmethod
    def first(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.sensory_memory.set("from_python", event.input)
        count = ctx.short_term_memory.get("count") or 0
        ctx.short_term_memory.set("count", count + 1)
        ctx.send_event(Checked(note=f"n={event.input}"))

    @action(Back)
    @staticmethod
    def last(event: Back, ctx: RunnerContext) -> None:
        ctx.send_event(
            OutputEvent(
                output={
                    "back": event.value,
                    "java_wrote": ctx.sensory_memory.get("from_java"),
                    "seen": ctx.short_term_memory.get("java.seen"),
                }
            )
        )


def rules(event: dict[str, Any], ctx: ScriptedJavaContext) -> None:
    assert event["type"] == Checked.type_name()
    got = ctx.get("sensory", "from_python")
    count = ctx.get("short_term", "count")
    seen = ctx.get("short_term", "java.seen") or 0
    ctx.set("short_term", "java.seen", seen + 1)
    ctx.set("sensory", "from_java", {"bytes": b"\x01", "limit": ctx.action_config["limit"]})
    ctx.send("Back", {"value": [got, count, event["fields"]["note"]]})


def mixed_agent(**config: Any) -> Agent:
    return Mixed().add_java_action("rules", "com.example.Rules", [Checked], limit=3, **config)


def harness(agent: Agent, classes: dict[str, Any], **kwargs: Any) -> AgentTestHarness:
    return AgentTestHarness(agent, java_runtime=lambda: ScriptedJavaRuntime(classes), **kwargs)


def test_python_java_python_share_memory_and_events() -> None:
    h = harness(mixed_agent(), {"com.example.Rules": rules})
    out = h.run([("k", 5), ("k", 6)])
    assert out == [
        {"back": [5, 1, "n=5"], "java_wrote": {"bytes": b"\x01", "limit": 3}, "seen": 1},
        {"back": [6, 2, "n=6"], "java_wrote": {"bytes": b"\x01", "limit": 3}, "seen": 2},
    ]
    assert h.short_term_memory("k") == {"count": 2, "java": {"seen": 2}}
    assert h.metric("action", "rules", "numOfActionsExecuted") == 2


def test_the_runtime_is_opened_once_per_operator_and_closed_with_it() -> None:
    runtimes: list[ScriptedJavaRuntime] = []

    def make() -> ScriptedJavaRuntime:
        runtimes.append(ScriptedJavaRuntime({"com.example.Rules": rules}))
        return runtimes[-1]

    h = AgentTestHarness(mixed_agent(), java_runtime=make)
    assert runtimes == []  # lazily, on the first Java action
    h.run([("a", 1), ("b", 2)])
    assert len(runtimes) == 1
    assert list(runtimes[0].loaded) == ["rules"]
    h.close()
    assert runtimes[0].closed


def test_memory_errors_reach_java_with_the_python_type_and_message() -> None:
    errors: list[dict[str, Any]] = []

    def java(event: dict[str, Any], ctx: ScriptedJavaContext) -> None:
        ctx.set("short_term", "a", 1)
        for attempt in (lambda: ctx.set("short_term", "a.b", 2), lambda: ctx.get("short_term", "")):
            try:
                attempt()
            except ScriptedJavaError as e:
                errors.append(e.body)

    agent = Agent().add_java_action("j", "J", [InputEvent])
    harness(agent, {"J": java}).run([("k", 1)])
    assert [e["type"] for e in errors] == ["MemoryPathError", "MemoryPathError"]
    assert "'a'" in errors[0]["message"]


def test_java_action_exception_fails_the_job_with_class_and_message() -> None:
    def java(event: dict[str, Any], ctx: ScriptedJavaContext) -> None:
        raise IllegalStateException("no rules loaded")

    agent = Agent().add_java_action("j", "J", [InputEvent])
    with pytest.raises(
        ActionExecutionError, match="IllegalStateException: no rules loaded"
    ) as info:
        harness(agent, {"J": java}).run([("k", 1)])
    cause = info.value.__cause__
    assert isinstance(cause, JavaActionError)
    assert cause.java_class == "IllegalStateException"
    assert cause.java_message == "no rules loaded"
    assert cause.java_stack == "scripted"


class IllegalStateException(Exception):
    """Stands for the Java exception of the same name."""


def test_java_action_exception_with_emit_policy_continues_the_run() -> None:
    class Catcher(Agent):
        @action(ActionFailedEvent)
        @staticmethod
        def caught(event: ActionFailedEvent, ctx: RunnerContext) -> None:
            ctx.send_event(OutputEvent(output=(event.action, event.error_type, event.message)))

    def java(event: dict[str, Any], ctx: ScriptedJavaContext) -> None:
        ctx.set("short_term", "lost", True)
        raise IllegalStateException("bad input")

    agent = Catcher().add_java_action("j", "J", [InputEvent], on_failure="emit")
    h = harness(agent, {"J": java})
    assert h.run([("k", 1)]) == [("j", "JavaActionError", "IllegalStateException: bad input")]
    assert h.short_term_memory("k") == {}  # nothing the failed action did was committed


def test_durable_call_is_journaled_and_replayed_without_calling_java_again() -> None:
    made: list[int] = []

    def java(event: dict[str, Any], ctx: ScriptedJavaContext) -> None:
        def score() -> dict[str, Any]:
            made.append(1)
            return {"score": 7, "raw": b"\x02"}

        result = ctx.durable_execute("score", score)
        ctx.send(OutputEvent.type_name(), {"output": result})
        if ctx.action_config.get("crash"):
            raise IllegalStateException("crash after the call")

    # With the write-ahead store, a restore after a crash does not make the call again.
    store = InMemoryActionStateStore()
    crashing = Agent().add_java_action("j", "J", [InputEvent], crash=True)
    first = harness(crashing, {"J": java}, config=STORE, store=store)
    checkpoint = first.snapshot()
    with pytest.raises(ActionExecutionError, match="crash after the call"):
        first.send("k", 1)
    assert made == [1]

    fine = Agent().add_java_action("j", "J", [InputEvent])
    second = AgentTestHarness.restore(
        fine, checkpoint, STORE, store=store, java_runtime=lambda: ScriptedJavaRuntime({"J": java})
    )
    assert second.run([("k", 1)]) == [{"score": 7, "raw": b"\x02"}]
    assert made == [1]
    assert second.durable_replays == 1


def test_java_call_failure_is_recorded_and_replayed_as_the_same_failure() -> None:
    seen: list[dict[str, Any]] = []

    def java(event: dict[str, Any], ctx: ScriptedJavaContext) -> None:
        def read() -> None:
            raise OSError("disk gone")

        try:
            ctx.durable_execute("read", read)
        except ScriptedJavaError as e:
            seen.append(e.body)
        if ctx.action_config.get("crash"):
            raise IllegalStateException("crash")

    store = InMemoryActionStateStore()
    crashing = Agent().add_java_action("j", "J", [InputEvent], crash=True)
    first = harness(crashing, {"J": java}, config=STORE, store=store)
    checkpoint = first.snapshot()
    with pytest.raises(ActionExecutionError):
        first.send("k", 1)
    fine = Agent().add_java_action("j", "J", [InputEvent])
    second = AgentTestHarness.restore(
        fine, checkpoint, STORE, store=store, java_runtime=lambda: ScriptedJavaRuntime({"J": java})
    )
    second.run([("k", 1)])
    assert second.durable_replays == 1
    assert [(b["type"], b["class"], b["message"]) for b in seen] == [
        ("JavaCallError", "OSError", "disk gone"),
        ("JavaCallError", "OSError", "disk gone"),
    ]


def test_java_call_error_rebuilds_from_its_message_alone() -> None:
    error = JavaCallError("java.io.IOException: disk gone")
    assert (error.java_class, error.java_message) == ("java.io.IOException", "disk gone")


def test_memory_inside_a_durable_call_is_the_durable_scope_error() -> None:
    seen: list[str] = []

    def java(event: dict[str, Any], ctx: ScriptedJavaContext) -> None:
        def sneaky() -> Any:
            try:
                return ctx.get("short_term", "x")
            except ScriptedJavaError as e:
                seen.append(e.body["type"])
                raise

        with contextlib.suppress(ScriptedJavaError):
            ctx.durable_execute("sneaky", sneaky)

    harness(Agent().add_java_action("j", "J", [InputEvent]), {"J": java}).run([("k", 1)])
    assert seen == ["DurableScopeError"]


def test_python_resource_asked_for_from_java_is_named() -> None:
    seen: list[dict[str, Any]] = []

    def java(event: dict[str, Any], ctx: ScriptedJavaContext) -> None:
        for name in ("model", "nothing"):
            try:
                ctx.call("resource", name, "chat_model")
            except ScriptedJavaError as e:
                seen.append(e.body)

    agent = Agent().add_java_action("j", "J", [InputEvent])
    agent.add_resource("model", ResourceType.CHAT_MODEL, lambda: object())
    harness(agent, {"J": java}).run([("k", 1)])
    assert seen[0]["type"] == "JavaBridgeError"
    assert "resource 'model' (chat_model) is a Python resource" in seen[0]["message"]
    assert seen[1]["type"] == "UnknownResourceError"


def test_metrics_from_java_land_in_the_action_group() -> None:
    def java(event: dict[str, Any], ctx: ScriptedJavaContext) -> None:
        ctx.call("metric", "action", "[]", "counter", "rulesChecked", 2)
        ctx.call("metric", "agent", '[["rule","r1"]]', "gauge", "lastScore", 0.5)

    h = harness(Agent().add_java_action("j", "J", [InputEvent]), {"J": java})
    h.run([("k", 1), ("k", 2)])
    assert h.metric("action", "j", "rulesChecked") == 4
    assert h.metric("rule", "r1", "lastScore") == 0.5


def test_missing_class_and_missing_runtime_are_clear_errors() -> None:
    agent = Agent().add_java_action("j", "com.example.Missing", [InputEvent])
    with pytest.raises(ActionExecutionError, match="com.example.Missing was not found") as info:
        harness(agent, {}).run([("k", 1)])
    assert isinstance(info.value.__cause__, JavaBridgeError)
    with pytest.raises(ActionExecutionError) as info:
        AgentTestHarness(agent).run([("k", 1)])
    assert "runs without a JVM" in str(info.value.__cause__)


def test_java_action_definition_is_checked() -> None:
    with pytest.raises(AgentDefinitionError, match="is not a Java class name"):
        Agent().add_java_action("j", "not a class", [InputEvent])
    with pytest.raises(AgentDefinitionError, match="Java action settings must be JSON data"):
        Agent().add_java_action("j", "a.B", [InputEvent], when=object())
    with pytest.raises(AgentDefinitionError, match="already has an action"):
        Agent().add_java_action("j", "a.B", [InputEvent]).add_java_action("j", "a.C", [InputEvent])


# -- suspended Java actions (JDK 21 continuations; here the scripted runtime's generators) -----


class Concurrency:
    """Counts calls running at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.made: list[Any] = []

    def call(self, value: Any, seconds: float) -> Any:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.made.append(value)
        time.sleep(seconds)
        with self.lock:
            self.running -= 1
        return value


def test_suspended_java_actions_let_other_keys_run_their_calls_meanwhile() -> None:
    seen = Concurrency()

    def java(event: dict[str, Any], ctx: ScriptedJavaContext) -> Any:
        key, n = event["fields"]["input"]
        result = yield ctx.durable_execute_async("lookup", lambda: seen.call(n, 0.05))
        ctx.set("short_term", "last", result)
        ctx.send(OutputEvent.type_name(), {"output": [key, result]})

    agent = Agent().add_java_action("j", "J", [InputEvent])
    h = AgentTestHarness(
        agent,
        {"num-async-threads": 8},
        java_runtime=lambda: ScriptedJavaRuntime({"J": java}, continuations=True),
    )
    inputs = [(f"k{i}", (f"k{i}", i * 10 + r)) for r in range(2) for i in range(8)]
    out = h.run(inputs)
    assert sorted(map(tuple, out)) == sorted(v for _, v in inputs)
    assert seen.most > 1  # calls of different keys overlapped: no key blocked the others
    assert sorted(seen.made) == sorted(v for _, (_, v) in inputs)
    for i in range(8):  # each key's inputs in order
        assert h.short_term_memory(f"k{i}") == {"last": i * 10 + 1}


def test_a_suspended_java_action_restored_replays_its_finished_calls() -> None:
    made: list[str] = []
    gate = threading.Event()

    def java(event: dict[str, Any], ctx: ScriptedJavaContext) -> Any:
        a = yield ctx.durable_execute_async("a", lambda: made.append("a") or 1)
        b = yield ctx.durable_execute_async("b", lambda: (gate.wait(10), made.append("b"), 2)[2])
        ctx.send(OutputEvent.type_name(), {"output": a + b})

    agent = Agent().add_java_action("j", "J", [InputEvent])

    def runtime() -> ScriptedJavaRuntime:
        return ScriptedJavaRuntime({"J": java}, continuations=True)

    first = AgentTestHarness(agent, java_runtime=runtime)
    assert first.send("k", 1) == []
    deadline = time.monotonic() + 5
    while made != ["a"] or first.journal("k") == [] or len(first.journal("k")) < 2:
        first.poll(0.01)
        assert time.monotonic() < deadline, (made, first.journal("k"))
    snapshot = first.snapshot()  # a recorded, b started
    gate.set()
    restored = AgentTestHarness.restore(agent, snapshot, java_runtime=runtime)
    assert restored.drain() == [3]
    assert made.count("a") == 1  # replayed from the journal
    assert restored.durable_replays == 1


def test_a_failed_async_java_call_is_thrown_into_the_suspended_action() -> None:
    def java(event: dict[str, Any], ctx: ScriptedJavaContext) -> Any:
        def boom() -> None:
            raise OSError("service down")

        try:
            yield ctx.durable_execute_async("svc", boom)
        except ScriptedJavaError as e:
            ctx.send(OutputEvent.type_name(), {"output": [e.body["class"], e.body["message"]]})

    agent = Agent().add_java_action("j", "J", [InputEvent])
    h = AgentTestHarness(
        agent, java_runtime=lambda: ScriptedJavaRuntime({"J": java}, continuations=True)
    )
    assert h.run([("k", 1)]) == [["OSError", "service down"]]


def test_without_continuations_async_calls_are_synchronous() -> None:
    made: list[int] = []

    def java(event: dict[str, Any], ctx: ScriptedJavaContext) -> Any:
        value = yield ctx.durable_execute_async("a", lambda: made.append(1) or 5)
        ctx.send(OutputEvent.type_name(), {"output": value})

    h = harness(Agent().add_java_action("j", "J", [InputEvent]), {"J": java})
    assert h.send("k", 1) == [5]  # finished within the input: nothing was parked
    assert h.busy_keys == []


def test_java_resources_are_declared_to_the_bridge_and_refused_to_python_actions() -> None:
    runtimes: list[ScriptedJavaRuntime] = []

    def make() -> ScriptedJavaRuntime:
        runtimes.append(ScriptedJavaRuntime({"J": lambda event, ctx: None}))
        return runtimes[-1]

    def python_action(event: InputEvent, ctx: RunnerContext) -> None:
        ctx.get_resource("scorer", ResourceType.TOOL)

    agent = (
        Agent()
        .add_java_action("j", "J", [InputEvent])
        .add_java_resource("scorer", ResourceType.TOOL, "com.example.Scorer", limit=5)
    )
    AgentTestHarness(agent, java_runtime=make).run([("k", 1)])
    assert runtimes[0].resources == {"scorer": ("tool", "com.example.Scorer", {"limit": 5})}

    agent.add_action("py", [InputEvent], python_action)
    with pytest.raises(ActionExecutionError, match="is a Java resource") as info:
        AgentTestHarness(agent, java_runtime=make).run([("k", 1)])
    assert isinstance(info.value.__cause__, JavaBridgeError)
    with pytest.raises(AgentDefinitionError, match="not a Java class name"):
        Agent().add_java_resource("x", ResourceType.TOOL, "no such")
