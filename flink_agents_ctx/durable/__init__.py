"""Durable execution: calls whose outcomes are journaled so a replay does not make them again.

- :mod:`identity`: function ids and canonical argument digests (what a call is).
- :mod:`codec`, :mod:`records`: how outcomes are recorded.
- :mod:`options`: per-call options (:func:`durable`, :class:`RetryPolicy`) and :func:`current_call`.
- :mod:`journal`: where records live (keyed state; a seam for external stores).
- :mod:`executor`: attempts, retries and the worker pool for async calls.
- :mod:`session`: matching and replaying the calls of one action execution.
- :mod:`step_loop`: the asyncio loop an async action runs on, stepped by the operator.
"""
