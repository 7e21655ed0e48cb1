"""The :class:`~flink_agents_ctx.context.java.JavaRuntime` of a thread-mode job: the bridge's
``ActionHost`` in the TaskManager JVM, reached through pemja.

The host class is loaded through the task thread's context class loader, which sees the jars the
job ships (``pipeline.jars``); pemja's own ``findClass`` only sees the JVM's class path. Python calls
the host with ``invoke``-free attribute calls, and the host calls back into the endpoint with
``PyObject.invokeMethod``: one calling style per interpreter.
"""

from __future__ import annotations

from typing import Any

from flink_agents_ctx.context.java import JavaEndpoint
from flink_agents_ctx.errors import JavaBridgeError

HOST_CLASS = "flinkagentsctx.bridge.ActionHost"


class PemjaRuntime:
    """The bridge's ``ActionHost`` of this operator, made on the task thread."""

    def __init__(self) -> None:
        try:
            from pemja import findClass
        except ImportError:
            raise JavaBridgeError(
                "Java actions need the JVM's embedded Python (thread mode), and this Python runs "
                "outside it; set python.execution-mode to 'thread' (the default of "
                "AgentsExecutionEnvironment)"
            ) from None
        try:
            thread = findClass("java.lang.Thread")
            loader = thread.currentThread().getContextClassLoader()
            self._host: Any = loader.loadClass(HOST_CLASS).newInstance()
        except Exception as e:
            raise JavaBridgeError(
                f"the Java bridge ({HOST_CLASS}) is not on the job's class path ({e}); "
                "AgentsExecutionEnvironment adds the bridge jar when the agent has Java actions: "
                "build the job's stream through it, or add flink_agents_ctx.bridge_jar() to "
                "pipeline.jars"
            ) from e

    def open(self, endpoint: JavaEndpoint, wire_version: int, async_threads: int) -> str:
        return str(self._host.open(endpoint, wire_version, async_threads))

    def load(self, name: str, class_name: str, config_wire: str) -> str:
        return str(self._host.load(name, class_name, config_wire))

    def execute(self, name: str, event_wire: str) -> str:
        return str(self._host.execute(name, event_wire))

    def run_callable(self, handle: int) -> str:
        return str(self._host.runCallable(handle))

    def start(self, token: int, name: str, event_wire: str) -> str:
        return str(self._host.start(token, name, event_wire))

    def resume(self, token: int, reply: str) -> str:
        return str(self._host.resume(token, reply))

    def cancel(self, token: int) -> None:
        self._host.cancel(token)

    def declare_resource(
        self, name: str, type_name: str, class_name: str, config_wire: str
    ) -> None:
        self._host.declareResource(name, type_name, class_name, config_wire)

    def take_completed(self) -> str:
        return str(self._host.takeCompleted())

    def close(self) -> str:
        return str(self._host.close())
