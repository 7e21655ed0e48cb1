"""What ``flink-agents-ctx run`` tells the job script it starts, through environment variables.

``run`` gives each run a directory (checkpoints, progress files, outputs, the job's log) and may ask
for a restore. ``AgentsExecutionEnvironment`` applies these settings where the job did not set its
own, and the agent operator writes its progress there. A job started any other way (``python
job.py``, ``flink run -py``) finds no settings and runs exactly as it is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

RUN_DIR_ENV = "FLINK_AGENTS_CTX_RUN_DIR"
CHECKPOINT_INTERVAL_ENV = "FLINK_AGENTS_CTX_CHECKPOINT_INTERVAL"
RESTORE_ENV = "FLINK_AGENTS_CTX_RESTORE"
DEFAULT_CHECKPOINT_INTERVAL = "2 s"


@dataclass(frozen=True)
class RunSettings:
    """One ``run``: its directory, the checkpoint interval asked for on the command line (it
    replaces the job's own), and the checkpoint or savepoint to start from (if any)."""

    run_dir: Path
    # Given, it replaces the job's own interval; None: the job's, else the default.
    checkpoint_interval: str | None = None
    restore: str | None = None

    @property
    def checkpoints(self) -> Path:
        return self.run_dir / "checkpoints"

    @property
    def progress(self) -> Path:
        """Each agent operator instance keeps one JSON file of its counts here."""
        return self.run_dir / "progress"

    @property
    def outputs(self) -> Path:
        return self.run_dir / "outputs"

    @property
    def log(self) -> Path:
        """The job script's standard error (Python's warnings and tracebacks)."""
        return self.run_dir / "job.log"

    def environ(self) -> dict[str, str]:
        """The variables that hand these settings to the job's process."""
        env = {RUN_DIR_ENV: str(self.run_dir)}
        if self.checkpoint_interval:
            env[CHECKPOINT_INTERVAL_ENV] = self.checkpoint_interval
        if self.restore:
            env[RESTORE_ENV] = self.restore
        return env

    @staticmethod
    def from_environ(environ: Mapping[str, str] | None = None) -> RunSettings | None:
        """The settings of the ``run`` that started this process, or ``None``."""
        environ = os.environ if environ is None else environ
        run_dir = environ.get(RUN_DIR_ENV)
        if not run_dir:
            return None
        return RunSettings(
            Path(run_dir),
            environ.get(CHECKPOINT_INTERVAL_ENV) or None,
            environ.get(RESTORE_ENV) or None,
        )


def output_dir(name: str) -> Path:
    """Where a job's outputs go by default: the run's ``outputs`` directory under
    ``flink-agents-ctx run``, else ``output/<name>`` under the working directory."""
    settings = RunSettings.from_environ()
    return (settings.outputs if settings else Path("output") / name).absolute()
