"""Architecture checks: imports follow the layers, PyFlink stays at the edges, the API is pinned."""

from __future__ import annotations

import ast
from pathlib import Path

import flink_agents_ctx

PACKAGE = Path(flink_agents_ctx.__file__).parent

# Lower number = lower layer. A module may import from its own layer or below.
LAYERS = {
    "errors": 0,
    "types": 0,
    "config": 0,
    "events": 0,
    "agent": 0,
    "mailbox": 0,
    "values": 0,
    "state_layout": 0,
    "wire": 0,
    "bridge_jar": 0,
    "jdk": 0,
    "run_settings": 0,
    "backends": 1,
    "memory": 2,
    "durable": 2,
    "metrics": 2,
    "resources": 2,
    "long_term": 2,
    "event_log": 2,
    "action_state": 3,
    "execution": 4,
    "context": 5,
    "operator": 6,
    "testing": 7,
    "cli": 8,
}
PYFLINK_ALLOWED = {
    "backends/flink_state.py",
    "operator/flink_function.py",
    "operator/pipeline.py",
    "operator/_compat.py",
    "context/pemja_runtime.py",
}


def _top(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "flink_agents_ctx" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
    return found


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "__init__.py":
            continue
        out.append((rel, path))
    return out


def test_every_module_has_a_layer() -> None:
    for rel, _ in _modules():
        top = rel.split("/")[0].removesuffix(".py")
        assert top in LAYERS, f"{rel} is in no layer; add it to LAYERS"


def test_imports_never_point_up() -> None:
    violations = []
    for rel, path in _modules():
        own = LAYERS[rel.split("/")[0].removesuffix(".py")]
        for module in _imports(path):
            top = _top(module)
            if top is not None and LAYERS[top] > own:
                violations.append(f"{rel} imports {module}")
    assert violations == []


def test_pyflink_only_at_the_edges() -> None:
    users = {
        rel
        for rel, path in _modules()
        if any(m.split(".")[0] in ("pyflink", "pemja") for m in _imports(path))
    }
    assert users <= PYFLINK_ALLOWED


def test_public_api_is_pinned() -> None:
    assert sorted(flink_agents_ctx.__all__) == sorted(
        [
            "NESTED_OBJECT", "ActionExecutionError", "Agent", "AgentConfig",
            "AgentDefinitionError", "AgentsExecutionEnvironment", "ConfigError", "ConfigOption",
            "Event", "EventSerializationError", "FlinkAgentsError", "Gauge", "Histogram",
            "InputEvent", "MailboxThreadError", "MemoryObject", "MemoryPathError", "MemoryRef",
            "MemoryType", "MemoryValueError", "MetricGroup", "MetricNameError", "OutputEvent",
            "ResourceContext", "ResourceType", "RunnerContext", "UnknownResourceError",
            "UnsupportedAwaitError", "action",
            # durable execution
            "ActionFailedEvent", "CallInfo", "DurableCallError", "DurableCallTimeoutError",
            "DurableFunction", "DurableScopeError", "JournalDecodingError", "JournalEncodingError",
            "JournalMissError",
            "NonCanonicalArgumentError", "NonDeterministicReplayError", "RetryPolicy",
            "current_call", "durable",
            # write-ahead store
            "ActionStateStoreError",
            # jobs
            "stop_with_savepoint", "trigger_savepoint", "output_dir",
            # Java actions
            "JavaActionError", "JavaBridgeError", "JavaCallError", "WireFormatError",
            "bridge_jar",
        ]
    )  # fmt: skip
    for name in flink_agents_ctx.__all__:
        assert getattr(flink_agents_ctx, name) is not None


def test_importing_the_package_does_not_import_pyflink() -> None:
    import subprocess
    import sys

    code = "import sys, flink_agents_ctx, flink_agents_ctx.testing; print('pyflink' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_keyed_state_is_declared_in_the_state_layout() -> None:
    from flink_agents_ctx import state_layout

    declared = set(state_layout.ALL)
    for rel, path in _modules():
        if rel == "state_layout.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not node.value.startswith(
                    "flink-agents."
                ), f"{rel} names the keyed state {node.value!r}; use flink_agents_ctx.state_layout"
    assert len(declared) == len(state_layout.ALL)
