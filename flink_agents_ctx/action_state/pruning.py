"""The store's pruning rule, run in the background: delete records older than the retention.

A record is needed until no restore can replay its input: the input must be covered by the
checkpoint or savepoint a restore starts from. PyFlink functions are not told when a checkpoint
completes, so the rule is by age. Unless ``action-state.retention.ms`` is set, the retention is
derived from the job's checkpointing (:func:`default_retention_s`): long enough for a restore from
the oldest retained checkpoint, however slow checkpoints are, plus a margin for the restart.
The store then holds about (calls per second) x (retention) rows of ~400 bytes.
"""

from __future__ import annotations

import logging
import threading
import time

from flink_agents_ctx.action_state.addresses import scrub
from flink_agents_ctx.action_state.port import ActionStateStore

_log = logging.getLogger(__name__)

MIN_RETENTION_S = 15 * 60
RESTART_MARGIN_S = 5 * 60
# Flink's default execution.checkpointing.timeout.
DEFAULT_CHECKPOINT_TIMEOUT_S = 10 * 60


def default_retention_s(
    interval_s: float | None, retained: int | None, timeout_s: float | None
) -> float:
    """The retention when none is configured: ``retained x interval + checkpoint timeout +
    5 min``, at least 15 min. The newest retained checkpoint is at most one interval plus one
    checkpoint timeout old; each older retained one adds an interval; the margin covers failure
    detection, restart delays and the replay itself."""
    span = (retained or 1) * (interval_s or 0.0)
    timeout = DEFAULT_CHECKPOINT_TIMEOUT_S if timeout_s is None else timeout_s
    return max(MIN_RETENTION_S, span + timeout + RESTART_MARGIN_S)


def pass_interval_s(retention_s: float) -> float:
    """How often pruning passes run: every quarter of the retention, at least hourly."""
    return min(max(retention_s / 4, 0.05), 3600.0)


def longest_record_life_s(retention_s: float) -> float:
    """How long a record can stay in the store: its retention, then until the next pass."""
    return retention_s + pass_interval_s(retention_s)


class Pruner:
    """Deletes ``store`` records older than ``retention_s`` on a background thread, every quarter
    of the retention (and at least hourly), one pass at a time."""

    def __init__(self, store: ActionStateStore, retention_s: float) -> None:
        self._store = store
        self._retention_s = retention_s
        self._next = 0.0
        self._thread: threading.Thread | None = None

    def maybe_prune(self) -> None:
        """Start a pass if one is due and none is running (cheap to call for every input)."""
        now = time.time()
        if now < self._next or (self._thread is not None and self._thread.is_alive()):
            return
        self._next = now + pass_interval_s(self._retention_s)
        self._thread = threading.Thread(
            target=self._prune,
            args=(now - self._retention_s,),
            name="flink-agents-prune",
            daemon=True,
        )
        self._thread.start()

    def _prune(self, older_than: float) -> None:
        store = self._store
        try:
            removed = store.prune(older_than)
        except Exception as e:  # the next write fails the job if the store is really gone
            detail = scrub(str(e), store.secrets)
            _log.warning("action-state store %s: pruning failed: %s", store.address, detail)
            return
        if removed:
            _log.info("action-state store %s: pruned %d old records", store.address, removed)

    def close(self) -> None:
        """Wait (briefly) for a running pass, before the store closes."""
        if self._thread is not None:
            self._thread.join(timeout=5)
