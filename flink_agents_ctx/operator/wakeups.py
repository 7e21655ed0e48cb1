"""When the operator comes back to parked runs: the timers it registers for them.

With a key switch (thread mode) one operator-wide poll timer serves every parked key, backing off
from 1 ms to ``async.max-wake-interval.ms`` while no call finishes, so the timer rate does not grow
with the number of waiting keys. Each parked key keeps a timer of its own only for its next call
timeout or loop timer, and a slow heartbeat: timers are part of checkpoints, and after a restore
that is how a parked run is found again. Without a key switch each key polls for itself, with the
same backoff. A key registers its end-of-input timer when it first parks and drops it when nothing
of it is in flight any more, so idle keys keep no timers.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Hashable
from dataclasses import dataclass

from flink_agents_ctx.backends.protocols import Timers
from flink_agents_ctx.execution.action_execution import ActionExecution
from flink_agents_ctx.operator.runs import Run

# A parked key's own timer while it waits (with a key switch): how soon a restore resumes it.
HEARTBEAT_MS = 1000


@dataclass(eq=False)
class LiveRun:
    """A run of this operator instance that is parked (or being driven)."""

    run: Run
    execution: ActionExecution | None = None
    restored: bool = False
    wake_at_ms: int | None = None
    wake_delay_ms: int = 1
    # The key's handle for the state backend's key switch (taken when the run first parks).
    handle: object = None
    # Whether the key's end-of-input timer is registered (restored runs have theirs in state).
    end_of_input: bool = False


class Wakeups:
    """The wake-up timers of one operator instance (see the module docstring)."""

    def __init__(self, shared_poll: bool, max_wake_ms: int) -> None:
        self._shared_poll = shared_poll
        self._max_wake_ms = max_wake_ms
        self._poll_at_ms: int | None = None
        self._poll_delay_ms = 1
        # The pending timer of each key (a key parking again within a second, its next input
        # waiting, reuses it rather than registering another).
        self._pending: dict[Hashable, int] = {}
        # (monotonic due, tie-breaker, key) of parked runs with a call timeout or a loop timer,
        # for the end-of-input drain (entries of runs that resumed meanwhile are left to go stale).
        self._dues: list[tuple[float, int, Hashable]] = []
        self._pushed = itertools.count()

    def fired(self, key: Hashable, live: LiveRun | None, now_ms: int, calls_finished: bool) -> None:
        """A timer of ``key`` fired at ``now_ms`` (``live``: its run, if parked here)."""
        pending = self._pending.get(key)
        if pending is not None and pending <= now_ms:
            del self._pending[key]
        if live is not None and live.wake_at_ms is not None and live.wake_at_ms <= now_ms:
            live.wake_at_ms = None
        if self._poll_at_ms is not None and self._poll_at_ms <= now_ms:
            self._poll_at_ms = None  # this may be the poll; a spare one costs nothing
        if self._shared_poll:
            # Poll fast while calls keep finishing, back off while none does.
            self._poll_delay_ms = (
                1 if calls_finished else min(2 * self._poll_delay_ms, self._max_wake_ms)
            )

    def schedule(self, key: Hashable, live: LiveRun, timers: Timers) -> None:
        """Make sure timers bring the parked run of the current key back."""
        now_ms = timers.now_ms()
        if live.wake_at_ms is None:
            pending = self._pending.get(key)
            if pending is not None and pending > now_ms:
                live.wake_at_ms = pending
        due = live.execution.next_due() if live.execution is not None else None
        if self._shared_poll:
            delay = HEARTBEAT_MS
            self.ensure_poll(timers)
        else:
            delay = live.wake_delay_ms
            live.wake_delay_ms = min(delay * 2, self._max_wake_ms)
        if due is not None:
            heapq.heappush(self._dues, (due, next(self._pushed), key))
            delay = min(delay, max(1, int((due - time.monotonic()) * 1000) + 1))
        wake_at = now_ms + delay
        if live.wake_at_ms is None or wake_at < live.wake_at_ms or live.wake_at_ms <= now_ms:
            timers.wake_at(wake_at)
            live.wake_at_ms = self._pending[key] = wake_at
        if not live.end_of_input:
            timers.at_end_of_input()
            live.end_of_input = True

    def ensure_poll(self, timers: Timers) -> None:
        """Keep one poll timer pending (on whichever key is current) while runs are parked."""
        if self._shared_poll and self._poll_at_ms is None:
            self._poll_at_ms = timers.now_ms() + self._poll_delay_ms
            timers.wake_at(self._poll_at_ms)

    def due_keys(self, now: float) -> list[Hashable]:
        """Keys whose parked run had a timeout or timer due by ``now`` (possibly one that has
        resumed since: resuming it again finds nothing to do)."""
        dues = self._dues
        keys: list[Hashable] = []
        while dues and dues[0][0] <= now:
            keys.append(heapq.heappop(dues)[2])
        return keys

    def drain_wait_s(self, now: float) -> float:
        """How long the drain may wait for a call to finish: until the earliest due timeout or
        timer of a parked run (after :meth:`due_keys` took those due by ``now``), at most 50 ms."""
        return 0.05 if not self._dues else min(0.05, max(0.0, self._dues[0][0] - now))


def wait_s(parked: list[LiveRun]) -> float:
    """How long to wait for calls of ``parked`` runs to finish: until the earliest timeout or
    loop timer among them, at most 50 ms."""
    dues = [
        due
        for live in parked
        if live.execution is not None and (due := live.execution.next_due()) is not None
    ]
    return 0.05 if not dues else min(0.05, max(0.0, min(dues) - time.monotonic()))
