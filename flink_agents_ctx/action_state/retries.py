"""Store operations with retries: transient failures are retried, then the job fails."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from flink_agents_ctx.action_state.addresses import scrub
from flink_agents_ctx.errors import ActionStateStoreError, ConfigError

_log = logging.getLogger(__name__)
T = TypeVar("T")


def with_retries(
    address: str, what: str, attempts: int, op: Callable[[], T], secrets: list[str] | None = None
) -> T:
    """Run ``op``, retrying transient failures with backoff from 50 ms; after ``attempts`` raise
    :class:`ActionStateStoreError` (the job fails; durability is never switched off silently).
    An ``ActionStateStoreError`` from ``op`` itself (a corrupt row) is not retried."""
    delay = 0.05
    for attempt in range(1, attempts + 1):
        try:
            return op()
        except (ActionStateStoreError, ConfigError):
            raise
        except Exception as e:
            if attempt == attempts:
                detail = scrub(str(e), secrets or [])
                raise ActionStateStoreError(
                    f"could not {what} in the action-state store {address} after {attempts} "
                    f"attempt(s): {type(e).__name__}: {detail}. The job fails so that no call runs "
                    "without its record; check that the store is reachable and writable, then "
                    "restart from the last checkpoint",
                    store=address,
                ) from None
            _log.warning(
                "action-state store %s: %s failed (%s), attempt %d of %d; retrying in %.0f ms",
                address,
                what,
                type(e).__name__,
                attempt,
                attempts,
                delay * 1000,
            )
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")  # pragma: no cover
