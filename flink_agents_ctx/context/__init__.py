"""Runner contexts: what an action receives.

- ``base``: the public :class:`RunnerContext` ABC.
- ``common``: :class:`BaseRunnerContext`, everything shared by the language-specific contexts
  (event buffer, memory, metrics, resources, config, the mailbox check).
- ``python``: :class:`PythonRunnerContext` for Python actions.
- ``kinds``: which context class serves which :class:`~flink_agents_ctx.types.ActionKind`; a new
  language registers here and the operator picks it up unchanged.
"""
