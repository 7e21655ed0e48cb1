"""A throwaway PostgreSQL server on 127.0.0.1 for tests (Debian's postgresql package).

The server runs as the ``postgres`` system user when the tests run as root (PostgreSQL refuses to
run as root), in its own data directory, with password authentication so that the store's address
carries a password as it would in production. ``stop()`` shuts it down immediately and removes it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PASSWORD = "agent-pw-7c1e"


@dataclass
class PostgresServer:
    url: str
    data_dir: Path
    _pg_ctl: str
    _as_postgres: list[str]

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            subprocess.run(
                [
                    *self._as_postgres,
                    self._pg_ctl,
                    "-D",
                    str(self.data_dir),
                    "-m",
                    "immediate",
                    "stop",
                ],
                capture_output=True,
                timeout=30,
            )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def find_binary(name: str) -> str | None:
    """``name`` from the newest /usr/lib/postgresql/<version>/bin, else from PATH."""
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version)
    return versions[-1] if versions else shutil.which(name)


def _version(path: str) -> int:
    part = path.split("/")[4]
    return int(part) if part.isdigit() else 0


def unavailable_reason() -> str | None:
    """Why no server can be started here, or ``None``."""
    for name in ("initdb", "pg_ctl"):
        if find_binary(name) is None:
            return f"PostgreSQL's {name} is not installed (Debian: apt-get install postgresql)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root and runuser is missing to start PostgreSQL as another user"
    return None


def start() -> PostgresServer:
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError(unavailable_reason() or "PostgreSQL is not installed")
    base = Path(tempfile.mkdtemp(prefix="flink-agents-pg-"))
    data, password_file = base / "data", base / "password"
    password_file.write_text(PASSWORD + "\n")
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(password_file, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*cmd: str) -> None:
        done = subprocess.run([*as_postgres, *cmd], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")

    run(initdb, "-D", str(data), "-U", "agent", "--auth=scram-sha-256", f"--pwfile={password_file}")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base}"
    run(pg_ctl, "-D", str(data), "-l", str(base / "server.log"), "-o", options, "-w", "start")
    url = f"postgresql://agent:{PASSWORD}@127.0.0.1:{port}/postgres"
    return PostgresServer(url, data, pg_ctl, as_postgres)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
