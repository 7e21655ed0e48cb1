"""A map function that writes when the first and the last of N records passed it (benchmarks).

Shipped to the TaskManager by value (``cloudpickle.register_pickle_by_value``), so the job does not
need the bench directory on the TaskManager's path. Times are ``time.perf_counter()`` of the
process running the job's Python, comparable between operators of one local job.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import cloudpickle


class Marks:
    """Writes ``[first, last]`` arrival times of ``expected`` records to ``path``."""

    def __init__(self, path: str | Path, expected: int) -> None:
        self.path, self.expected, self.seen, self.first = str(path), expected, 0, 0.0

    def __call__(self, value: Any) -> Any:
        self.seen += 1
        if self.seen == 1:
            self.first = time.perf_counter()
        if self.seen == self.expected:
            Path(self.path).write_text(json.dumps([self.first, time.perf_counter()]))
        return value


def read(path: str | Path) -> tuple[float, float]:
    """The ``(first, last)`` times written by :class:`Marks`."""
    first, last = json.loads(Path(path).read_text())
    return float(first), float(last)


class Totals:
    """Sums the values of ``expected`` records and writes ``[sum, count]`` to ``path``."""

    def __init__(self, path: str | Path, expected: int) -> None:
        self.path, self.expected, self.seen, self.total = str(path), expected, 0, 0

    def __call__(self, value: Any) -> Any:
        self.seen += 1
        self.total += value
        if self.seen == self.expected:
            Path(self.path).write_text(json.dumps([self.total, self.seen]))
        return value


cloudpickle.register_pickle_by_value(__import__(__name__))
