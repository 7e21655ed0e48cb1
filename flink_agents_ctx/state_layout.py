"""Every keyed state the agent operator keeps, with its format version: what a checkpoint holds.

Names are part of savepoints: never rename one, and bump its format version (reading the old one
too) when its layout changes. All values go to Flink as pickled plain data (tuples, lists, str,
int, bytes, events), never as library objects, so a savepoint does not depend on this package's
classes.

=================================  =====  ==========================================================
state                              kind   contents (one per key)
=================================  =====  ==========================================================
``flink-agents.sensory-memory``    map    memory tree of the run in progress (path -> entry), cleared
                                          when the run ends
``flink-agents.short-term-memory`` map    memory tree kept across runs (optional TTL)
``flink-agents.key-meta``          value  KEY_META_FORMAT: whether a run is parked, and the
                                          waiting-input slots; present only while the key is busy
                                          (no time-to-live: it must outlive any wait)
``flink-agents.key-numbering``     value  KEY_NUMBERING_FORMAT: the key's next identity number and
                                          job identity; absent for a key whose inputs never needed
                                          an identity; expires after ``durable-execution.key-ttl.ms``
``flink-agents.run``               value  RUN_FORMAT: the parked run (its pending steps and their
                                          events: an input event with its record, other events in
                                          their wire form, so no event class is pickled by
                                          reference); present only while an action waits
``flink-agents.waiting-inputs``    map    inputs that arrived while the key was busy, by slot
``flink-agents.action-journal``    map    CALL_RECORD_FORMAT: call records of the parked action
                                          execution, by call position; present only while it waits
=================================  =====  ==========================================================
"""

from __future__ import annotations

SENSORY_MEMORY = "flink-agents.sensory-memory"
SHORT_TERM_MEMORY = "flink-agents.short-term-memory"
KEY_META = "flink-agents.key-meta"
KEY_NUMBERING = "flink-agents.key-numbering"
RUN = "flink-agents.run"
WAITING_INPUTS = "flink-agents.waiting-inputs"
ACTION_JOURNAL = "flink-agents.action-journal"

KEY_META_FORMAT = 3
"""``(3, active, next_arrival, next_start)``. Format 2 was ``(2, next_seq, job, active,
next_arrival, next_start)`` and format 1 the untagged ``(next_seq, next_start, active, job)``,
where every input took a number; both kept the numbering here, and a key read in them moves it to
``key-numbering``."""

KEY_NUMBERING_FORMAT = 1
"""``(1, next_seq, job)``."""

RUN_FORMAT = 4
"""``(3, seq, timestamp, steps, next_index, wrote_sensory, job, input_digest)`` with ``steps`` as
``[(event, action, index), ...]``; ``seq``, ``job`` and ``input_digest`` are ``None`` until the run
needs an identity. Format 2 had the same fields with ``seq`` always set; format 1 had no job or
input digest."""

CALL_RECORD_FORMAT = 2
"""``(2, position, function_id, digest, status, codec, payload, error)``; ``position`` is a str.
Format 1 had an int call index in its place (the position of a call of the action's own code)."""

ALL = (
    SENSORY_MEMORY,
    SHORT_TERM_MEMORY,
    KEY_META,
    KEY_NUMBERING,
    RUN,
    WAITING_INPUTS,
    ACTION_JOURNAL,
)
