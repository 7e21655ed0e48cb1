"""Running one action execution (a step of a run) to its end or to its next suspension."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from flink_agents_ctx.agent import ActionSpec, AgentPlan
from flink_agents_ctx.backends.protocols import MapStore
from flink_agents_ctx.context.common import ActionFrame, ActionOutcome, BaseRunnerContext
from flink_agents_ctx.durable.executor import CallExecutor
from flink_agents_ctx.durable.journal import CallJournal, KeyedJournal
from flink_agents_ctx.durable.scope import CallScope, DurableStats
from flink_agents_ctx.durable.session import DurableSession
from flink_agents_ctx.durable.step_loop import StepLoop
from flink_agents_ctx.durable.wal import (
    ActionStateStore,
    ExecutionId,
    WriteAheadJournal,
    key_columns,
)
from flink_agents_ctx.errors import (
    ActionExecutionError,
    ActionStateStoreError,
    UnsupportedAwaitError,
)
from flink_agents_ctx.events import Event
from flink_agents_ctx.mailbox import Mailbox
from flink_agents_ctx.metrics.builtin import BuiltinMetrics
from flink_agents_ctx.operator.runs import Run, Step
from flink_agents_ctx.resources.registry import current_action_metric_group
from flink_agents_ctx.types import ActionKind


@dataclass(frozen=True)
class DurableSettings:
    mismatch_mode: str
    store: ActionStateStore | None = None
    store_attempts: int = 5
    allow_pickle_from_store: bool = False


class ActionRunner:
    """Builds frames for steps and drives them; commits or aborts what they did."""

    def __init__(
        self,
        plan: AgentPlan,
        contexts: dict[ActionKind, BaseRunnerContext],
        journal_state: MapStore,
        executor: CallExecutor,
        mailbox: Mailbox,
        metrics: BuiltinMetrics,
        settings: DurableSettings,
    ) -> None:
        self._plan = plan
        self._contexts = contexts
        self._journal_state = journal_state
        self._executor = executor
        self._mailbox = mailbox
        self._metrics = metrics
        self._settings = settings
        self.stats = DurableStats()

    def new_frame(self, key: Hashable, run: Run, step: Step, restored: bool) -> ActionFrame:
        """A frame for ``step``; ``restored`` means its journal may hold records to replay."""
        spec = self._plan.by_name[step.action]

        def new_session() -> DurableSession:
            settings = self._settings
            journal: CallJournal = KeyedJournal(self._journal_state, restored)
            if settings.store is not None:
                key_digest, key_text = key_columns(key)
                execution = ExecutionId(
                    run.job, key_digest, key_text, run.seq, run.input_digest, spec.name, step.index
                )
                journal = WriteAheadJournal(
                    journal, settings.store, execution, settings.store_attempts
                )
            session = DurableSession(
                journal=journal,
                scope=CallScope(run.job, key, run.seq, spec.name, step.index),
                mode=settings.mismatch_mode,
                executor=self._executor,
                mailbox=self._mailbox,
                stats=self.stats,
                allow_pickle_from_store=settings.allow_pickle_from_store,
            )
            session.loop = frame.loop
            return session

        frame = ActionFrame(spec, step.event, key, run.timestamp, new_session)
        if spec.is_async:
            frame.loop = StepLoop(spec.name)  # type: ignore[abstract]  # I/O methods refuse at runtime
        if restored:
            # A restored journal must be cleared when the action finishes, even if the action
            # makes no durable call this time. (With a store, the store is read when the action
            # makes its first durable call: an action that makes none has nothing to replay.)
            frame.open_session()
        return frame

    def apply_completions(self, frame: ActionFrame, now: float) -> bool:
        """Hand the frame the outcomes of its finished async calls; whether any arrived."""
        completions = self._executor.take(frame.key)
        if not frame.has_session:
            return False
        session = frame.session
        for completion in completions:
            if completion.session == session.token:
                session.apply(completion)
        session.expire(now)
        return bool(completions)

    def drive(self, frame: ActionFrame) -> ActionOutcome | None:
        """Run the frame until it finishes (its outcome) or waits (``None``).

        Raises:
            ActionExecutionError: the action raised; nothing it did was committed.
        """
        spec = frame.spec
        ctx = self._contexts[spec.kind]
        ctx.begin(frame)
        token = current_action_metric_group.set(ctx.action_metric_group)
        try:
            if frame.loop is None:
                spec.func(frame.event, ctx)
            else:
                if frame.task is None:
                    frame.task = frame.loop.create_task(spec.func(frame.event, ctx))
                frame.loop.run_ready()
                if not frame.task.done():
                    waiting = frame.has_session and frame.session.waiting
                    if not waiting and frame.loop.next_timer_at() is None:
                        raise UnsupportedAwaitError(
                            f"async action '{spec.name}' is waiting on something that only "
                            "another thread or an I/O loop could complete; await "
                            "ctx.durable_execute_async(...) (or asyncio.sleep) instead",
                            action=spec.name,
                        )
                    # Everything finished so far must be in the next checkpoint.
                    _raise_store_error(frame)
                    if frame.has_session:
                        frame.session.flush()
                    ctx.park()
                    return None
                frame.task.result()
            # Inside the try: a state write failing while the action commits must surface as
            # this action's failure and leave no cached writes or events behind for the next key.
            _raise_store_error(frame)
            outcome = ctx.finish()
        except BaseException as e:
            ctx.abort()
            # Only a failure the run goes on from (an ActionFailedEvent) ends the action for
            # good. Any other one fails the job, which restores the last checkpoint: keep the
            # journal, so that a callback Flink still delivers before it cancels the task
            # replays the recorded calls instead of making them again.
            self.discard(frame, clear_journal=frame.spec.on_failure == "emit")
            if not isinstance(e, Exception) or isinstance(e, ActionStateStoreError):
                raise
            _raise_store_error(frame)
            raise _action_error(spec, frame.event, frame.key, e) from e
        finally:
            current_action_metric_group.reset(token)
        self.discard(frame)
        self._metrics.action_executed(spec.name)
        return outcome

    def discard(self, frame: ActionFrame, clear_journal: bool = True) -> None:
        """The frame is over: drop its in-flight calls and loop, and (when its key is current)
        its journal."""
        if frame.has_session:
            if clear_journal:
                frame.session.close()
            else:
                frame.session.abandon()
        if frame.loop is not None:
            if frame.task is not None and not frame.task.done():
                frame.task.cancel()
                frame.loop.run_ready()
            frame.loop.close()

    def spec(self, name: str) -> ActionSpec:
        return self._plan.by_name[name]


def _raise_store_error(frame: ActionFrame) -> None:
    """Fail the job when the write-ahead store failed during the action, even if the action
    caught the error: it must not go on, or be routed by its failure policy, without records."""
    if frame.has_session and frame.session.store_error is not None:
        raise frame.session.store_error


def _action_error(
    spec: ActionSpec, event: Event, key: Hashable, e: BaseException
) -> ActionExecutionError:
    return ActionExecutionError(
        f"action '{spec.name}' failed on event {event.type_name()} (id {event.id}) "
        f"of key {key!r}: {type(e).__name__}: {str(e).rstrip('.')}. Nothing the action did "
        "was committed.",
        action=spec.name,
        event_type=event.type_name(),
        event_id=event.id,
    )
