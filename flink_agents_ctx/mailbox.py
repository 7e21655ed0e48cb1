"""The mailbox-thread rule: agent state is touched only by the thread driving the operator.

Flink runs an operator's user code on one task ("mailbox") thread, and keyed state is scoped to the
key that thread is processing. A worker thread touching memory would read or write another key's
state, so every memory, event, resource and journal operation checks the caller's thread first.
"""

from __future__ import annotations

import threading

from flink_agents_ctx.errors import MailboxThreadError


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
        """Raise :class:`MailboxThreadError` unless called from the mailbox thread."""
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
