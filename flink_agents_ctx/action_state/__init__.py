"""The action-state store: durable call records committed outside Flink, before an action goes on.

- ``addresses``: the store addresses and schemes, and keeping passwords out of messages.
- ``options``: its configuration options.
- ``port``: :class:`ActionStateStore`, what a store adapter implements.
- ``journal``: the store journal, a second implementation of the call-journal port.
- ``retries``: store operations with retries, then a typed failure.
- ``sql``: the SQLite and PostgreSQL adapters (one schema).
- ``pruning``: the retention rule, run in the background.

The in-memory fake store is in :mod:`flink_agents_ctx.testing`.
"""

from __future__ import annotations

from flink_agents_ctx.action_state.addresses import redact_url, scheme_of, url_secrets
from flink_agents_ctx.action_state.port import ActionStateStore
from flink_agents_ctx.action_state.retries import with_retries
from flink_agents_ctx.errors import ConfigError


def open_store(url: str, attempts: int = 5, sqlite_busy_timeout_ms: int = 5000) -> ActionStateStore:
    """The store at ``url`` (``sqlite:////path`` or ``postgresql://...``), opened and with its
    table created; retries a store that is not reachable yet."""
    scheme = scheme_of(url)
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise ConfigError(
            f"action-state.store {redact_url(url)!r} has an unknown scheme; use "
            "sqlite:////<absolute path> or postgresql://...",
            key="action-state.store",
            value=redact_url(url),
        )
    from flink_agents_ctx.action_state.sql import postgres_store, sqlite_store

    def opener() -> ActionStateStore:
        if scheme == "sqlite":
            return sqlite_store(url, sqlite_busy_timeout_ms)
        return postgres_store(url)

    return with_retries(redact_url(url), "open the store", attempts, opener, url_secrets(url))


__all__ = ["ActionStateStore", "open_store"]
