"""The agent operator.

- ``core``: :class:`OperatorCore`, which schedules runs (one input at a time per key, parked runs,
  timers); the action executions do the rest. It runs unchanged under Flink and the test harness.
- ``parts``: what a core is made of.
- ``runs``: per-key bookkeeping in keyed state: numbering, waiting inputs, the parked run.
- ``wakeups``: the timers that bring parked runs back.
- ``wiring``: builds an operator's collaborators (memory, metrics, resources, worker pool,
  journals, store), for the Flink function and the harness alike.
- ``probe``: read-only views for tests.
- ``flink_function``: the thin PyFlink ``KeyedProcessFunction`` adapter around the core.
- ``barrier``: how the thread-mode Java operator (``AgentKeyedProcessOperator``) finds the function
  to call before each checkpoint barrier.
- ``pipeline``: ``AgentsExecutionEnvironment``, wiring an agent into a DataStream job.
- ``_compat``: workarounds for PyFlink specifics, in one place.
"""
