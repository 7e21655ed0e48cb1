"""Per-key run bookkeeping in keyed state: in-flight counters, waiting inputs, the parked run, and
the numbering that gives runs their identities.

A key runs one input at a time. Inputs that arrive while the key is busy wait in a keyed map by
arrival slot. A run is written to state only when it parks (an action waits): a run that finishes
inside one callback is never visible to a checkpoint, so it needs no state at all.

Two small states describe a key, kept apart because they live differently:

- :class:`KeyMeta` (no time-to-live): whether a run is parked and the waiting-input slots. It exists
  only while the key is busy, and must never expire under a parked run.
- :class:`Numbering` (time-to-live ``durable-execution.key-ttl.ms``): the key's next identity number
  and its job identity. A run gets an identity -- the next number, the job identity and a digest of
  its input -- only when a call needs one (an idempotency key, a call on a worker, the store).
  Replaying the same inputs makes the same runs need one, in the same order, so they get the same
  numbers. An identity must be made from what a restore would see: the operator keeps a key's
  numbering between callbacks only after writing it, and only for as long as the state certainly
  still holds that write (the time-to-live minus a margin); otherwise it reads it again.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from flink_agents_ctx import wire
from flink_agents_ctx.backends.protocols import KeyedStateBackend, StateTtl
from flink_agents_ctx.durable.identity import input_digest
from flink_agents_ctx.events import Event, InputEvent
from flink_agents_ctx.state_layout import (
    KEY_META,
    KEY_META_FORMAT,
    KEY_NUMBERING,
    KEY_NUMBERING_FORMAT,
    RUN,
    RUN_FORMAT,
    WAITING_INPUTS,
)


@dataclass
class Numbering:
    """``next_seq``: the key's next identity number; ``job``: the job identity its records use
    when no ``job-identifier`` is configured (fixed on first use)."""

    next_seq: int = 0
    job: str | None = None
    changed: bool = field(default=False, compare=False)

    def to_state(self) -> tuple[Any, ...]:
        return (KEY_NUMBERING_FORMAT, self.next_seq, self.job)

    @classmethod
    def from_state(cls, raw: Any) -> Numbering:
        if raw is None:
            return cls()
        _version, next_seq, job = raw
        return cls(next_seq, job)


@dataclass
class KeyMeta:
    """``active``: a run is parked in state; ``next_arrival``/``next_start``: slots of the next
    input to wait and of the next waiting input to start. ``numbering`` is loaded when needed (and
    carried over from the previous formats, which kept it here)."""

    active: bool = False
    next_arrival: int = 0
    next_start: int = 0
    # Not kept in this state: whether it differs from what state holds, and the numbering.
    changed: bool = field(default=False, compare=False)
    numbering: Numbering | None = field(default=None, compare=False)
    # Wall-clock time until which ``numbering`` is known to equal the state (0: read it again).
    numbering_until: float = field(default=0.0, compare=False)

    @property
    def has_waiting(self) -> bool:
        return self.next_start < self.next_arrival

    @property
    def busy(self) -> bool:
        return self.active or self.next_start < self.next_arrival

    def to_state(self) -> tuple[Any, ...] | None:
        """The state of a busy key, ``None`` for an idle one (which keeps nothing)."""
        if not self.busy:
            return None
        return (KEY_META_FORMAT, self.active, self.next_arrival, self.next_start)

    @classmethod
    def from_state(cls, raw: Any) -> KeyMeta:
        if raw is None:
            return cls()
        if len(raw) == 4 and raw[0] == KEY_META_FORMAT:
            _version, active, next_arrival, next_start = raw
            return cls(active, next_arrival, next_start)
        # Formats 1 and 2 kept the numbering here too: carry it to its own state.
        if len(raw) == 4:  # format 1: (next_seq, next_start, active, job); every input numbered
            next_seq, next_start, active, job = raw
            next_arrival = next_seq
        else:  # format 2: (2, next_seq, job, active, next_arrival, next_start)
            _version, next_seq, job, active, next_arrival, next_start = raw
        numbering = Numbering(next_seq, job, changed=True)
        return cls(active, next_arrival, next_start, changed=True, numbering=numbering)


class Step(NamedTuple):
    """One action execution of a run: ``action`` handling ``event``; ``number`` counts the run's
    steps (part of call identities)."""

    event: Event
    action: str
    number: int


_new_step = functools.partial(tuple.__new__, Step)  # no Python-level __new__ per step
_NO_INPUT: Any = object()


class Run:
    """The run of one input: steps not finished yet (the current one first), and its identity
    once it has one.

    Most runs finish inside the callback that started them and never get an identity, so the
    fields they do not use stay at their class-level defaults.
    """

    next_index: int = 0
    wrote_sensory: bool = False
    seq: int | None = None
    job: str | None = None
    input_digest: str | None = None
    # Not kept in state: whether state is behind.
    dirty: bool = True

    def __init__(
        self,
        timestamp: int | None,
        steps: list[Step] | None = None,
        next_index: int = 0,
        wrote_sensory: bool = False,
        seq: int | None = None,
        job: str | None = None,
        input_digest: str | None = None,
        *,
        input: Any = _NO_INPUT,
        dirty: bool = True,
    ) -> None:
        self.timestamp = timestamp
        self.steps: list[Step] = [] if steps is None else steps
        # Not kept in state: the input (for its digest).
        self.input = input
        if steps is not None:  # from state
            self.next_index = next_index
            self.wrote_sensory = wrote_sensory
            self.seq = seq
            self.job = job
            self.input_digest = input_digest
            self.dirty = dirty

    def add_step(self, event: Event, action: str) -> None:
        index = self.next_index
        self.steps.append(_new_step((event, action, index)))
        self.next_index = index + 1
        self.dirty = True

    def identity(
        self, numbering: Callable[[], Numbering], job_of: Callable[[Numbering], str]
    ) -> tuple[int, str, str]:
        """``(seq, job, input digest)``, claiming the key's next number on first use."""
        seq, job = self.seq, self.job
        if seq is None:
            counter = numbering()
            seq = self.seq = counter.next_seq
            counter.next_seq += 1
            counter.changed = True
            job = self.job = job_of(counter)
            self.dirty = True
        elif job is None:
            job = self.job = job_of(numbering())
            self.dirty = True
        return seq, job, self.keep_input_digest()

    def keep_input_digest(self) -> str:
        """Fix the input's digest (before the run parks: a restored run has no input)."""
        digest = self.input_digest
        if digest is None:
            # A run restored from a format without a digest has lost its input: "" as then.
            digest = self.input_digest = "" if self.input is _NO_INPUT else input_digest(self.input)
            self.dirty = True
        return digest

    def to_state(self) -> tuple[Any, ...]:
        steps = [(_event_to_state(s.event), s.action, s.number) for s in self.steps]
        fields = (self.seq, self.timestamp, steps, self.next_index, self.wrote_sensory)
        return (RUN_FORMAT, *fields, self.job, self.input_digest)

    @classmethod
    def from_state(cls, data: tuple[Any, ...], default_job: str, types: wire.EventTypes) -> Run:
        seq, timestamp, steps, next_index, wrote_sensory = data[1:6]
        # Format 1 had no job identity (the operator's default) and no input digest.
        job, digest = (data[6], data[7]) if data[0] >= 2 else (default_job, "")
        # Formats 1-3 kept the event objects themselves.
        if data[0] >= 4:
            steps = [(_event_from_state(e, types), a, n) for e, a, n in steps]
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


def _event_to_state(event: Event) -> tuple[Any, ...]:
    """An input event with its record as it came; any other event in its wire form: classes of
    events defined in a job script are not importable by name in the TaskManager, so pickling
    them by reference would fail (and a restored event must be an instance of the agent's own
    class for dispatch)."""
    if type(event) is InputEvent:
        return ("input", event.id, event.source_timestamp, event.input)
    return ("wire", wire.encode_event(event))


def _event_from_state(data: tuple[Any, ...], types: wire.EventTypes) -> Event:
    if data[0] == "input":
        _kind, event_id, source_timestamp, value = data
        return InputEvent(input=value, id=event_id, source_timestamp=source_timestamp)
    return wire.decode_event(data[1], types)


def _numbering_trust_s(key_ttl_ms: int | None) -> float:
    """How long the operator may use a key's numbering after writing it without reading it back:
    the numbering's time-to-live less a margin (a minute, or half of a shorter time-to-live)."""
    if key_ttl_ms is None:
        return float("inf")
    ttl_s = key_ttl_ms / 1000
    return ttl_s - min(60.0, ttl_s / 2)


class KeyRuns:
    """The keyed states behind :class:`KeyMeta`, :class:`Numbering`, waiting inputs and the
    parked run; and the rules for a key's numbering and job identity.

    Args:
        numbering_ttl: the numbering's time-to-live (``durable-execution.key-ttl.ms``).
        configured_job: ``job-identifier``, if set; else a key's job identity is ``default_job``,
            fixed in its numbering when first needed. A parked run from before job identities
            were kept belongs to ``configured_job``, else to ``legacy_job`` (the agent's name).
        ttl_clock: the clock state time-to-live runs on (the wall clock in Flink).
    """

    def __init__(
        self,
        state: KeyedStateBackend,
        numbering_ttl: StateTtl | None,
        types: wire.EventTypes | None = None,
        configured_job: str | None = None,
        default_job: str = "",
        legacy_job: str = "",
        ttl_clock: Callable[[], float] = time.time,
    ) -> None:
        self._configured_job = configured_job
        self._default_job = default_job
        self._legacy_job = legacy_job
        # How long a numbering, once written, is used without reading it back.
        self._trust_s = _numbering_trust_s(None if numbering_ttl is None else numbering_ttl.ttl_ms)
        self._ttl_clock = ttl_clock
        self._types = types or wire.EventTypes(())
        self._meta = state.value_state(KEY_META)
        self._numbering = state.value_state(KEY_NUMBERING, numbering_ttl)
        self._run = state.value_state(RUN)
        self._waiting = state.map_state(WAITING_INPUTS)

    def meta(self) -> KeyMeta:
        return KeyMeta.from_state(self._meta.value())

    def save_meta(self, meta: KeyMeta) -> None:
        raw = meta.to_state()
        if raw is None:
            self._meta.clear()
        else:
            self._meta.update(raw)
        meta.changed = False

    def numbering(self) -> Numbering:
        """The current key's numbering as in state."""
        return Numbering.from_state(self._numbering.value())

    def numbering_of(self, meta: KeyMeta) -> Numbering:
        """The key's numbering: the one kept in ``meta`` while state certainly still holds it,
        else read from state."""
        numbering = meta.numbering
        if numbering is None or (
            meta.numbering_until and self._ttl_clock() >= meta.numbering_until
        ):
            numbering = meta.numbering = self.numbering()
            meta.numbering_until = 0.0
        return numbering

    def job_of(self, numbering: Numbering) -> str:
        """The key's job identity: the configured one, else the one fixed in its numbering when
        the key first needed one."""
        if self._configured_job:
            return self._configured_job
        if numbering.job is None:
            numbering.job = self._default_job
            numbering.changed = True
        return numbering.job

    def save(self, meta: KeyMeta) -> None:
        """Write what changed of the key's meta and numbering."""
        if meta.changed:
            self.save_meta(meta)
        numbering = meta.numbering
        if numbering is not None:
            if numbering.changed:
                self._numbering.update(numbering.to_state())
                numbering.changed = False
                # State holds exactly this until its time-to-live runs out: keep it until
                # shortly before, so the next input of the key need not read it back.
                meta.numbering_until = self._ttl_clock() + self._trust_s
            elif not meta.numbering_until:
                # Read, never written here: read it again when next needed (what a restore
                # would see is what an identity must be made from).
                meta.numbering = None

    def enqueue(self, slot: int, value: Any, timestamp: int | None) -> None:
        self._waiting.put(str(slot), (value, timestamp))

    def dequeue(self, slot: int) -> tuple[Any, int | None]:
        value, timestamp = self._waiting.get(str(slot))
        self._waiting.remove(str(slot))
        return value, timestamp

    def load_run(self) -> Run | None:
        raw = self._run.value()
        if raw is None:
            return None
        return Run.from_state(raw, self._configured_job or self._legacy_job, self._types)

    def save_run(self, run: Run) -> None:
        self._run.update(run.to_state())
        run.dirty = False

    def clear_run(self) -> None:
        self._run.clear()
