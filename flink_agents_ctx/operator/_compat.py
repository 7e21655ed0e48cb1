"""PyFlink specifics and workarounds, kept in one place.

- Thread mode runs user code in a CPython embedded in the TaskManager JVM. That interpreter finds its
  packages through the ``python`` on the JVM's ``PATH``; a job started as ``<venv>/bin/python job.py``
  without the virtualenv activated would get the system interpreter (``No module named 'pemja'``).
  We put the running interpreter's directory first on ``PATH`` before the JVM starts.
- The execution mode and the Python executable are read from the environment's configuration when an
  operator is created, so we set our defaults there when the user has not.
- Thread-mode agent operators are built from our subclass of PyFlink's keyed process operator
  (:func:`keyed_operator_class`), which adds a call before each checkpoint barrier.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

EXECUTION_MODE = "python.execution-mode"
PYTHON_EXECUTABLE = "python.executable"
PIPELINE_JARS = "pipeline.jars"
_MIN_LONG = -(2**63)


def put_interpreter_on_path() -> None:
    """Make the running interpreter the first ``python`` on ``PATH`` (inherited by the JVM)."""
    bin_dir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + path if path else bin_dir


def env_configuration(env: Any) -> Any:
    """The Java ``Configuration`` behind a ``StreamExecutionEnvironment`` (mutable)."""
    from pyflink.util.java_utils import get_j_env_configuration

    return get_j_env_configuration(env._j_stream_execution_environment)


def set_default(j_conf: Any, key: str, value: str) -> str:
    """Set ``key`` unless the user did; return the value in force."""
    if not j_conf.containsKey(key):
        j_conf.setString(key, value)
    return str(j_conf.getString(key, value))


def checkpointing(env: Any) -> tuple[int | None, int | None, int | None]:
    """``(interval ms, retained checkpoints, timeout ms)`` of a job's checkpointing as configured
    on the client (``None`` where unset or disabled)."""
    config = env.get_checkpoint_config()
    interval = int(config.get_checkpoint_interval())
    timeout = int(config.get_checkpoint_timeout())
    retained = env_configuration(env).getString("execution.checkpointing.num-retained", None)
    return (
        interval if interval > 0 else None,
        int(retained) if retained else None,
        timeout if timeout > 0 else None,
    )


def gateway_running() -> bool:
    """Whether PyFlink's JVM gateway was already started in this process."""
    import pyflink.java_gateway as gateway_module

    return getattr(gateway_module, "_gateway", None) is not None


def jvm_path() -> str:
    """``PATH`` as the already running JVM sees it."""
    from pyflink.java_gateway import get_gateway

    return str(get_gateway().jvm.System.getenv("PATH") or "")


def flink_job_id(runtime_context: Any) -> str | None:
    """The Flink job id (stable across failover restarts of one job), or ``None`` where PyFlink
    does not expose it (process mode). Thread mode's runtime context wraps the Java one."""
    java_context: Any = getattr(runtime_context, "_runtime_context", None)
    try:
        return str(java_context.getJobInfo().getJobId().toString())
    except Exception:
        return None


def subtask_index(runtime_context: Any) -> int:
    """This operator instance's subtask index. PyFlink 2.3's thread-mode context asks the Java
    context for a method Flink 2 removed, so read the task info behind it."""
    java_context: Any = getattr(runtime_context, "_runtime_context", None)
    if java_context is not None and hasattr(java_context, "getTaskInfo"):
        return int(java_context.getTaskInfo().getIndexOfThisSubtask())
    return int(runtime_context.get_index_of_this_subtask())


def input_timestamp(raw: int | None) -> int | None:
    """Flink reports "no timestamp" as ``Long.MIN_VALUE`` in thread mode and ``None`` otherwise."""
    return None if raw is None or raw == _MIN_LONG else raw


def _canonical_format() -> Any:
    from pyflink.java_gateway import get_gateway

    return get_gateway().jvm.org.apache.flink.core.execution.SavepointFormatType.CANONICAL


def stop_with_savepoint(job_client: Any, directory: str | None = None, drain: bool = False) -> str:
    """Stop a running job with a savepoint (canonical format) and return the savepoint's path.

    PyFlink 2.3's ``JobClient.stop_with_savepoint`` fails because the Java method now also takes a
    ``SavepointFormatType``; this calls the Java job client directly. ``directory`` defaults to the
    job's ``execution.checkpointing.savepoint-dir``. ``drain=True`` ends event time first (every
    event-time timer fires, so waiting runs finish), which suits a final stop, not an upgrade.
    """
    future = job_client._j_job_client.stopWithSavepoint(drain, directory, _canonical_format())
    return str(future.get())


def trigger_savepoint(job_client: Any, directory: str | None = None) -> str:
    """Take a savepoint (canonical format) of a running job; return its path. See
    :func:`stop_with_savepoint` for why this does not use PyFlink's own method."""
    future = job_client._j_job_client.triggerSavepoint(directory, _canonical_format())
    return str(future.get())


_KEYED_OPERATOR = "EmbeddedPythonKeyedProcessOperator"


@contextlib.contextmanager
def keyed_operator_class(java_class: str) -> Iterator[bool]:
    """Within the block, PyFlink builds thread-mode keyed process operators from ``java_class``
    (a subclass of its ``EmbeddedPythonKeyedProcessOperator`` with the same constructor) instead.

    PyFlink picks the Java class by its short name on the gateway's JVM view when
    ``KeyedStream.process`` runs; the view answers attributes set on it before looking the name
    up. Yields whether the class could be loaded (if not, PyFlink's own class is used)."""
    from py4j.java_gateway import JavaClass
    from pyflink.java_gateway import get_gateway

    jvm = get_gateway().jvm
    try:
        found = jvm
        for part in java_class.split("."):
            found = getattr(found, part)
    except Exception:
        found = None
    if not isinstance(found, JavaClass):
        yield False
        return
    setattr(jvm, _KEYED_OPERATOR, found)
    try:
        yield True
    finally:
        delattr(jvm, _KEYED_OPERATOR)
