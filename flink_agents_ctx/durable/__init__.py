"""Durable execution: calls whose outcomes are journaled so a replay does not make them again.

- :mod:`identity`: function ids, canonical argument digests, key and input digests (what a call is).
- :mod:`execution_ref`: which action execution calls belong to (their idempotency keys' stem).
- :mod:`codec`, :mod:`records`: how outcomes are recorded.
- :mod:`options`: per-call options (:func:`durable`, :class:`RetryPolicy`) and :func:`current_call`.
- :mod:`journal`: the call-journal port and its keyed-state implementation (the write-ahead store's
  journal is :mod:`flink_agents_ctx.action_state.journal`).
- :mod:`executor`: attempts, retries, and the worker pool whose outcomes come back by key.
- :mod:`calls`: one call of a session: its identity, the record of its outcome, and the work
  object that runs it away from the action (its in-flight bookkeeping too).
- :mod:`session`: positions, matching and replaying the calls of one action execution.
- :mod:`step_loop`: the asyncio loop an async action runs on, stepped by the operator.
"""
