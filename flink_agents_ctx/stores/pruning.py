"""The store's pruning rule, run in the background: delete records older than the retention."""

from __future__ import annotations

import logging
import threading
import time

from flink_agents_ctx.config import scrub
from flink_agents_ctx.durable.wal import ActionStateStore

_log = logging.getLogger(__name__)


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
        self._next = now + min(max(self._retention_s / 4, 0.05), 3600.0)
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
