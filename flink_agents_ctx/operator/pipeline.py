"""Wiring an agent into a PyFlink DataStream job."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from pyflink.common.typeinfo import TypeInformation
from pyflink.datastream import DataStream, KeyedStream, StreamExecutionEnvironment

from flink_agents_ctx import jdk
from flink_agents_ctx.agent import Agent
from flink_agents_ctx.bridge_jar import bridge_jar
from flink_agents_ctx.config import AgentConfig
from flink_agents_ctx.errors import ConfigError, JavaBridgeError
from flink_agents_ctx.operator import _compat
from flink_agents_ctx.operator.flink_function import AgentFunction
from flink_agents_ctx.operator.wiring import JobFacts
from flink_agents_ctx.run_settings import DEFAULT_CHECKPOINT_INTERVAL, RunSettings
from flink_agents_ctx.types import ActionKind

# Before any JVM starts (importing this module precedes creating an environment in user code).
_JVM_STARTED_BEFORE_IMPORT = _compat.gateway_running()
_compat.put_interpreter_on_path()
if not _JVM_STARTED_BEFORE_IMPORT:
    jdk.apply_choice()
_log = logging.getLogger(__name__)

# The thread-mode agent operator: PyFlink's keyed process operator plus a call before each
# checkpoint barrier (java-bridge/src/main/java/flinkagentsctx/operator/).
AGENT_OPERATOR_CLASS = "flinkagentsctx.operator.AgentKeyedProcessOperator"


class AgentsExecutionEnvironment:
    """Entry point for running agents in a DataStream job::

        env = StreamExecutionEnvironment.get_execution_environment()
        agents_env = AgentsExecutionEnvironment.get_execution_environment(env)
        out = agents_env.from_datastream(ds, lambda r: r[0]).apply(MyAgent()).to_datastream()

    Unless the job configures ``python.execution-mode`` itself, the agent operator runs in thread
    mode (the Python code runs inside the TaskManager JVM: an order of magnitude faster on keyed
    state than process mode).
    """

    def __init__(self, env: StreamExecutionEnvironment, config: AgentConfig) -> None:
        self.env = env
        self.config = config

    @staticmethod
    def get_execution_environment(
        env: StreamExecutionEnvironment | None = None,
        config: Mapping[str, Any] | AgentConfig | None = None,
    ) -> AgentsExecutionEnvironment:
        """Wrap ``env`` (a new default environment when omitted) with the agent configuration."""
        agent_config = AgentConfig(config)
        if env is None:
            env = StreamExecutionEnvironment.get_execution_environment()
        j_conf = _compat.env_configuration(env)
        mode = _compat.set_default(j_conf, _compat.EXECUTION_MODE, "thread")
        if mode not in ("thread", "process"):
            raise ConfigError(
                f"python.execution-mode is {mode!r}; use 'thread' (default) or 'process'",
                key=_compat.EXECUTION_MODE,
                value=mode,
            )
        _compat.set_default(j_conf, _compat.PYTHON_EXECUTABLE, sys.executable)
        settings = RunSettings.from_environ()
        if settings is not None:
            _apply_run_settings(j_conf, settings)
        if mode == "thread":
            _check_jvm_path()
        return AgentsExecutionEnvironment(env, agent_config)

    def from_datastream(
        self, stream: DataStream, key_selector: Callable[[Any], Any] | None = None
    ) -> AgentBuilder:
        """Feed ``stream`` to an agent, keyed by ``key_selector`` (or already a KeyedStream)."""
        if key_selector is None:
            if not isinstance(stream, KeyedStream):
                raise ConfigError(
                    "from_datastream needs a key_selector unless the stream is already keyed "
                    "(stream.key_by(...))",
                    key="key_selector",
                )
            keyed = stream
        else:
            keyed = stream.key_by(key_selector)
        return AgentBuilder(keyed, self.config, self.env, key_selector)


class AgentBuilder:
    """Second step of ``from_datastream(...).apply(agent).to_datastream()``."""

    def __init__(
        self,
        keyed: KeyedStream,
        config: AgentConfig,
        env: StreamExecutionEnvironment,
        key_selector: Callable[[Any], Any] | None = None,
    ) -> None:
        self._keyed = keyed
        self._config = config
        self._env = env
        self._key_selector = key_selector
        self._agent: Agent | None = None

    def apply(self, agent: Agent) -> AgentBuilder:
        """The agent to run; its definition is checked now, on the client."""
        agent.plan()
        self._agent = agent
        return self

    def to_datastream(
        self, output_type: TypeInformation | None = None, name: str | None = None
    ) -> DataStream:
        """The stream of ``OutputEvent.output`` values (pickled unless ``output_type`` is given).

        ``name`` is the operator's name and uid (default ``agent-<AgentClass>``); keep it stable to
        restore from savepoints, and give two instances of one agent class different names.
        """
        if self._agent is None:
            raise ConfigError("call apply(agent) before to_datastream()", key="agent")
        name = name or f"agent-{type(self._agent).__name__}"
        mode = str(_compat.env_configuration(self._env).getString(_compat.EXECUTION_MODE, "thread"))
        if any(spec.kind is ActionKind.JAVA for spec in self._agent.actions.values()):
            _require_thread_mode(mode, name)
        thread_mode = mode == "thread"
        if thread_mode:
            # Java actions' API and the agent operator class.
            _add_bridge_jar(self._env)
        interval, retained, timeout = _compat.checkpointing(self._env)
        settings = RunSettings.from_environ()
        facts = JobFacts(
            checkpoint_interval_ms=interval,
            retained_checkpoints=retained,
            checkpoint_timeout_ms=timeout,
            progress_dir=str(settings.progress) if settings else None,
            operator=name,
        )
        function = AgentFunction(self._agent, self._config, facts, self._key_selector)
        if not thread_mode:
            return self._keyed.process(function, output_type=output_type).name(name).uid(name)
        with _compat.keyed_operator_class(AGENT_OPERATOR_CLASS) as ours:
            if not ours:
                _log.warning(
                    "the agent operator class %s is not on the job's class path: the operator "
                    "runs without its checkpoint-barrier hook, and short-term memory writes go "
                    "to state as each action commits",
                    AGENT_OPERATOR_CLASS,
                )
            stream = self._keyed.process(function, output_type=output_type)
        return stream.name(name).uid(name)


def _apply_run_settings(j_conf: Any, settings: RunSettings) -> None:
    """Under ``flink-agents-ctx run``: checkpoint into the run's directory and keep the
    checkpoints (so the run can be restored), and start from ``settings.restore`` if asked. The
    job's own choices win, except an interval given on the command line."""
    if settings.checkpoint_interval:
        j_conf.setString("execution.checkpointing.interval", settings.checkpoint_interval)
    else:
        _compat.set_default(j_conf, "execution.checkpointing.interval", DEFAULT_CHECKPOINT_INTERVAL)
    _compat.set_default(j_conf, "execution.checkpointing.dir", settings.checkpoints.as_uri())
    _compat.set_default(
        j_conf,
        "execution.checkpointing.externalized-checkpoint-retention",
        "RETAIN_ON_CANCELLATION",
    )
    # Flink restarts a checkpointing job without end by default; a run on one's own machine
    # should rather fail and say why.
    if not j_conf.containsKey("restart-strategy.type"):
        j_conf.setString("restart-strategy.type", "fixed-delay")
        j_conf.setString("restart-strategy.fixed-delay.attempts", "3")
        j_conf.setString("restart-strategy.fixed-delay.delay", "1 s")
    if settings.restore:
        _compat.set_default(j_conf, "execution.state-recovery.path", settings.restore)


def _require_thread_mode(mode: str, operator: str) -> None:
    """Java actions run in the TaskManager JVM through pemja: thread mode only."""
    if mode != "thread":
        raise JavaBridgeError(
            f"agent operator '{operator}' has Java actions, and python.execution-mode is "
            f"{mode!r}: Java actions run inside the TaskManager JVM, which only thread mode "
            "shares with Python. Set python.execution-mode to 'thread' (the default of "
            "AgentsExecutionEnvironment)"
        )


def _add_bridge_jar(env: StreamExecutionEnvironment) -> None:
    """Put the bridge jar (Java actions' API, the agent operator class) on the job's class path."""
    uri = bridge_jar().as_uri()
    if uri not in str(_compat.env_configuration(env).getString(_compat.PIPELINE_JARS, "")):
        env.add_jars(uri)


def _check_jvm_path() -> None:
    """Warn, with the fix, when the JVM may not see this interpreter's packages."""
    if not _JVM_STARTED_BEFORE_IMPORT:
        return
    bin_dir = os.path.dirname(sys.executable)
    first = _compat.jvm_path().split(os.pathsep)[0]
    if first != bin_dir:
        _log.warning(
            "the Flink JVM was started before flink_agents_ctx was imported and its PATH starts "
            'with %s, not %s: thread mode may load another Python and fail with "No module named '
            "'pemja'\". Import flink_agents_ctx before creating the StreamExecutionEnvironment, "
            "or activate the virtualenv.",
            first,
            bin_dir,
        )
