"""The write-ahead store's retention: derived from the job's checkpointing unless configured."""

from __future__ import annotations

import pytest

from flink_agents_ctx.action_state.pruning import default_retention_s


@pytest.mark.parametrize(
    ("interval_s", "retained", "timeout_s", "expected_s"),
    [
        # No checkpointing known (the harness): the floor of 15 minutes.
        (None, None, None, 15 * 60),
        # 1 s checkpoints, Flink's default 10 min timeout: one interval + timeout + 5 min.
        (1.0, None, None, 1 + 600 + 300),
        # Three retained 10-minute checkpoints with a 1-minute timeout: 30 + 1 + 5 minutes.
        (600.0, 3, 60.0, 1800 + 60 + 300),
        # Fast checkpoints with a short timeout still keep the 15-minute floor.
        (0.5, 1, 10.0, 15 * 60),
    ],
)
def test_default_retention_covers_the_oldest_retained_checkpoint(
    interval_s: float | None, retained: int | None, timeout_s: float | None, expected_s: float
) -> None:
    assert default_retention_s(interval_s, retained, timeout_s) == expected_s
