"""Per-key run bookkeeping in keyed state: identity numbering, waiting inputs, the parked run.

A key runs one input at a time. Inputs that arrive while the key is busy wait in a keyed map by
arrival slot. A run is written to state only when it parks (an action waits): a run that finishes
inside one callback is never visible to a checkpoint, so it needs no state at all.

A run gets an identity -- the key's next sequence number, the job identity and a digest of its
input -- only when it needs one: on its first durable call, or when it parks. Replaying the same
inputs makes the same runs need one, in the same order, so they get the same numbers. A key that
never made a durable call and is idle keeps no bookkeeping; one that did keeps ``KeyMeta`` (a few
numbers) until ``durable-execution.key-ttl.ms`` after its last use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from flink_agents_ctx.backends.protocols import KeyedStateBackend, StateTtl
from flink_agents_ctx.durable.identity import input_digest
from flink_agents_ctx.events import Event
from flink_agents_ctx.state_layout import (
    KEY_META,
    KEY_META_FORMAT,
    RUN,
    RUN_FORMAT,
    WAITING_INPUTS,
)


@dataclass
class KeyMeta:
    """``next_seq``: the next identity number; ``job``: the job identity the key's records use
    when no ``job-identifier`` is configured (fixed on first use, kept across restores);
    ``active``: a run is parked in state; ``next_arrival``/``next_start``: slots of the next input
    to wait and of the next waiting input to start."""

    next_seq: int = 0
    job: str | None = None
    active: bool = False
    next_arrival: int = 0
    next_start: int = 0
    # Not kept in state: whether this differs from what state holds.
    changed: bool = field(default=False, compare=False)

    @property
    def has_waiting(self) -> bool:
        return self.next_start < self.next_arrival

    @property
    def busy(self) -> bool:
        return self.active or self.next_start < self.next_arrival

    def snapshot(self) -> tuple[Any, ...]:
        return (self.next_seq, self.job, self.active, self.next_arrival, self.next_start)

    @property
    def is_blank(self) -> bool:
        """Nothing worth keeping: the key may as well have no bookkeeping at all."""
        return self.snapshot() == (0, None, False, 0, 0)

    def to_state(self) -> tuple[Any, ...]:
        return (KEY_META_FORMAT, *self.snapshot())

    @classmethod
    def from_state(cls, raw: Any) -> KeyMeta:
        if raw is None:
            return cls()
        if len(raw) == 4:  # format 1: (next_seq, next_start, active, job); every input numbered
            next_seq, next_start, active, job = raw
            return cls(next_seq, job, active, next_seq, next_start)
        _version, next_seq, job, active, next_arrival, next_start = raw
        return cls(next_seq, job, active, next_arrival, next_start)


class Step(NamedTuple):
    """One action execution of a run: ``action`` handling ``event``; ``number`` counts the run's
    steps (part of call identities)."""

    event: Event
    action: str
    number: int


_NO_INPUT: Any = object()


@dataclass(eq=False, slots=True)
class Run:
    """The run of one input: steps not finished yet (the current one first), and its identity
    once it has one."""

    timestamp: int | None
    steps: list[Step] = field(default_factory=list)
    next_index: int = 0
    wrote_sensory: bool = False
    seq: int | None = None
    job: str | None = None
    input_digest: str | None = None
    # Not kept in state: the input (for its digest), and whether state is behind.
    input: Any = _NO_INPUT
    dirty: bool = True

    def add_step(self, event: Event, action: str) -> None:
        self.steps.append(Step(event, action, self.next_index))
        self.next_index += 1
        self.dirty = True

    def identity(self, meta: KeyMeta, job_of: Callable[[KeyMeta], str]) -> tuple[int, str, str]:
        """``(seq, job, input digest)``, claiming the key's next number on first use."""
        if self.seq is None:
            self.seq = meta.next_seq
            meta.next_seq += 1
            meta.changed = True
            self.dirty = True
        if self.job is None:
            self.job = job_of(meta)
            self.dirty = True
        if self.input_digest is None:
            # A run restored from a format without a digest has lost its input: "" as then.
            self.input_digest = "" if self.input is _NO_INPUT else input_digest(self.input)
            self.dirty = True
        return self.seq, self.job, self.input_digest

    def to_state(self) -> tuple[Any, ...]:
        steps = [(s.event, s.action, s.number) for s in self.steps]
        fields = (self.seq, self.timestamp, steps, self.next_index, self.wrote_sensory)
        return (RUN_FORMAT, *fields, self.job, self.input_digest)

    @classmethod
    def from_state(cls, data: tuple[Any, ...], default_job: str) -> Run:
        seq, timestamp, steps, next_index, wrote_sensory = data[1:6]
        # Format 1 had no job identity (the operator's default) and no input digest.
        job, digest = (data[6], data[7]) if data[0] >= 2 else (default_job, "")
        return cls(
            timestamp,
            [Step(*s) for s in steps],
            next_index,
            wrote_sensory,
            seq,
            job,
            digest if digest is not None or seq is None else "",
            dirty=False,
        )


class KeyRuns:
    """The keyed states behind :class:`KeyMeta`, waiting inputs and the parked run."""

    def __init__(self, state: KeyedStateBackend, meta_ttl: StateTtl | None) -> None:
        self._meta = state.value_state(KEY_META, meta_ttl)
        self._run = state.value_state(RUN)
        self._waiting = state.map_state(WAITING_INPUTS)

    def meta(self) -> KeyMeta:
        return KeyMeta.from_state(self._meta.value())

    def save_meta(self, meta: KeyMeta) -> None:
        if meta.is_blank:
            self._meta.clear()
        else:
            self._meta.update(meta.to_state())

    def enqueue(self, slot: int, value: Any, timestamp: int | None) -> None:
        self._waiting.put(str(slot), (value, timestamp))

    def dequeue(self, slot: int) -> tuple[Any, int | None]:
        value, timestamp = self._waiting.get(str(slot))
        self._waiting.remove(str(slot))
        return value, timestamp

    def load_run(self, default_job: str) -> Run | None:
        raw = self._run.value()
        return None if raw is None else Run.from_state(raw, default_job)

    def save_run(self, run: Run) -> None:
        self._run.update(run.to_state())
        run.dirty = False

    def clear_run(self) -> None:
        self._run.clear()
