"""Progress files: each agent operator instance keeps its running counts in one small JSON file,
which ``flink-agents-ctx run`` sums into its progress line and final summary.

Only a job started by ``run`` writes them (the directory comes from
:class:`~flink_agents_ctx.run_settings.RunSettings`). A file is replaced whole (written aside,
then renamed), at most every ``interval_s`` and once more when the operator closes, so a reader
never sees half of one.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    """What an operator instance has done since it opened (summed over instances by the reader).

    ``keys_waiting`` counts keys whose run is parked on an async call (a level, not a total)."""

    inputs: int = 0
    outputs: int = 0
    actions: int = 0
    calls_made: int = 0
    calls_replayed: int = 0
    keys_waiting: int = 0

    def __add__(self, other: Progress) -> Progress:
        return Progress(**{k: v + getattr(other, k) for k, v in asdict(self).items()})

    @staticmethod
    def total(parts: Iterable[Progress]) -> Progress:
        result = Progress()
        for part in parts:
            result = result + part
        return result


class ProgressFile:
    """Writes one operator instance's :class:`Progress` to ``directory/<name>.json``."""

    def __init__(
        self,
        directory: Path,
        name: str,
        interval_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{name}.json"
        self._interval_s = interval_s
        self._clock = clock
        self._next = 0.0
        self._failed = False

    def maybe_write(self, read: Callable[[], Progress]) -> None:
        """Write ``read()`` if the interval has passed since the last write."""
        now = self._clock()
        if now >= self._next:
            self._next = now + self._interval_s
            self.write(read())

    def write(self, progress: Progress) -> None:
        # Progress is a convenience: a full disk must not fail the job, only be said once.
        aside = self.path.with_suffix(".tmp")
        try:
            aside.write_text(json.dumps(asdict(progress)))
            os.replace(aside, self.path)
        except OSError as e:
            if not self._failed:
                self._failed = True
                _log.warning("cannot write progress to %s: %s", self.path, e)


def read_progress(directory: Path) -> Progress:
    """The sum of every operator instance's progress file in ``directory`` (zero when none)."""
    parts = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else ():
        try:
            raw = json.loads(path.read_text())
            parts.append(Progress(**{k: int(raw.get(k, 0)) for k in Progress.__annotations__}))
        except (OSError, ValueError, TypeError):
            continue  # replaced while read; the next read gets it
    return Progress.total(parts)
