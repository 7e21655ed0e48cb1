"""Runner contexts: what an action receives, one API per language over one action execution.

- ``base``: the public :class:`RunnerContext` ABC.
- ``python``: :class:`PythonRunnerContext` and :func:`python_body`, which runs a Python action.

A context holds no state of its own: it delegates every member to its
:class:`~flink_agents_ctx.execution.action_execution.ActionExecution`, which owns memory writes,
sent events and durable calls. A context for another language is a second API over the same
execution object.
"""
