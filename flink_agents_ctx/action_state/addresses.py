"""Store addresses: the schemes the action-state store knows, and keeping passwords out of logs.

===============================  =================================================================
address                          store
===============================  =================================================================
``sqlite:////abs/path/file.db``  SQLite file (four slashes: ``sqlite:///`` and an absolute path)
``postgresql://u:p@h:port/db``   PostgreSQL (also ``postgres://``); needs the ``postgres`` extra
===============================  =================================================================

A store instance (for example the in-memory fake of :mod:`flink_agents_ctx.testing`) can also be
handed to the test harness directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

SCHEMES = ("sqlite", "postgresql", "postgres")
_SECRET_PARAMS = ("password", "passwd", "pwd", "sslpassword")
_SQLITE_PREFIX = "sqlite:///"


def scheme_of(address: str) -> str:
    return address.split(":", 1)[0].lower() if ":" in address else ""


def address_problem(address: str) -> str | None:
    """What is wrong with a store address, or ``None`` when it is usable."""
    scheme = scheme_of(address)
    if scheme not in SCHEMES:
        return "use sqlite:////<absolute path> or postgresql://user:password@host:port/database"
    if scheme == "sqlite":
        if not address.startswith(_SQLITE_PREFIX):
            return "a SQLite store is sqlite:////<absolute path> (sqlite:/// then the path)"
        path = unquote(address[len(_SQLITE_PREFIX) :].split("?", 1)[0])
        if not path.startswith("/"):
            return (
                f"the path {path!r} is not absolute; write sqlite:////<absolute path> (four "
                f"slashes), for example sqlite:////var/lib/flink-agents/{Path(path).name or 'x.db'}"
            )
    return None


def sqlite_path(address: str) -> Path:
    """The file of a ``sqlite:////<absolute path>`` address (checked by :func:`address_problem`)."""
    return Path(unquote(address[len(_SQLITE_PREFIX) :].split("?", 1)[0]))


def redact_url(url: Any) -> str:
    """``url`` with its password (in the user part or a ``password=`` parameter) replaced by
    ``***`` (for logs and errors)."""
    text = str(url)
    try:
        parts = urlsplit(text)
        netloc = parts.netloc
        if parts.password is not None:
            host = parts.hostname or ""
            if parts.port is not None:
                host = f"{host}:{parts.port}"
            netloc = f"{parts.username or ''}:***@{host}"
        query = "&".join(
            f"{name}=***" if name.lower() in _SECRET_PARAMS else pair
            for pair in parts.query.split("&")
            if pair
            for name in [pair.split("=", 1)[0]]
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "<an address that does not parse>"


def url_secrets(url: str) -> list[str]:
    """Every form of the password in ``url`` (as written and decoded), to scrub from messages."""
    found: list[str] = []
    try:
        parts = urlsplit(url)
        raw = [parts.netloc.rpartition("@")[0].partition(":")[2]] if "@" in parts.netloc else []
        for pair in parts.query.split("&"):
            name, _, value = pair.partition("=")
            if name.lower() in _SECRET_PARAMS:
                raw.append(value)
        for value in raw:
            if value:
                found.extend({value, unquote(value)})
    except ValueError:
        pass
    return found


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
