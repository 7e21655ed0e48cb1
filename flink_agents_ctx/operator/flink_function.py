"""The agent operator as a PyFlink ``KeyedProcessFunction``: a thin adapter around the core."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyflink.datastream import KeyedProcessFunction, RuntimeContext

from flink_agents_ctx.agent import Agent
from flink_agents_ctx.backends.flink_state import FlinkKeyedState
from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.operator._compat import input_timestamp
from flink_agents_ctx.operator.core import OperatorCore


class AgentFunction(KeyedProcessFunction):  # type: ignore[misc]
    """Runs ``agent`` on each keyed input. Outputs are the ``output`` values of OutputEvents."""

    def __init__(self, agent: Agent, config: AgentConfig) -> None:
        self._agent = agent
        self._config = config.to_dict()
        self._core: OperatorCore | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self._core = OperatorCore(
            self._agent.plan(),
            FlinkKeyedState(runtime_context),
            runtime_context.get_metrics_group(),
            AgentConfig(self._config),
        )

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterable[Any]:
        core = self._core
        if core is None:
            raise RuntimeError("AgentFunction.process_element called before open()")
        return core.process_input(ctx.get_current_key(), value, input_timestamp(ctx.timestamp()))

    def close(self) -> None:
        if self._core is not None:
            self._core.close()
            self._core = None
