"""The mailbox-thread rule: agent state is touched only by the thread driving the operator.

Flink runs an operator's user code on one task ("mailbox") thread, and keyed state is scoped to the
key that thread is processing. A worker thread touching memory would read or write another key's
state, so every memory, event, resource and journal operation checks the caller's thread first.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar, Token
from typing import Any

from flink_agents_ctx.errors import DurableScopeError, MailboxThreadError

# Set while a durable call (or its reconciler) runs, on whichever thread runs it: what the call
# knows about itself (its ``function_id`` names it in errors).
_durable_call: ContextVar[Any] = ContextVar("flink_agents_durable_call", default=None)


def enter_durable_scope(call: Any) -> Token[Any]:
    """Mark the calling thread as running the durable call ``call`` (an object whose
    ``function_id`` names the call, or that name itself); returns the token for
    :func:`exit_durable_scope`."""
    return _durable_call.set(call)


def exit_durable_scope(token: Token[Any]) -> None:
    _durable_call.reset(token)


current_durable_call = _durable_call.get
"""What the durable call the calling thread runs gave :func:`enter_durable_scope`, or ``None``."""


class Mailbox:
    """Remembers the thread currently driving the operator and rejects calls from other threads.

    The hottest callers (memory operations) test the common case inline and call :meth:`check`
    only when it fails::

        if get_ident() != mailbox.thread_id or current_durable_call() is not None:
            mailbox.check("memory get")  # raises
    """

    __slots__ = ("thread_id",)

    def __init__(self) -> None:
        self.thread_id: int | None = None

    def enter(self) -> None:
        """Mark the calling thread as the mailbox thread (called at each operator entry point)."""
        self.thread_id = threading.get_ident()

    def check(self, operation: str) -> None:
        """Raise :class:`MailboxThreadError` unless called from the mailbox thread, and
        :class:`DurableScopeError` inside a durable call."""
        if threading.get_ident() == self.thread_id and _durable_call.get() is None:
            return  # called on every memory operation: the common case first
        call = _durable_call.get()
        if call is not None:
            name = getattr(call, "function_id", call)
            raise DurableScopeError(
                f"{operation} was used inside the durable call {name}; a durable call's outcome "
                "is recorded and replayed without running it again, so it may only compute and "
                "return a value. Return what you need and use memory, events and resources in the "
                "action",
                operation=operation,
            )
        if threading.get_ident() != self.thread_id:
            name = threading.current_thread().name
            mailbox = next(
                (t.name for t in threading.enumerate() if t.ident == self.thread_id), "task thread"
            )
            raise MailboxThreadError(
                f"{operation} was called from thread '{name}', but agent memory, send_event, "
                f"get_resource and durable calls may only run on the operator's mailbox thread "
                f"'{mailbox}'; return the value from the worker and apply it in the "
                "action instead",
                operation=operation,
                thread_name=name,
            )
