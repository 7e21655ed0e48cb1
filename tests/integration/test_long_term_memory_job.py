"""Long-term memory in a mini-cluster job: an async action writes and searches it while other keys
run, and a failure with a restore leaves each memory exactly once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.integration.flink_runner import read_lines, run_job

pytestmark = [pytest.mark.flink, pytest.mark.timeout(240)]


@pytest.mark.slow
def test_memories_written_from_an_async_action_survive_a_restore_exactly_once(
    tmp_path: Path,
) -> None:
    n = 200
    qdrant_dir = tmp_path / "qdrant"
    marker = tmp_path / "failed.marker"
    run_job(
        "ltm_job.py",
        str(tmp_path / "out"),
        str(tmp_path / "checkpoints"),
        str(n),
        str(qdrant_dir),
        str(marker),
        "--fail-at",
        "120",
        timeout_s=200,
    )
    assert marker.exists(), "the failure was not injected"
    lines = sorted(read_lines(tmp_path / "out"), key=lambda s: int(s.split(":")[0]))
    assert lines == [f"{i}:True" for i in range(n)]

    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(qdrant_dir))  # the job's process has ended
    try:
        points, _ = client.scroll("flink_agents_memory", limit=10 * n, with_payload=True)
    finally:
        client.close()
    texts = Counter(p.payload["text"] for p in points)
    assert sorted(texts) == sorted(f"fact {i} about device {i % 5}" for i in range(n))
    assert max(texts.values()) == 1
    by_key = Counter(p.payload["_key"] for p in points)
    assert sorted(by_key.values()) == [n // 5] * 5
