"""Shared fixtures: fresh call counters for durable tests, and a PostgreSQL server for the store
tests (started once per test session)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import postgres
from tests.support.durable_agents import CALLS, Gate


@pytest.fixture
def fresh_calls() -> Iterator[None]:
    """Zero the call counters and close the gate; release workers a test left waiting."""
    CALLS.clear()
    Gate.reset()
    yield
    Gate.event.set()


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
