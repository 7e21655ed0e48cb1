"""Puts the Java bridge jar into wheels; everything else is declared in pyproject.toml.

The jar is built from ``java-bridge/`` with javac (``python -m flink_agents_ctx.bridge_jar``, which
``./dev`` runs). A wheel build uses the jar already built, or builds it with the interpreter that
runs the build when that one has the package's dependencies (``pip wheel --no-build-isolation``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
JAR = ROOT / "flink_agents_ctx" / "_jars" / "flink-agents-ctx-bridge.jar"


class BuildWithBridgeJar(build_py):  # type: ignore[misc]
    def run(self) -> None:
        if not self.editable_mode and (ROOT / "java-bridge").is_dir():
            built = subprocess.run(
                [sys.executable, "-m", "flink_agents_ctx.bridge_jar"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            if built.returncode != 0 and not JAR.exists():
                raise SystemExit(
                    "the Java bridge jar is missing and could not be built here:\n"
                    f"{built.stderr[-2000:]}\nbuild it first with "
                    "'./dev python -m flink_agents_ctx.bridge_jar', then build the wheel"
                )
        super().run()


setup(cmdclass={"build_py": BuildWithBridgeJar})
