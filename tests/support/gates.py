"""Named gates that hold durable calls until a test lets each one finish."""

from __future__ import annotations

import threading
from collections.abc import Hashable


class Gates:
    """One ``threading.Event`` per name, made on first use. After :meth:`open_all`, every gate
    (also one made later) is open, so no worker stays blocked when a test ends."""

    def __init__(self) -> None:
        self._gates: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()
        self._all_open = threading.Event()

    def gate(self, name: Hashable) -> threading.Event:
        with self._lock:
            event = self._gates.setdefault(name, threading.Event())
            if self._all_open.is_set():
                event.set()
            return event

    def open_all(self) -> None:
        with self._lock:
            self._all_open.set()
            for event in self._gates.values():
                event.set()

    def reset(self) -> None:
        with self._lock:
            self._all_open.clear()
            self._gates.clear()
