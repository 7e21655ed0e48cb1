"""The mailbox-thread rule: agent state is touched only by the thread driving the operator.

Flink runs an operator's user code on one task ("mailbox") thread, and keyed state is scoped to the
key that thread is processing. A worker thread touching memory would read or write another key's
state, so every memory, event, resource and journal operation checks the caller's thread first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flink_agents_ctx.errors import DurableScopeError, MailboxThreadError

# Set while a durable call (or its reconciler) runs, on whichever thread runs it.
_durable_call: ContextVar[str | None] = ContextVar("flink_agents_durable_call", default=None)


@contextmanager
def durable_scope(function_id: str) -> Iterator[None]:
    """Mark the calling thread as running the durable call ``function_id``."""
    token = _durable_call.set(function_id)
    try:
        yield
    finally:
        _durable_call.reset(token)


class Mailbox:
    """Remembers the thread currently driving the operator and rejects calls from other threads."""

    __slots__ = ("_thread_id", "_thread_name")

    def __init__(self) -> None:
        self._thread_id: int | None = None
        self._thread_name = "<none>"

    def enter(self) -> None:
        """Mark the calling thread as the mailbox thread (called at each operator entry point)."""
        current = threading.current_thread()
        self._thread_id = current.ident
        self._thread_name = current.name

    def check(self, operation: str) -> None:
        """Raise :class:`MailboxThreadError` unless called from the mailbox thread, and
        :class:`DurableScopeError` inside a durable call."""
        call = _durable_call.get()
        if call is not None:
            raise DurableScopeError(
                f"{operation} was used inside the durable call {call}; a durable call's outcome "
                "is recorded and replayed without running it again, so it may only compute and "
                "return a value. Return what you need and use memory, events and resources in the "
                "action",
                operation=operation,
            )
        if threading.get_ident() != self._thread_id:
            name = threading.current_thread().name
            raise MailboxThreadError(
                f"{operation} was called from thread '{name}', but agent memory, send_event, "
                f"get_resource and durable calls may only run on the operator's mailbox thread "
                f"'{self._thread_name}'; return the value from the worker and apply it in the "
                "action instead",
                operation=operation,
                thread_name=name,
            )
