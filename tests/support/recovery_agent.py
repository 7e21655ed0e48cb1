"""The agent of the mini-cluster recovery tests.

Input n (key n % 5): await ``work(n)`` (20 ms, returns 10 n), keep a per-key count and total in
short-term memory, emit "n:10n:count:total". For the input ``test.fail-at`` the action also awaits
``hold_until_checkpoint``: on the first attempt it waits until a checkpoint completes while the action
is parked (so the checkpoint holds the journal with ``work`` finished), then the action fails once
(a marker file says whether it did already); after the restore ``hold_until_checkpoint`` returns at
once, or is answered by the write-ahead store. Every real call of ``work`` appends
"work n idempotency-key unix-time" to ``test.call-log``.
"""

from __future__ import annotations

import glob
import os
import time

from flink_agents_ctx import Agent, InputEvent, OutputEvent, RunnerContext, action, current_call


def _log(path: str, line: str) -> None:
    with open(path, "a") as f:
        f.write(line + "\n")


def work(n: int, log: str) -> int:
    time.sleep(0.02)
    _log(log, f"work {n} {current_call().idempotency_key} {time.time():.3f}")
    return n * 10


def _completed_checkpoints(checkpoint_dir: str) -> set[int]:
    # Flink writes chk-<id>/_metadata when checkpoint <id> completes.
    pattern = os.path.join(checkpoint_dir, "*", "chk-*", "_metadata")
    return {int(p.split(os.sep)[-2][4:]) for p in glob.glob(pattern)}


def hold_until_checkpoint(marker: str, checkpoint_dir: str, log: str) -> str:
    if os.path.exists(marker):
        return "go on"
    with open(marker, "w") as f:
        f.write("held once\n")
    # Wait for a checkpoint triggered after this call started: its barrier reaches the agent after
    # the action's first call was recorded, so the restore must not make that call again.
    # Checkpoints run one at a time, so the second one to complete after the last one completed
    # now was triggered after this moment (the first may already have been under way).
    wanted = max(_completed_checkpoints(checkpoint_dir), default=0) + 2
    deadline = time.monotonic() + 60
    while not (later := [i for i in _completed_checkpoints(checkpoint_dir) if i >= wanted]):
        if time.monotonic() > deadline:
            raise TimeoutError("no checkpoint completed while the action was parked")
        time.sleep(0.05)
    time.sleep(0.5)  # let the JobManager register the checkpoint as completed
    _log(log, f"held until checkpoint {min(later)}")
    return "held"


class RecoveryAgent(Agent):
    @action(InputEvent)
    @staticmethod
    async def handle(event: InputEvent, ctx: RunnerContext) -> None:
        n = event.input
        log = ctx.config.get_str("test.call-log") or os.devnull
        value = await ctx.durable_execute_async(work, n, log)
        if n == ctx.config.get_int("test.fail-at"):
            marker = ctx.config.get_str("test.marker") or ""
            checkpoints = ctx.config.get_str("test.checkpoint-dir") or ""
            await ctx.durable_execute_async(hold_until_checkpoint, marker, checkpoints, log)
            # Not a durable call on purpose: whether the failure happened already is a fact of
            # this test run, not a result to replay.
            if not os.path.exists(marker + ".failed"):
                open(marker + ".failed", "w").close()
                if ctx.config.get_raw("test.crash"):
                    os._exit(17)  # the process dies on the spot, as a killed TaskManager would
                raise RuntimeError(f"injected failure at input {n}")
        memory = ctx.short_term_memory
        count = (memory.get("count") or 0) + 1
        total = (memory.get("total") or 0) + value
        memory.set("count", count)
        memory.set("total", total)
        ctx.send_event(OutputEvent(output=f"{n}:{value}:{count}:{total}"))


def expected_lines(n_inputs: int, keys: int = 5) -> list[str]:
    lines = []
    for n in range(n_inputs):
        same_key = range(n % keys, n + 1, keys)
        lines.append(f"{n}:{n * 10}:{len(same_key)}:{sum(10 * m for m in same_key)}")
    return lines
