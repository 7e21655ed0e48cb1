"""docker-compose.yml and docker/Dockerfile, checked without a Docker engine."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from flink_agents_ctx.cli.local_cluster import DEPLOYMENT_KEYS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="needs Debian's docker-compose")
def test_the_compose_file_validates_without_an_engine() -> None:
    done = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def flink_properties() -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    text = compose["x-flink-properties"]["FLINK_PROPERTIES"]
    return dict(line.split(": ", 1) for line in text.strip().splitlines())


def test_compose_sets_what_the_local_cluster_sets_and_exports_metrics() -> None:
    props = flink_properties()
    assert set(DEPLOYMENT_KEYS) <= set(props)
    assert props["python.executable"] == "/opt/flink-agents/bin/python"
    assert props["metrics.reporter.prom.factory.class"].endswith("PrometheusReporterFactory")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert set(compose["services"]) == {"jobmanager", "taskmanager", "qdrant", "postgres"}


def test_the_image_is_the_pinned_flink_with_only_this_package() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    pinned = re.search(r'"apache-flink==([\d.]+)"', (ROOT / "pyproject.toml").read_text())
    assert pinned is not None
    assert re.search(rf"^FROM flink:{re.escape(pinned.group(1))}-java17$", dockerfile, re.M)
    installs = re.findall(r"pip install[^\n]*", dockerfile)
    assert installs == [
        "pip install --no-cache-dir /tmp/wheels/flink_agents_ctx-*.whl'[postgres]' \\"
    ]
    assert "cp /opt/flink/opt/flink-python-*.jar /opt/flink/lib/" in dockerfile
