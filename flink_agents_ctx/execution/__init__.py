"""One action execution: an action handling one event of one key, from its start to its commit.

- ``services``: :class:`ExecutionServices`, the per-operator collaborators every execution uses.
- ``action_execution``: :class:`ActionExecution`, which owns one execution -- its event and key,
  the events it sends, its memory writes (set aside while it waits), its durable-call session and,
  for an async action, the coroutine and its loop. Runner contexts are thin APIs over it, one per
  language; the operator only schedules executions.
"""
