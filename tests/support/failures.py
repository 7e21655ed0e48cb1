"""Helpers of the mini-cluster recovery jobs: an injected failure and a checkpointed environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def fail_once_after_a_checkpoint(config: Any, n: int) -> None:
    """Raise once at input ``test.fail-at``, after a checkpoint completed (``test.marker`` remembers
    that it did), so the job restarts from that checkpoint."""
    marker = Path(str(config.get_raw("test.marker")))
    checkpoints = Path(str(config.get_raw("test.checkpoint-dir")))
    if (
        n == config.get_raw("test.fail-at")
        and not marker.exists()
        and any(checkpoints.rglob("_metadata"))
    ):
        marker.touch()
        raise RuntimeError(f"injected failure at input {n}")


def checkpointed_environment(checkpoints: str) -> Any:
    """A thread-mode environment at parallelism 1 checkpointing every second into
    ``checkpoints``, restarting up to 3 times."""
    from pyflink.common import Configuration
    from pyflink.datastream import StreamExecutionEnvironment

    conf = Configuration()
    conf.set_string("python.execution-mode", "thread")
    conf.set_string("execution.checkpointing.interval", "1 s")
    conf.set_string("execution.checkpointing.dir", Path(checkpoints).as_uri())
    conf.set_string("restart-strategy.type", "fixed-delay")
    conf.set_string("restart-strategy.fixed-delay.attempts", "3")
    conf.set_string("restart-strategy.fixed-delay.delay", "1 s")
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(1)
    return env
