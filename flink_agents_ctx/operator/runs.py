"""Per-key run bookkeeping in keyed state: input sequence numbers, waiting inputs, the parked run.

A key runs one input at a time. ``KeyMeta`` numbers the key's inputs (the per-key sequence number
that idempotency keys and journal identities use) and says whether a run is parked. Inputs that
arrive while the key is busy wait in a keyed map by sequence number. A run is written to state only
when it parks (an action waits on an async call): a run that finishes inside one
``process_element`` is never visible to a checkpoint, so it needs no state besides the meta.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flink_agents_ctx.backends.protocols import KeyedStateBackend
from flink_agents_ctx.events import Event

META_STATE = "flink-agents.key-meta"
RUN_STATE = "flink-agents.run"
WAITING_STATE = "flink-agents.waiting-inputs"


@dataclass
class KeyMeta:
    """``next_seq``: number of the next input to arrive; ``next_start``: of the next to start;
    ``active``: a run is parked in state; ``job``: the job identity the key's records use when
    no ``job-identifier`` is configured (fixed when the key is first seen, kept across restores)."""

    next_seq: int = 0
    next_start: int = 0
    active: bool = False
    job: str | None = None

    def to_state(self) -> tuple[int, int, bool, str | None]:
        return (self.next_seq, self.next_start, self.active, self.job)

    @property
    def has_waiting(self) -> bool:
        return self.next_start < self.next_seq


@dataclass
class Step:
    """One action execution of a run: ``action`` handling ``event``; ``index`` counts the run's
    steps (part of call identities)."""

    event: Event
    action: str
    index: int


@dataclass
class Run:
    """The run of one input: steps not finished yet (the current one first)."""

    seq: int
    timestamp: int | None
    job: str
    input_digest: str = ""
    steps: list[Step] = field(default_factory=list)
    next_index: int = 0
    wrote_sensory: bool = False

    def add_step(self, event: Event, action: str) -> None:
        self.steps.append(Step(event, action, self.next_index))
        self.next_index += 1

    def to_state(self) -> tuple[Any, ...]:
        steps = [(s.event, s.action, s.index) for s in self.steps]
        fields = (self.seq, self.timestamp, steps, self.next_index, self.wrote_sensory)
        return (2, *fields, self.job, self.input_digest)

    @classmethod
    def from_state(cls, data: tuple[Any, ...], default_job: str) -> Run:
        # Version 1 had no job identity; such a run keeps the operator's default.
        seq, timestamp, steps, next_index, wrote_sensory = data[1:6]
        job, digest = (data[6], data[7]) if data[0] >= 2 else (default_job, "")
        return cls(
            seq, timestamp, job, digest, [Step(*s) for s in steps], next_index, wrote_sensory
        )


class KeyRuns:
    """The keyed states behind :class:`KeyMeta`, waiting inputs and the parked run."""

    def __init__(self, state: KeyedStateBackend) -> None:
        self._meta = state.value_state(META_STATE)
        self._run = state.value_state(RUN_STATE)
        self._waiting = state.map_state(WAITING_STATE)

    def meta(self) -> KeyMeta:
        raw = self._meta.value()
        return KeyMeta() if raw is None else KeyMeta(*raw)

    def save_meta(self, meta: KeyMeta) -> None:
        self._meta.update(meta.to_state())

    def enqueue(self, seq: int, value: Any, timestamp: int | None) -> None:
        self._waiting.put(str(seq), (value, timestamp))

    def dequeue(self, seq: int) -> tuple[Any, int | None]:
        value, timestamp = self._waiting.get(str(seq))
        self._waiting.remove(str(seq))
        return value, timestamp

    def load_run(self, default_job: str) -> Run | None:
        raw = self._run.value()
        return None if raw is None else Run.from_state(raw, default_job)

    def save_run(self, run: Run) -> None:
        self._run.update(run.to_state())

    def clear_run(self) -> None:
        self._run.clear()
