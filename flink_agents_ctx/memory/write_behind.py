"""``WriteBehind``: committed memory writes held in the operator until the next checkpoint barrier.

Each record's committed writes would otherwise cost a call into the state backend; held here, a key
written a thousand times between two checkpoints goes to state once. That is safe because nothing
outside this operator instance reads its keyed state, and a checkpoint is the only moment state
must be complete: the operator writes everything held here just before each barrier
(:mod:`flink_agents_ctx.operator.barrier`). A failure loses only writes made after the last
checkpoint, which the restored job redoes anyway.

Held writes are by key, with the key switch's handle of the key taken when the key is first held
(one call into the JVM per key and checkpoint interval). Writing them out switches to each key in
turn and back. At most ``max_keys`` keys are held: one more writes them all out at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Hashable, Iterable
from typing import Any

from flink_agents_ctx.backends.protocols import KeySwitch, MapStore

_log = logging.getLogger(__name__)

SLOW_WRITE_OUT_S = 1.0
"""A write-out that takes this long is logged at INFO (faster ones at DEBUG)."""


def write_entries(state: MapStore, writes: dict[str, Any], removed: Iterable[str]) -> None:
    """Write ``writes`` (path -> entry) of the current key to ``state`` with as few calls as
    possible: the paths in ``removed`` (entries ``None``) are removed, the rest put in one call.
    ``writes`` is handed over (emptied or kept by the state)."""
    for path in removed:
        state.remove(path)
        del writes[path]
    if len(writes) == 1:
        state.put(*writes.popitem())
    elif writes:
        state.put_all(writes)


class WriteBehind:
    """Committed entries (path -> entry, ``None`` for a removal) by key, until :meth:`write_out`."""

    __slots__ = ("_held", "_max_keys", "_state", "_switch", "keys_written")

    def __init__(self, state: MapStore, switch: KeySwitch, max_keys: int) -> None:
        self._state = state
        self._switch = switch
        self._max_keys = max(1, max_keys)
        self._held: dict[Hashable, tuple[object, dict[str, Any]]] = {}
        #: Keys written out so far (for tests and logs).
        self.keys_written = 0

    def held(self, key: Hashable) -> dict[str, Any] | None:
        """The entries held for ``key`` (the caller must not change them), if any."""
        held = self._held.get(key)
        return None if held is None else held[1]

    def hold(self, key: Hashable, writes: dict[str, Any]) -> None:
        """Hold ``writes`` of the current key ``key`` (they now belong to this object)."""
        held = self._held.get(key)
        if held is not None:
            held[1].update(writes)
            return
        self._held[key] = (self._switch.current(), writes)
        if len(self._held) > self._max_keys:
            self.write_out()

    def drop(self, key: Hashable) -> None:
        """Forget what is held for ``key`` (its state is being cleared)."""
        self._held.pop(key, None)

    def write_out(self) -> int:
        """Write every held entry to state, key by key, and come back to the current key.
        Returns how many keys were written."""
        held = self._held
        if not held:
            return 0
        switch, state = self._switch, self._state
        started = time.monotonic()
        home = switch.current()
        try:
            for handle, writes in held.values():
                switch.switch_to(handle)
                write_entries(state, writes, [p for p, entry in writes.items() if entry is None])
        finally:
            if home is not None:
                switch.switch_to(home)
        count = len(held)
        held.clear()
        self.keys_written += count
        took = time.monotonic() - started
        # A slow write-out delays the checkpoint it precedes: say so where users look.
        _log.log(
            logging.INFO if took >= SLOW_WRITE_OUT_S else logging.DEBUG,
            "wrote the held short-term memory of %d keys to state in %.3f s",
            count,
            took,
        )
        return count
