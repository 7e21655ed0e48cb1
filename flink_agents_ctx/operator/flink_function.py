"""The agent operator as a PyFlink ``KeyedProcessFunction``: a thin adapter around the core."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from pyflink.datastream import KeyedProcessFunction, RuntimeContext, TimeDomain

from flink_agents_ctx.action_state.options import ACTION_STATE_STORE
from flink_agents_ctx.agent import Agent
from flink_agents_ctx.backends.flink_state import FlinkKeyedState
from flink_agents_ctx.config import GIL_SWITCH_INTERVAL_US, JOB_IDENTIFIER, AgentConfig
from flink_agents_ctx.errors import ConfigError
from flink_agents_ctx.operator import barrier
from flink_agents_ctx.operator._compat import flink_job_id, input_timestamp, subtask_index
from flink_agents_ctx.operator.core import OperatorCore
from flink_agents_ctx.operator.wiring import JobFacts, build_operator

# Fires only with the final watermark of a bounded input (Long.MAX_VALUE); one below it so
# nothing downstream computes timestamp + 1 on it.
END_OF_INPUT_MS = 2**63 - 2


class _FlinkTimers:
    """:class:`~flink_agents_ctx.backends.protocols.Timers` over one call's ``TimerService``."""

    __slots__ = ("_service",)

    def __init__(self, ctx: Any) -> None:
        self._service = ctx.timer_service()

    def now_ms(self) -> int:
        # Flink's processing time is the wall clock (System.currentTimeMillis); reading it in
        # Python saves a call into the JVM.
        return time.time_ns() // 1_000_000

    def wake_at(self, time_ms: int) -> None:
        self._service.register_processing_time_timer(time_ms)

    def at_end_of_input(self) -> None:
        # Flink keeps one timer per key and timestamp, so registering it again is harmless.
        self._service.register_event_time_timer(END_OF_INPUT_MS)

    def cancel_end_of_input(self) -> None:
        self._service.delete_event_time_timer(END_OF_INPUT_MS)


class AgentFunction(KeyedProcessFunction):  # type: ignore[misc]
    """Runs ``agent`` on each keyed input. Outputs are the ``output`` values of OutputEvents."""

    def __init__(
        self,
        agent: Agent,
        config: AgentConfig,
        facts: JobFacts | None = None,
        key_selector: Callable[[Any], Any] | None = None,
    ) -> None:
        self._agent = agent
        self._config = config.to_dict()
        self._facts = facts or JobFacts()
        # The stream's own key selector, when known: applying it to the value gives the key
        # without asking Flink for it (a call into the JVM and an unpickling per input).
        self._key_selector = key_selector
        self._core: OperatorCore | None = None
        # PyFlink passes the same context object to every call: its timers are made once.
        self._ctx: Any = None
        self._timers: _FlinkTimers | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        config = AgentConfig(self._config)
        switch_us = config.get(GIL_SWITCH_INTERVAL_US)
        if switch_us:
            # Measured (bench/README.md): with Python's 5 ms, a worker whose call returned
            # waits for the busy task thread to hand over the GIL.
            sys.setswitchinterval(switch_us / 1_000_000)
        job_id = flink_job_id(runtime_context)
        store: str | None = config.get(ACTION_STATE_STORE)
        configured_job: str | None = config.get(JOB_IDENTIFIER)
        if job_id is None and store and not configured_job:
            raise ConfigError(
                "action-state.store needs a job identity, and this execution mode does not tell "
                "the operator its Flink job id; set job-identifier to a name unique to this job "
                "(and keep it when you restore the job)",
                key=JOB_IDENTIFIER.key,
            )
        self._core = build_operator(
            self._agent.plan(),
            FlinkKeyedState(runtime_context),
            runtime_context.get_metrics_group(),
            config,
            dataclasses.replace(
                self._facts,
                job_id=job_id,
                subtask=subtask_index(runtime_context),
            ),
        ).core
        # In thread mode the operator claims this right after open() and calls before_snapshot()
        # before every checkpoint barrier (flink_agents_ctx.operator.barrier).
        barrier.offer(self)

    def attach(self) -> None:
        self._get_core().attach_barrier()

    def before_snapshot(self) -> None:
        if self._core is not None:
            self._core.before_snapshot()

    def _get_core(self) -> OperatorCore:
        if self._core is None:
            raise RuntimeError("AgentFunction used before open()")
        return self._core

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterable[Any]:
        select = self._key_selector
        key = ctx.get_current_key() if select is None else select(value)
        timers = self._timers
        if ctx is not self._ctx or timers is None:
            timers = self._timers = _FlinkTimers(ctx)
            self._ctx = ctx
        return self._get_core().process_input(key, value, input_timestamp(ctx.timestamp()), timers)

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterable[Any]:
        if self._core is None:
            # Flink may fire leftover wake-up timers after close() at the end of a bounded input;
            # every run finished in the end-of-input timer before that, so there is nothing to do.
            return []
        end_of_input = ctx.time_domain() == TimeDomain.EVENT_TIME and timestamp >= END_OF_INPUT_MS
        return self._core.on_timer(ctx.get_current_key(), _FlinkTimers(ctx), end_of_input)

    def close(self) -> None:
        if self._core is not None:
            self._core.close()
            self._core = None
