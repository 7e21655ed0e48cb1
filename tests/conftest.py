"""Shared fixtures: a PostgreSQL server for the store tests, started once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import postgres


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    reason = postgres.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    server = postgres.start()
    try:
        yield server.url
    finally:
        server.stop()
