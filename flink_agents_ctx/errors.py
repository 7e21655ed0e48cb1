"""Typed errors raised by flink_agents_ctx.

Every error derives from :class:`FlinkAgentsError`, carries the structured fields that locate the
problem (path, action, key, name, ...) and a message that says what to do next. Where a built-in
exception type is the natural one for callers (``TypeError`` for a bad value, ``KeyError`` for an
unknown name), the error also derives from it so existing ``except`` clauses keep working.
"""

from __future__ import annotations

from typing import Any


class FlinkAgentsError(Exception):
    """Base class of every error raised by flink_agents_ctx."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        # KeyError would otherwise quote the message.
        return self.message


class ConfigError(FlinkAgentsError, ValueError):
    """A configuration option has a value of the wrong type or outside its allowed set."""

    def __init__(self, message: str, *, key: str, value: Any = None) -> None:
        super().__init__(message)
        self.key = key
        self.value = value


class AgentDefinitionError(FlinkAgentsError, ValueError):
    """An agent, action or resource definition is invalid (found when the agent is built)."""


class EventSerializationError(FlinkAgentsError, TypeError):
    """An event carries a field value that cannot be serialised to JSON."""

    def __init__(self, message: str, *, event_type: str, event_id: str, field: str) -> None:
        super().__init__(message)
        self.event_type = event_type
        self.event_id = event_id
        self.field = field


class _MemoryAccessError(FlinkAgentsError):
    """An error about one memory path."""

    def __init__(self, message: str, *, path: str, memory_type: str) -> None:
        super().__init__(message)
        self.path = path
        self.memory_type = memory_type


class MemoryValueError(_MemoryAccessError, TypeError):
    """A value written to memory is not checkpoint-stable. Nothing was written."""


class MemoryPathError(_MemoryAccessError, ValueError):
    """A memory path is malformed or conflicts with the tree (value over object or the reverse)."""


class MailboxThreadError(FlinkAgentsError, RuntimeError):
    """An operation that must run on the operator's task thread was called from another thread."""

    def __init__(self, message: str, *, operation: str, thread_name: str) -> None:
        super().__init__(message)
        self.operation = operation
        self.thread_name = thread_name


class UnknownResourceError(FlinkAgentsError, KeyError):
    """``get_resource`` named a resource the agent does not declare."""

    def __init__(self, message: str, *, name: str, resource_type: str) -> None:
        super().__init__(message)
        self.name = name
        self.resource_type = resource_type


class MetricNameError(FlinkAgentsError, ValueError):
    """A metric or metric group name is empty or contains a reserved character."""

    def __init__(self, message: str, *, name: str) -> None:
        super().__init__(message)
        self.name = name


class ActionExecutionError(FlinkAgentsError, RuntimeError):
    """An action raised. Nothing the action did (memory writes, events) was committed."""

    def __init__(self, message: str, *, action: str, event_type: str, event_id: str) -> None:
        super().__init__(message)
        self.action = action
        self.event_type = event_type
        self.event_id = event_id


class UnsupportedAwaitError(FlinkAgentsError, RuntimeError):
    """An async action awaited something the operator cannot suspend on."""

    def __init__(self, message: str, *, action: str) -> None:
        super().__init__(message)
        self.action = action


class OperatorStateError(FlinkAgentsError, RuntimeError):
    """An internal invariant of the operator was broken (a bug: please report it)."""


class DurableScopeError(FlinkAgentsError, RuntimeError):
    """Agent memory, ``send_event`` or ``get_resource`` was used inside a durable call.

    A durable call's result is recorded and replayed instead of re-running the call, so anything it
    did to the agent besides returning a value would be lost on replay.
    """

    def __init__(self, message: str, *, operation: str) -> None:
        super().__init__(message)
        self.operation = operation


class NonCanonicalArgumentError(FlinkAgentsError, TypeError):
    """A durable call's argument has a type with no canonical encoding, so the call has no stable
    identity to match on replay."""

    def __init__(self, message: str, *, path: str, type_name: str) -> None:
        super().__init__(message)
        self.path = path
        self.type_name = type_name


class JournalEncodingError(FlinkAgentsError, TypeError):
    """A durable call's result cannot be recorded by the call's codec. The call did run."""

    def __init__(self, message: str, *, path: str, type_name: str, codec: str) -> None:
        super().__init__(message)
        self.path = path
        self.type_name = type_name
        self.codec = codec


class _JournalError(FlinkAgentsError):
    """An error about one call of an action's journal.

    ``call_position`` names the call inside its action execution: ``"2"`` is the third call of the
    action's own code, ``"0/1"`` the second call of the first task the action started (for example
    a branch of ``asyncio.gather``)."""

    def __init__(self, message: str, *, action: str, call_position: str) -> None:
        super().__init__(message)
        self.action = action
        self.call_position = call_position


class NonDeterministicReplayError(_JournalError, RuntimeError):
    """On replay, the call at ``call_position`` of an action is not the call the journal recorded
    there."""

    def __init__(
        self, message: str, *, action: str, call_position: str, expected: str, actual: str
    ) -> None:
        super().__init__(message, action=action, call_position=call_position)
        self.expected = expected
        self.actual = actual


class JournalMissError(_JournalError, LookupError):
    """``replay-only`` mode found no recorded outcome for a call and refused to make it."""


class DurableCallError(_JournalError, RuntimeError):
    """A recorded failure of a durable call whose exception type could not be rebuilt on replay.

    Carries the recorded ``type_name``, ``error_message`` and ``remote_traceback`` text.
    """

    def __init__(
        self,
        message: str,
        *,
        action: str,
        call_position: str,
        type_name: str,
        error_message: str,
        remote_traceback: str,
    ) -> None:
        super().__init__(message, action=action, call_position=call_position)
        self.type_name = type_name
        self.error_message = error_message
        self.remote_traceback = remote_traceback


class DurableCallTimeoutError(_JournalError, TimeoutError):
    """A durable call did not finish within its ``timeout_s``. The outcome is recorded as failed."""


class DurabilityError(FlinkAgentsError, RuntimeError):
    """The durable-call journal cannot be written, or a record cannot be read back faithfully.

    The job fails, even when the action catches the error: an action must not go on, or commit,
    without the records it was configured to keep.
    """


class JournalDecodingError(DurabilityError):
    """A recorded call outcome in the job's keyed state cannot be decoded (for example the class
    of a recorded dataclass is not imported in this process)."""

    def __init__(self, message: str, *, action: str, call_position: str) -> None:
        super().__init__(message)
        self.action = action
        self.call_position = call_position


class ActionStateStoreError(DurabilityError):
    """The write-ahead action-state store failed (after retries) or holds a record this job may
    not read. The job fails rather than run without the durability it was configured for.

    ``store`` is the store's address with any password removed.
    """

    def __init__(self, message: str, *, store: str) -> None:
        super().__init__(message)
        self.store = store


class WireFormatError(FlinkAgentsError, ValueError):
    """A value or event has no form in the Java bridge's wire format, or wire text is malformed.

    ``where`` names the part (a field, an index, a tag)."""

    def __init__(self, message: str, *, where: str) -> None:
        super().__init__(message)
        self.where = where


class JavaBridgeError(FlinkAgentsError, RuntimeError):
    """The Java bridge cannot run: no thread mode, the bridge jar or an action class is missing,
    or the bridge speaks another wire-format version. The message says which and what to do."""


class JavaActionError(FlinkAgentsError, RuntimeError):
    """A Java action threw. Carries the Java exception's class, message and stack text."""

    def __init__(
        self, message: str, *, java_class: str, java_message: str, java_stack: str
    ) -> None:
        super().__init__(message)
        self.java_class = java_class
        self.java_message = java_message
        self.java_stack = java_stack


class JavaCallError(FlinkAgentsError, RuntimeError):
    """A Java durable call threw; recorded and raised again on replay like a Python failure.

    ``str()`` is ``"<java class>: <message>"``; ``java_stack`` holds the Java stack text when the
    exception was made from the live failure (or rebuilt from a pickled record)."""

    def __init__(
        self,
        message: str,
        *,
        java_class: str | None = None,
        java_message: str | None = None,
        java_stack: str = "",
    ) -> None:
        super().__init__(message)
        head, _, tail = message.partition(": ")
        self.java_class = java_class if java_class is not None else head
        self.java_message = java_message if java_message is not None else tail
        self.java_stack = java_stack

    def __reduce__(self) -> Any:
        return (
            _rebuild_java_call_error,
            (self.message, self.java_class, self.java_message, self.java_stack),
        )


def _rebuild_java_call_error(
    message: str, java_class: str, java_message: str, java_stack: str
) -> JavaCallError:
    return JavaCallError(
        message, java_class=java_class, java_message=java_message, java_stack=java_stack
    )


class ChatModelError(FlinkAgentsError, RuntimeError):
    """A chat model could not answer: a malformed conversation, or its server failed, is
    unreachable or answered something that is not a chat completion. The message names the server
    and what to check. Inside a durable call the failure is journaled like any other."""


class LongTermMemoryError(FlinkAgentsError):
    """Long-term memory cannot do what was asked (not configured, a bad item, filter or id); the
    message says what to do. Nothing was written."""


class EmbeddingError(LongTermMemoryError):
    """Texts could not be embedded: not a str, or the embedding server failed or is unreachable."""


class VectorStoreError(LongTermMemoryError):
    """The vector store refused or failed an operation (a wrong vector size, an unreachable
    server, a path another process holds)."""
