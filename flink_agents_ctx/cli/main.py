"""``flink-agents-ctx``: run an agent job on the local mini-cluster with live progress, check the
machine, run a local standalone cluster, submit agent jobs to it (or to any cluster's REST
address), list them, take savepoints, stop and restore them.

Every command has ``--help``. Errors print one line that says what to do and exit with 2 (1 when
``doctor`` finds a failed check, or when the job of ``run`` or ``submit --wait`` fails);
``--debug`` shows the stack trace.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from flink_agents_ctx.cli.doctor import report, run_checks
from flink_agents_ctx.cli.local_cluster import (
    DEFAULT_DIR,
    ClusterError,
    LocalCluster,
    run_flink_client,
)
from flink_agents_ctx.cli.rest import FlinkRest
from flink_agents_ctx.cli.run import last_exception, run_job, summary
from flink_agents_ctx.errors import FlinkAgentsError
from flink_agents_ctx.run_settings import DEFAULT_CHECKPOINT_INTERVAL, RunSettings


class UsageError(FlinkAgentsError):
    """The command line asks for something that cannot be done (a missing file, say)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flink-agents-ctx",
        description="Run and manage flink_agents_ctx agent jobs.",
    )
    parser.add_argument("--debug", action="store_true", help="show stack traces of errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run_cmd = commands.add_parser(
        "run",
        help="run JOB.py on the local mini-cluster with checkpoints and a live progress line",
        usage="flink-agents-ctx run [--run-dir DIR] [--checkpoint-interval DURATION] "
        "[--restore PATH] JOB.py [job arguments...]",
        description="Run a job script on the local mini-cluster. Options of this command go "
        "before JOB.py; everything after it goes to the job. Its agent operators checkpoint "
        "into the run's directory; a progress line shows records in and out, actions/s, durable "
        "calls and waiting keys; a summary at the end says where the outputs and the last "
        "checkpoint are.",
    )
    run_cmd.add_argument("job", type=Path, help="the job script")
    run_cmd.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the job script")
    run_cmd.add_argument(
        "--run-dir",
        type=Path,
        help="directory for the run's checkpoints, outputs, progress and log "
        "(default runs/<job>-<date>-<time>)",
    )
    run_cmd.add_argument(
        "--checkpoint-interval",
        help="how often to checkpoint, as Flink writes durations ('500 ms', '10 s'); given, it "
        "replaces the job's own interval (default: the job's, else "
        f"{DEFAULT_CHECKPOINT_INTERVAL!r})",
    )
    run_cmd.add_argument(
        "--restore", help="start from this checkpoint (chk-N directory) or savepoint"
    )

    doctor = commands.add_parser(
        "doctor", help="check Java, pemja, jars, the Java bridge, Qdrant and the store"
    )
    doctor.add_argument("--qdrant-location", default=":memory:", help="long-term memory location")
    doctor.add_argument("--store", help="an action-state.store address to try")

    cluster = commands.add_parser("cluster", help="a local standalone session cluster (loopback)")
    cluster.add_argument("action", choices=("start", "stop", "status"))
    cluster.add_argument(
        "--dir", type=Path, default=DEFAULT_DIR, help=f"its files (default {DEFAULT_DIR})"
    )

    def with_cluster(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--cluster",
            help="REST address of the cluster (default: the local cluster started with "
            "'cluster start')",
        )
        sub.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the local cluster's files")

    submit = commands.add_parser("submit", help="submit JOB.py to a cluster (flink run -py)")
    submit.add_argument("job", type=Path, help="the job script")
    submit.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the job script")
    submit.add_argument("--wait", action="store_true", help="wait for the job to end")
    with_cluster(submit)

    restore = commands.add_parser(
        "restore", help="submit JOB.py starting from a savepoint or retained checkpoint"
    )
    restore.add_argument("path", help="the savepoint or checkpoint directory")
    restore.add_argument("job", type=Path, help="the job script")
    restore.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the job script")
    restore.add_argument("--wait", action="store_true", help="wait for the job to end")
    with_cluster(restore)

    jobs = commands.add_parser("jobs", help="list the cluster's jobs")
    with_cluster(jobs)

    savepoint = commands.add_parser("savepoint", help="take a savepoint of a running job")
    savepoint.add_argument("job_id")
    savepoint.add_argument("target", help="directory for the savepoint (a path or file:// URI)")
    with_cluster(savepoint)

    stop = commands.add_parser("stop", help="stop a job with a savepoint")
    stop.add_argument("job_id")
    stop.add_argument("target", help="directory for the savepoint (a path or file:// URI)")
    with_cluster(stop)
    return parser


def _rest(args: argparse.Namespace) -> str:
    return str(args.cluster) if args.cluster else LocalCluster(args.dir).rest_url()


def _target(target: str) -> str:
    return target if "://" in target else Path(target).resolve().as_uri()


def _job_script(job: Path) -> Path:
    if not job.is_file():
        raise UsageError(f"job script {job} does not exist")
    return job


def _state_path(path: str) -> str:
    """A checkpoint or savepoint to start from: a URI as given, a local path made absolute."""
    if "://" in path:
        return path
    if not Path(path).exists():
        raise UsageError(
            f"checkpoint or savepoint {path} does not exist; give a retained chk-N directory (a "
            "run's summary prints its last one) or the savepoint directory printed by "
            "'flink-agents-ctx stop'"
        )
    return str(Path(path).resolve())


def _submit(args: argparse.Namespace, savepoint: str | None) -> int:
    job = _job_script(args.job)
    rest = _rest(args)
    FlinkRest(rest).overview()  # a clear error when the cluster is not there
    before = {j["jid"] for j in FlinkRest(rest).jobs()}
    done = run_flink_client(rest, job.resolve(), list(args.args), savepoint, detached=True)
    if done.returncode != 0:
        lines = f"{done.stdout}\n{done.stderr}".strip().splitlines()
        if getattr(args, "debug", False):
            raise UsageError(f"submitting {job} failed:\n" + "\n".join(lines[-60:]))
        error = last_exception(lines) or (lines[-1] if lines else "no output")
        raise UsageError(
            f"submitting {job} failed: {error} (--debug shows the client's whole output)"
        )
    new = [j for j in FlinkRest(rest).jobs() if j["jid"] not in before]
    for j in new:
        print(f"submitted {j['jid']} {j['name']} ({j['state']}) to {rest}")
    if not new:
        print(done.stdout.strip())
    if getattr(args, "wait", False):
        for j in new:
            state = _wait(FlinkRest(rest), j["jid"])
            print(f"job {j['jid']} ended: {state}")
            if state != "FINISHED":
                return 1
    return 0


def _wait(rest: FlinkRest, job_id: str, timeout_s: float = 3600) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = str(rest.job(job_id)["state"])
        if state in ("FINISHED", "FAILED", "CANCELED"):
            return state
        time.sleep(0.5)
    raise UsageError(f"job {job_id} did not end within {timeout_s:.0f} s")


def _run(args: argparse.Namespace) -> int:
    job = _job_script(args.job)
    restore = _state_path(args.restore) if args.restore else None
    run_dir = args.run_dir or Path("runs") / f"{job.stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    settings = RunSettings(run_dir.resolve(), args.checkpoint_interval, restore)
    print(f"running {job} on the local mini-cluster; files in {settings.run_dir}", flush=True)
    result = run_job(job.resolve(), list(args.args), settings)
    command = " ".join(shlex.quote(a) for a in [str(job), *args.args])
    print(summary(result, debug=args.debug, command=command))
    return 0 if result.exit_code == 0 else 1


def run(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    if args.command == "run":
        return _run(args)
    if args.command == "doctor":
        text, healthy = report(run_checks(args.qdrant_location, args.store))
        print(text)
        return 0 if healthy else 1
    if args.command == "cluster":
        cluster = LocalCluster(args.dir)
        if args.action == "start":
            rest = cluster.start()
            print(f"local cluster running: REST and web UI at {rest} (files in {args.dir})")
            for url in cluster.prometheus_urls():
                print(f"  Prometheus metrics: {url}")
        elif args.action == "stop":
            cluster.stop()
            print("local cluster stopped")
        else:
            if not cluster.running():
                print(f"no local cluster runs from {args.dir}")
                return 1
            overview = FlinkRest(cluster.rest_url()).overview() or {}
            print(
                f"local cluster at {cluster.rest_url()}: {overview.get('taskmanagers')} "
                f"TaskManager(s), {overview.get('slots-available')}/{overview.get('slots-total')} "
                f"slots free, {overview.get('jobs-running')} job(s) running"
            )
            for url in cluster.prometheus_urls():
                print(f"  Prometheus metrics: {url}")
        return 0
    if args.command == "submit":
        return _submit(args, None)
    if args.command == "restore":
        return _submit(args, _state_path(args.path))
    if args.command == "jobs":
        for j in FlinkRest(_rest(args)).jobs():
            print(f"{j['jid']}  {j['state']:10s}  {j['name']}")
        return 0
    if args.command in ("savepoint", "stop"):
        location = FlinkRest(_rest(args)).savepoint(
            args.job_id, _target(args.target), stop=args.command == "stop"
        )
        print(f"savepoint {location}")
        return 0
    raise UsageError(f"unknown command {args.command}")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return run(argv)
    except (FlinkAgentsError, ClusterError, OSError) as e:
        if "--debug" in argv:
            raise
        print(f"flink-agents-ctx: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
