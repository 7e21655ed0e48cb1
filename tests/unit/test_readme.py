"""The README's examples run as written (the Flink part runs in tests/integration)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_harness_example_runs() -> None:
    agent_block, harness_block = python_blocks()[:2]
    definitions = agent_block.split("env = ")[0]
    namespace: dict[str, object] = {}
    exec(compile(definitions + harness_block, "README.md", "exec"), namespace)


def test_durable_call_example_runs() -> None:
    agent_block, _, durable_block = python_blocks()[:3]
    namespace: dict[str, object] = {}
    exec(compile(agent_block.split("env = ")[0] + durable_block, "README.md", "exec"), namespace)
    from flink_agents_ctx import Agent, InputEvent
    from flink_agents_ctx.testing import AgentTestHarness

    agent = Agent().add_action("pay", [InputEvent], namespace["pay"])  # type: ignore[arg-type]
    assert AgentTestHarness(agent).run([("order-1", "order-1")]) == [1200]


def test_store_configuration_example_is_valid() -> None:
    (block,) = [b for b in python_blocks() if '"action-state.store"' in b]
    namespace: dict[str, object] = {}
    exec(compile(block.split("agents_env = ")[0], "README.md", "exec"), namespace)
    from flink_agents_ctx.action_state.options import ACTION_STATE_STORE
    from flink_agents_ctx.config import AgentConfig

    config = AgentConfig(namespace["config"])  # type: ignore[arg-type]
    assert (
        config.get(
            ACTION_STATE_STORE,
        )
        == "sqlite:////var/lib/flink-agents/journal.db"
    )


def test_every_option_is_in_the_configuration_table() -> None:
    from flink_agents_ctx.config import known_options

    table = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z0-9.-]+)` \|", table, flags=re.M))
    assert documented == {option.key for option in known_options()}


def test_java_action_example_compiles_and_registers(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import types

    from flink_agents_ctx import Agent, Event
    from flink_agents_ctx.bridge_jar import bridge_jar
    from flink_agents_ctx.types import ActionKind

    text = README.read_text()
    (java,) = re.findall(r"```java\n(.*?)```", text, flags=re.S)
    source = tmp_path / "com" / "example" / "ScoreRules.java"
    source.parent.mkdir(parents=True)
    source.write_text(java)
    javac = shutil.which("javac")
    assert javac is not None, "the README's Java example needs javac (a JDK 17)"
    done = subprocess.run(
        [javac, "-cp", str(bridge_jar()), "-d", str(tmp_path / "classes"), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "classes" / "com" / "example" / "ScoreRules.class").exists()

    (block,) = [b for b in python_blocks() if "add_java_action" in b]
    jars: list[str] = []
    namespace: dict[str, object] = {
        "Event": Event,
        "agent": Agent(),
        "env": types.SimpleNamespace(add_jars=jars.append),
    }
    exec(compile(block, "README.md", "exec"), namespace)
    spec = namespace["agent"].actions["rules"]  # type: ignore[attr-defined]
    assert spec.kind is ActionKind.JAVA
    assert dict(spec.config) == {"limit": 100}
    assert jars == ["file:///path/to/rules.jar"]


def test_long_term_memory_example_runs() -> None:
    from flink_agents_ctx import Agent, InputEvent, OutputEvent, RunnerContext
    from flink_agents_ctx.testing import AgentTestHarness

    (block,) = [b for b in python_blocks() if "long_term_memory.get_memory_set" in b]
    namespace: dict[str, object] = {
        "InputEvent": InputEvent,
        "OutputEvent": OutputEvent,
        "RunnerContext": RunnerContext,
    }
    exec(compile(block, "README.md", "exec"), namespace)
    config = dict(namespace["config"])  # type: ignore[call-overload]
    config["long-term-memory.collection"] = "readme_example"
    agent = Agent().add_action("triage", [InputEvent], namespace["triage"])  # type: ignore[arg-type]
    out = AgentTestHarness(agent, config).run(
        [("acme", "printer jams on tray 2"), ("acme", "the printer jams again")]
    )
    assert out == [[], ["printer jams on tray 2"]]


def test_every_public_error_is_in_the_troubleshooting_table() -> None:
    import inspect

    from flink_agents_ctx import errors

    table = README.read_text().split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Za-z]+Error)`", table))
    public = {
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj)
        and issubclass(obj, errors.FlinkAgentsError)
        and obj is not errors.FlinkAgentsError
        and not name.startswith("_")
    }
    assert public - documented == set()
