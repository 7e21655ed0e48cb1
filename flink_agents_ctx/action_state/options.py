"""The action-state store's configuration options (registered in the configuration table)."""

from __future__ import annotations

from flink_agents_ctx.action_state.addresses import address_problem, redact_url
from flink_agents_ctx.config import ConfigOption, register_options

ACTION_STATE_STORE: ConfigOption[str] = ConfigOption(
    "action-state.store",
    str,
    None,
    "Write-ahead store for durable call records, committed before an action continues with a "
    "result: 'sqlite:////<absolute path>' or 'postgresql://user:password@host:port/db'. Unset: "
    "keyed state only (calls that finished after the last checkpoint run again after a failure).",
    check=address_problem,
    shown=redact_url,
)
ACTION_STATE_RETENTION_MS: ConfigOption[int] = ConfigOption(
    "action-state.retention.ms",
    int,
    None,
    "Records older than this are deleted from the store. Unset: derived from the job's "
    "checkpointing (retained checkpoints x interval + checkpoint timeout + 5 min, at least "
    "15 min). Keep it longer than the age of the oldest checkpoint or savepoint you may restore "
    "from plus the longest run of one input.",
    minimum=1,
)
ACTION_STATE_ALLOW_PICKLE: ConfigOption[bool] = ConfigOption(
    "action-state.allow-pickle",
    bool,
    False,
    "Whether records read back from the store may be unpickled (results of calls using the "
    "pickle codec, exceptions rebuilt as their own type). Pickle data runs code when loaded: "
    "turn this on only when nobody else can write to the store.",
)
ACTION_STATE_WRITE_ATTEMPTS: ConfigOption[int] = ConfigOption(
    "action-state.write-attempts",
    int,
    5,
    "Attempts of a store read or write before the job fails (backing off from 50 ms).",
    minimum=1,
)
ACTION_STATE_SQLITE_BUSY_TIMEOUT_MS: ConfigOption[int] = ConfigOption(
    "action-state.sqlite.busy-timeout.ms",
    int,
    5000,
    "How long one SQLite attempt waits for a lock held by another process before it fails and "
    "is retried; a locked database fails the job after about write-attempts x this.",
    minimum=0,
)

register_options(
    ACTION_STATE_STORE,
    ACTION_STATE_RETENTION_MS,
    ACTION_STATE_ALLOW_PICKLE,
    ACTION_STATE_WRITE_ATTEMPTS,
    ACTION_STATE_SQLITE_BUSY_TIMEOUT_MS,
)
