"""A small client of Flink's REST API (the JobManager's web port), with the standard library.

Savepoints go through the REST API: PyFlink 2.3.0's ``JobClient.stop_with_savepoint`` fails on
the changed Java signature, and the REST calls work on any Flink version.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from flink_agents_ctx.errors import FlinkAgentsError


class RestError(FlinkAgentsError):
    """The Flink REST API could not be reached or refused a request."""


class FlinkRest:
    """Calls to one cluster's REST address (``http://host:port``)."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._timeout_s = timeout_s

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            detail = e.read()[:500].decode("utf-8", "replace")
            raise RestError(
                f"Flink at {self.url} answered {method} {path} with {e.code}: {detail}"
            ) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise RestError(
                f"cannot reach Flink's REST API at {self.url} ({reason}); is the cluster running? "
                "('flink-agents-ctx cluster status', or pass --cluster http://host:port)"
            ) from None
        return json.loads(raw) if raw else None

    def overview(self, quiet: bool = False) -> dict[str, Any] | None:
        """The cluster overview (``taskmanagers``, ``slots-total``...), or ``None`` when quiet and
        unreachable."""
        try:
            answer: dict[str, Any] = self._call("GET", "/overview")
            return answer
        except RestError:
            if quiet:
                return None
            raise

    def jobs(self) -> list[dict[str, Any]]:
        """Every job the cluster knows: ``jid``, ``name``, ``state``, ``start-time``..."""
        return list(self._call("GET", "/jobs/overview").get("jobs", []))

    def job(self, job_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("GET", f"/jobs/{job_id}")
        return answer

    def failures(self, job_id: str) -> list[str]:
        """The job's failures so far (restarts included), as their exception names."""
        history = self._call("GET", f"/jobs/{job_id}/exceptions").get("exceptionHistory", {})
        return [str(e.get("exceptionName")) for e in history.get("entries", [])]

    def savepoint(
        self, job_id: str, target: str, stop: bool = False, timeout_s: float = 120
    ) -> str:
        """Take a savepoint into ``target`` (a directory URI or path), stopping the job when
        ``stop``; returns the savepoint's location."""
        body: dict[str, Any] = {"targetDirectory": target, "formatType": "CANONICAL"}
        if stop:
            body["drain"] = False
            trigger = self._call("POST", f"/jobs/{job_id}/stop", body)
        else:
            body["cancel-job"] = False
            trigger = self._call("POST", f"/jobs/{job_id}/savepoints", body)
        request_id = trigger["request-id"]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = self._call("GET", f"/jobs/{job_id}/savepoints/{request_id}")
            if status["status"]["id"] == "COMPLETED":
                operation = status.get("operation") or {}
                if "location" in operation:
                    return str(operation["location"])
                cause = operation.get("failure-cause", {}).get("stack-trace", str(operation))
                raise RestError(f"the savepoint of job {job_id} failed: {str(cause)[:1500]}")
            time.sleep(0.3)
        raise RestError(f"the savepoint of job {job_id} did not finish within {timeout_s:.0f} s")
