"""Action-state store adapters, chosen by the address in ``action-state.store``."""

from __future__ import annotations

from flink_agents_ctx.config import redact_url, url_secrets
from flink_agents_ctx.durable.wal import ActionStateStore, InMemoryActionStateStore, with_retries
from flink_agents_ctx.errors import ConfigError


def open_store(url: str, attempts: int = 5) -> ActionStateStore:
    """The store at ``url`` (``sqlite:///path``, ``postgresql://...``, ``memory://name``), opened
    and with its table created; retries a store that is not reachable yet."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "memory":
        return InMemoryActionStateStore(url.split("://", 1)[-1] or "default")
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise ConfigError(
            f"action-state.store {redact_url(url)!r} has an unknown scheme; use sqlite:///<path> "
            "or postgresql://...",
            key="action-state.store",
            value=redact_url(url),
        )
    from flink_agents_ctx.stores.sql import postgres_store, sqlite_store

    opener = sqlite_store if scheme == "sqlite" else postgres_store
    secrets = url_secrets(url)
    return with_retries(redact_url(url), "open the store", attempts, lambda: opener(url), secrets)


__all__ = ["open_store"]
