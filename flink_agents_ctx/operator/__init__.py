"""The agent operator.

- ``core``: :class:`OperatorCore`, the pure-Python ActionExecutionOperator (runs, dispatch,
  commits). It runs unchanged under Flink and under the test harness.
- ``flink_function``: the thin PyFlink ``KeyedProcessFunction`` adapter around the core.
- ``pipeline``: ``AgentsExecutionEnvironment``, wiring an agent into a DataStream job.
- ``_compat``: workarounds for PyFlink specifics, in one place.
"""
