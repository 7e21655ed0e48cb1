"""An asyncio event loop stepped by the operator on the task thread, one per async action execution.

It never blocks and never runs by itself: the operator calls :meth:`StepLoop.run_ready` when it
starts the action and whenever one of the action's durable calls (or an ``asyncio.sleep``) completes.
``run_ready`` runs callbacks until none is ready, so when it returns the action has either finished
or is waiting on something only the operator can complete. Everything asyncio builds on futures and
callbacks works inside an action: ``asyncio.gather``, ``wait``, ``create_task``, ``sleep``,
``wait_for``. Anything that needs I/O from the loop does not, and says so.

The loop also names its tasks for call positions (:meth:`StepLoop.lineage`): the action's own task
is ``""``, the ``n``-th task started by a task with lineage ``L`` is ``L + "n/"``. Task creation
happens in program order, so the names do not depend on when calls finish, and a replay whose
recorded calls answer at once gives every call the position it had in the first run.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Coroutine
from contextvars import Context
from typing import Any

from flink_agents_ctx.errors import UnsupportedAwaitError

_set_running_loop = asyncio.events._set_running_loop
_get_running_loop = asyncio.events._get_running_loop


class StepLoop(asyncio.AbstractEventLoop):
    """A minimal event loop for one action execution (see the module docstring)."""

    def __init__(self, action: str) -> None:
        self._action = action
        self._ready: deque[
            tuple[asyncio.Handle, Callable[..., Any], tuple[Any, ...], Context | None]
        ]
        self._ready = deque()
        self._timers: list[tuple[float, int, asyncio.TimerHandle]] = []
        self._seq = itertools.count()
        self._closed = False
        self._stepping = False
        self._exceptions: list[dict[str, Any]] = []
        self._lineages: dict[asyncio.Task[Any], str] = {}
        self._children: dict[asyncio.Task[Any] | None, int] = {}

    # -- driving -----------------------------------------------------------------------------

    def run_ready(self) -> None:
        """Run every ready callback (and due timer) until none is left."""
        previous = _get_running_loop()
        _set_running_loop(self)
        self._stepping = True
        try:
            while True:
                self._move_due_timers()
                if not self._ready:
                    break
                handle, callback, args, context = self._ready.popleft()
                if handle.cancelled():
                    continue
                if context is None:
                    callback(*args)
                else:
                    context.run(callback, *args)
        finally:
            self._stepping = False
            _set_running_loop(previous)

    def next_timer_at(self) -> float | None:
        """Loop time of the earliest pending timer (``asyncio.sleep`` and friends), if any."""
        while self._timers and self._timers[0][2].cancelled():
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def _move_due_timers(self) -> None:
        now = self.time()
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled():
                callback, args, context = timer._callback, timer._args, timer._context  # type: ignore[attr-defined]
                self._ready.append((timer, callback, tuple(args), context))

    # -- what asyncio's futures, tasks, gather and sleep use ----------------------------------

    def time(self) -> float:
        return time.monotonic()

    def call_soon(  # type: ignore[override]
        self, callback: Callable[..., Any], *args: Any, context: Context | None = None
    ) -> asyncio.Handle:
        handle = asyncio.Handle(callback, args, self, context)
        self._ready.append((handle, callback, args, context))
        return handle

    def call_soon_threadsafe(  # type: ignore[override]
        self, callback: Callable[..., Any], *args: Any, context: Context | None = None
    ) -> asyncio.Handle:
        raise UnsupportedAwaitError(
            f"action '{self._action}' used call_soon_threadsafe; other threads cannot wake an "
            "action. Run blocking work with ctx.durable_execute_async",
            action=self._action,
        )

    def call_at(  # type: ignore[override]
        self, when: float, callback: Callable[..., Any], *args: Any, context: Context | None = None
    ) -> asyncio.TimerHandle:
        timer = asyncio.TimerHandle(when, callback, args, self, context)
        heapq.heappush(self._timers, (when, next(self._seq), timer))
        return timer

    def call_later(  # type: ignore[override]
        self, delay: float, callback: Callable[..., Any], *args: Any, context: Context | None = None
    ) -> asyncio.TimerHandle:
        return self.call_at(self.time() + delay, callback, *args, context=context)

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        pass  # cancelled timers are skipped when they come due

    def create_future(self) -> asyncio.Future[Any]:
        return asyncio.Future(loop=self)

    def create_task(
        self,
        coro: Coroutine[Any, Any, Any] | Any,
        *,
        name: str | None = None,
        context: Context | None = None,
    ) -> asyncio.Task[Any]:
        parent = asyncio.current_task(self)
        n = self._children.get(parent, 0)
        self._children[parent] = n + 1
        if parent is None:
            # The action's own task; tasks started from plain callbacks get a name of their own.
            lineage = "" if n == 0 else f"~{n}/"
        else:
            lineage = f"{self._lineages.get(parent, '~/')}{n}/"
        task = asyncio.Task(coro, loop=self, name=name, context=context)
        self._lineages[task] = lineage
        return task

    def lineage(self) -> str:
        """The position prefix of calls made by the task running now (see the module
        docstring); ``"~/"`` outside any task."""
        task = asyncio.current_task(self)
        return "~/" if task is None else self._lineages.get(task, "~/")

    def get_debug(self) -> bool:
        return False

    def is_running(self) -> bool:
        return self._stepping

    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self._ready.clear()
        self._timers.clear()
        self._lineages.clear()
        self._children.clear()

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        # A future whose exception nobody retrieved (e.g. a gather sibling); keep it for the log.
        self._exceptions.append(context)

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        self._exceptions.append(context)

    def get_exception_handler(self) -> None:
        return None

    def _unsupported(self, what: str) -> UnsupportedAwaitError:
        return UnsupportedAwaitError(
            f"action '{self._action}' used {what}, which needs an I/O event loop; actions run on "
            "the Flink task thread. Run blocking or network work with "
            "ctx.durable_execute_async(fn, ...)",
            action=self._action,
        )

    def run_in_executor(  # type: ignore[override]
        self, executor: Any, func: Callable[..., Any], *args: Any
    ) -> Any:
        raise self._unsupported("run_in_executor")


def _refusing(name: str) -> Callable[..., Any]:
    def refuse(self: StepLoop, *args: Any, **kwargs: Any) -> Any:
        raise self._unsupported(f"loop.{name}")

    refuse.__name__ = name
    return refuse


_IO_METHODS = frozenset(
    {
        "add_reader",
        "add_writer",
        "remove_reader",
        "remove_writer",
        "create_connection",
        "create_server",
        "create_datagram_endpoint",
        "create_unix_connection",
        "create_unix_server",
        "getaddrinfo",
        "getnameinfo",
        "sock_recv",
        "sock_sendall",
        "sock_connect",
        "sock_accept",
        "subprocess_exec",
        "subprocess_shell",
        "run_until_complete",
        "run_forever",
    }
)
for _name in _IO_METHODS:
    setattr(StepLoop, _name, _refusing(_name))
