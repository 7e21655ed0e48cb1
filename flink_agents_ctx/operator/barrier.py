"""The agent operator's hook before every checkpoint barrier (thread mode).

In thread mode the agent runs in ``flinkagentsctx.operator.AgentKeyedProcessOperator`` (in the
bridge jar), PyFlink's embedded keyed process operator plus one call: before each checkpoint or
savepoint barrier it calls :func:`before_snapshot` on the task thread, between two records. That is
where the agent function writes what it holds back (committed short-term memory writes) to keyed
state, so that every snapshot has them.

How an operator finds its function: the function's ``open`` runs on the task thread inside the
operator's ``open`` and offers its hook (:func:`offer`); right after it, the operator claims what
was offered on that thread with a token of its own (:func:`claim`) and names the token on every
barrier and when it closes (:func:`release`). A function nobody claims (process mode, or PyFlink's
own operator) never holds writes back.
"""

from __future__ import annotations

import logging
from threading import get_ident
from typing import Protocol

_log = logging.getLogger(__name__)


class BarrierHook(Protocol):
    """What an agent function offers to its operator."""

    def attach(self) -> None:
        """The operator will call :meth:`before_snapshot` before every barrier (from now on
        writes may be held back until then)."""

    def before_snapshot(self) -> None:
        """A barrier is next: write everything held back to keyed state."""


_offered: dict[int, BarrierHook] = {}  # by task thread: at most one agent function per chain
_claimed: dict[str, BarrierHook] = {}


def offer(hook: BarrierHook) -> None:
    """Called by the agent function's ``open`` (on the task thread)."""
    _offered[get_ident()] = hook


def claim(token: str) -> bool:
    """Called by the operator right after the function opened: attach what was offered on this
    thread. Returns whether there was anything (a chain without an agent function offers
    nothing)."""
    hook = _offered.pop(get_ident(), None)
    if hook is None:
        return False
    hook.attach()
    _claimed[token] = hook
    return True


def before_snapshot(token: str) -> None:
    """Called by the operator before every checkpoint barrier."""
    hook = _claimed.get(token)
    if hook is not None:
        hook.before_snapshot()


def release(token: str) -> None:
    """Called by the operator when it closes."""
    _claimed.pop(token, None)
