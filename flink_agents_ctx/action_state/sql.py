"""SQL action-state stores: SQLite (embedded, one host) and PostgreSQL (clusters), one schema.

One row per durable call of an action execution::

    job_id, key_digest, key_text, seq, input_digest, action, step, call_position  -- primary key
    function_id, digest, status, codec, payload, error, written_at

``key_digest`` is the SHA-256 of the key's canonical encoding and ``key_text`` the key as JSON, so
keys of any type are stored as columns, never split out of a joined string. ``error`` is JSON
(type name, message, traceback text, and the pickled exception as base64 when there was one).
Each write is its own committed transaction: ``save`` returns only once the row is durable.
"""

from __future__ import annotations

import base64
import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flink_agents_ctx.action_state.addresses import redact_url, sqlite_path, url_secrets
from flink_agents_ctx.durable.execution_ref import ExecutionRef
from flink_agents_ctx.durable.records import CallRecord, CallStatus, ErrorInfo
from flink_agents_ctx.errors import ActionStateStoreError, ConfigError

TABLE = "flink_agents_action_state"

_COLUMNS = (
    "job_id, key_digest, key_text, seq, input_digest, action, step, call_position, "
    "function_id, digest, status, codec, payload, error, written_at"
)
_KEY = "job_id, key_digest, seq, input_digest, action, step, call_position"
# Rows deleted per statement when pruning, so commits wait for at most one chunk.
PRUNE_CHUNK = 5000
# The rows of one action execution.
_EXECUTION = (
    "job_id = ? AND key_digest = ? AND seq = ? AND input_digest = ? AND action = ? AND step = ?"
)


def _execution_params(execution: ExecutionRef) -> tuple[Any, ...]:
    e = execution
    return (e.job, e.key_digest, e.seq, e.input_digest, e.action, e.step)


@dataclass(frozen=True)
class _Dialect:
    name: str
    placeholder: str
    blob: str
    # Selects up to PRUNE_CHUNK old rows by their physical row id.
    prune: str
    # Lists the table's columns (to tell an older layout apart).
    columns: str


_SQLITE = _Dialect(
    "sqlite",
    "?",
    "BLOB",
    f"DELETE FROM {TABLE} WHERE rowid IN "
    f"(SELECT rowid FROM {TABLE} WHERE written_at < ? LIMIT {PRUNE_CHUNK})",
    f"SELECT name FROM pragma_table_info('{TABLE}')",
)
_POSTGRES = _Dialect(
    "postgresql",
    "%s",
    "BYTEA",
    f"DELETE FROM {TABLE} WHERE ctid IN "
    f"(SELECT ctid FROM {TABLE} WHERE written_at < %s LIMIT {PRUNE_CHUNK})",
    f"SELECT column_name FROM information_schema.columns WHERE table_name = '{TABLE}'",
)


def _schema(d: _Dialect) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {TABLE} (
            job_id TEXT NOT NULL,
            key_digest TEXT NOT NULL,
            key_text TEXT NOT NULL,
            seq BIGINT NOT NULL,
            input_digest TEXT NOT NULL,
            action TEXT NOT NULL,
            step INTEGER NOT NULL,
            call_position TEXT NOT NULL,
            function_id TEXT NOT NULL,
            digest TEXT NOT NULL,
            status TEXT NOT NULL,
            codec TEXT NOT NULL,
            payload {d.blob},
            error TEXT,
            written_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY ({_KEY})
        )""",
        f"CREATE INDEX IF NOT EXISTS {TABLE}_written_at ON {TABLE} (written_at)",
    ]


class SqlActionStateStore:
    """:class:`~flink_agents_ctx.action_state.port.ActionStateStore` over a DB-API connection.

    One connection per store, used under a lock (workers write as their calls finish). A broken
    connection is dropped and opened again on the next use; callers retry (see ``with_retries``).
    """

    def __init__(
        self,
        dialect: _Dialect,
        connect: Callable[[], Any],
        address: str,
        secrets: list[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._dialect = dialect
        self._connect = connect
        self._conn: Any = None
        self._lock = threading.Lock()
        self._clock = clock
        self.address = address
        self.secrets = secrets or []
        self._closed = False
        self._run(lambda cur: [cur.execute(stmt) for stmt in _schema(dialect)])
        self._check_layout()

    def _check_layout(self) -> None:
        """Refuse a table left by an older version (its rows are keyed differently)."""

        def work(cur: Any) -> set[str]:
            cur.execute(self._dialect.columns)
            return {str(row[0]) for row in cur.fetchall()}

        columns = self._run(work)
        if "call_position" not in columns:
            raise ActionStateStoreError(
                f"the table {TABLE} in the action-state store {self.address} has the layout of an "
                "older version of flink-agents-ctx (no call_position column). Its records only "
                f"matter for restores of jobs that ran that version: rename or drop the table "
                f"(ALTER TABLE {TABLE} RENAME TO {TABLE}_old) and start again",
                store=self.address,
            )

    def _sql(self, text: str) -> str:
        return text.replace("?", self._dialect.placeholder)

    def _run(self, work: Callable[[Any], Any]) -> Any:
        with self._lock:
            if self._closed:
                raise ActionStateStoreError(
                    f"the action-state store {self.address} was closed (the operator stopped)",
                    store=self.address,
                )
            if self._conn is None:
                self._conn = self._connect()
            try:
                cur = self._conn.cursor()
                try:
                    return work(cur)
                finally:
                    cur.close()
            except Exception:
                # Start from a fresh connection on the next attempt.
                conn, self._conn = self._conn, None
                with contextlib.suppress(Exception):
                    conn.close()
                raise

    def load(self, execution: ExecutionRef) -> dict[str, CallRecord]:
        query = self._sql(
            f"SELECT call_position, function_id, digest, status, codec, payload, error "
            f"FROM {TABLE} WHERE {_EXECUTION}"
        )
        params = _execution_params(execution)

        def work(cur: Any) -> list[Sequence[Any]]:
            cur.execute(query, params)
            return list(cur.fetchall())

        records = {}
        for row in self._run(work):
            record = _record(row, self.address, execution.action)
            records[record.position] = record
        return records

    def save(self, execution: ExecutionRef, record: CallRecord) -> None:
        statement = self._sql(
            f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT ({_KEY}) DO UPDATE SET function_id = excluded.function_id, "
            "digest = excluded.digest, status = excluded.status, codec = excluded.codec, "
            "payload = excluded.payload, error = excluded.error, written_at = excluded.written_at"
        )
        params = (
            execution.job,
            execution.key_digest,
            execution.key_text,
            execution.seq,
            execution.input_digest,
            execution.action,
            execution.step,
            record.position,
            record.function_id,
            record.digest,
            record.status.value,
            record.codec,
            record.payload,
            _error_json(record.error),
            self._clock(),
        )
        self._run(lambda cur: cur.execute(statement, params))

    def prune(self, older_than: float) -> int:
        statement = self._dialect.prune

        def work(cur: Any) -> int:
            cur.execute(statement, (older_than,))
            return int(cur.rowcount or 0)

        # In chunks, each its own transaction under the lock: workers committing call records
        # wait for one chunk at most, not for the whole pass.
        removed = 0
        while True:
            n = int(self._run(work))
            removed += n
            if n < PRUNE_CHUNK:
                return removed

    def count(self, job_id: str | None = None) -> int:
        if job_id is None:
            query, params = f"SELECT COUNT(*) FROM {TABLE}", []
        else:
            query, params = self._sql(f"SELECT COUNT(*) FROM {TABLE} WHERE job_id = ?"), [job_id]

        def work(cur: Any) -> int:
            cur.execute(query, params)
            return int(cur.fetchone()[0])

        return int(self._run(work))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _error_json(error: ErrorInfo | None) -> str | None:
    if error is None:
        return None
    pickled = None if error.pickled is None else base64.b64encode(error.pickled).decode()
    return json.dumps(
        {
            "type": error.type_name,
            "message": error.message,
            "traceback": error.traceback,
            "pickled": pickled,
        }
    )


def _record(row: Sequence[Any], address: str, action: str) -> CallRecord:
    """A row as a record; a row that does not parse is corrupt (not a transient failure)."""
    position, function_id, digest, status, codec, payload, error = row
    try:
        info = None
        if error is not None:
            data = json.loads(error)
            type_name, message, trace = data["type"], data["message"], data["traceback"]
            if not all(isinstance(t, str) for t in (type_name, message, trace)):
                raise TypeError("the error column's type, message and traceback must be text")
            pickled = None if data["pickled"] is None else base64.b64decode(data["pickled"])
            info = ErrorInfo(type_name, message, trace, pickled)
        return CallRecord(
            str(position),
            str(function_id),
            str(digest),
            CallStatus(status),
            str(codec),
            None if payload is None else bytes(payload),
            info,
        )
    except (ValueError, TypeError, KeyError) as e:
        raise ActionStateStoreError(
            f"the record of call {position} of action '{action}' in the action-state store "
            f"{address} is corrupt: {type(e).__name__}: {e}. The job fails rather than guess the "
            "call's outcome; delete the row (the call is then made again) or restore it, and "
            "restart from the last checkpoint",
            store=address,
        ) from None


def sqlite_store(url: str, busy_timeout_ms: int = 5000) -> SqlActionStateStore:
    """A store in the SQLite file of ``sqlite:////<absolute path>`` (created with its table).

    ``busy_timeout_ms``: how long one attempt waits for a lock another process holds."""
    path = sqlite_path(url)
    if not path.is_absolute():
        raise ConfigError(
            f"action-state.store {url!r} needs an absolute path: sqlite:////<absolute path>",
            key="action-state.store",
            value=url,
        )
    path.parent.mkdir(parents=True, exist_ok=True)

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(
            str(path),
            timeout=busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        # WAL lets readers and the writer of several processes (TaskManagers on one host) work
        # together; synchronous=FULL makes each commit survive a power loss, not just a crash.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    return SqlActionStateStore(_SQLITE, connect, url)


def postgres_store(url: str) -> SqlActionStateStore:
    """A store in the PostgreSQL database of ``postgresql://user:password@host:port/db``."""
    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            "action-state.store is a PostgreSQL address but the psycopg package is not installed; "
            "pip install 'flink-agents-ctx[postgres]'",
            key="action-state.store",
            value=redact_url(url),
        ) from None
    dsn = "postgresql" + url[url.index(":") :]  # psycopg does not know the "postgres:" alias

    def connect() -> Any:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=10)

    return SqlActionStateStore(_POSTGRES, connect, redact_url(url), url_secrets(url))
