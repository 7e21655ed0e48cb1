"""Agent configuration: typed options with defaults, validated when the configuration is built.

Users pass a plain ``dict`` (or an :class:`AgentConfig`) to ``AgentsExecutionEnvironment`` or the
test harness. Options the library knows are checked up front, so a typo in a value fails at job
construction with the key named, not minutes later inside a TaskManager. Unknown keys are kept: actions
read their own settings through ``ctx.config``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from flink_agents_ctx.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class ConfigOption(Generic[T]):
    """A typed configuration key with a default and, optionally, a closed set of allowed values."""

    key: str
    type: type[T]
    default: T | None
    description: str
    choices: tuple[T, ...] = ()
    minimum: float | None = None
    # Further checks of a parsed value: returns a problem to report, or None.
    check: Callable[[T], str | None] | None = None
    # Renders a raw value for messages and reprs, keeping secrets out (None: as it is).
    shown: Callable[[Any], str] | None = None

    def parse(self, raw: Any) -> T:
        """Convert a raw value (as found in a dict or a Flink configuration) to the option's type."""
        value = _coerce(self.key, raw, self.type)
        if self.minimum is not None and isinstance(value, (int, float)) and value < self.minimum:
            raise ConfigError(
                f"option '{self.key}' is {raw!r}; it must be at least {self.minimum:g}",
                key=self.key,
                value=raw,
            )
        if self.choices and value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            raise ConfigError(
                f"option '{self.key}' is {raw!r}; allowed values are {allowed}",
                key=self.key,
                value=raw,
            )
        problem = self.check(value) if self.check is not None else None
        if problem is not None:
            shown = repr(raw) if self.shown is None else repr(self.shown(raw))
            raise ConfigError(
                f"option '{self.key}' is {shown}; {problem}",
                key=self.key,
                value=raw if self.shown is None else self.shown(raw),
            )
        return value


def _coerce(key: str, raw: Any, wanted: type[T]) -> T:
    if isinstance(raw, wanted) and not (wanted is int and isinstance(raw, bool)):
        return raw
    try:
        if wanted is bool and isinstance(raw, str) and raw.lower() in ("true", "false"):
            return cast(T, raw.lower() == "true")
        if wanted is int and isinstance(raw, str):
            return cast(T, int(raw.strip()))
        if wanted is float and isinstance(raw, (int, str)) and not isinstance(raw, bool):
            return cast(T, float(raw))
    except ValueError as e:
        raise ConfigError(
            f"option '{key}' is {raw!r}, which is not a valid {wanted.__name__}",
            key=key,
            value=raw,
        ) from e
    raise ConfigError(
        f"option '{key}' is {raw!r} of type {type(raw).__name__}; expected {wanted.__name__}",
        key=key,
        value=raw,
    )


SHORT_TERM_MEMORY_TTL_MS: ConfigOption[int] = ConfigOption(
    "short-term-memory.state-ttl.ms",
    int,
    None,
    "Time-to-live of short-term memory entries in milliseconds; unset keeps them forever.",
    minimum=1,
)
SHORT_TERM_MEMORY_TTL_UPDATE_TYPE: ConfigOption[str] = ConfigOption(
    "short-term-memory.state-ttl.update-type",
    str,
    "OnCreateAndWrite",
    "When an entry's time-to-live restarts: on writes, or on reads and writes.",
    choices=("OnCreateAndWrite", "OnReadAndWrite"),
)
SHORT_TERM_MEMORY_TTL_VISIBILITY: ConfigOption[str] = ConfigOption(
    "short-term-memory.state-ttl.visibility",
    str,
    "NeverReturnExpired",
    "Whether an expired entry that is not cleaned up yet may still be read.",
    choices=("NeverReturnExpired", "ReturnExpiredIfNotCleanedUp"),
)
SHORT_TERM_MEMORY_CACHE_KEYS: ConfigOption[int] = ConfigOption(
    "short-term-memory.cache-keys",
    int,
    4096,
    "Short-term memory read from state stays cached in the operator for this many most recently "
    "used keys, so a key's next input reads it without a call into the state backend (see "
    "short-term-memory.write-behind for writes). 0 turns it off; a TTL on short-term memory "
    "turns it off too.",
    minimum=0,
)
SHORT_TERM_MEMORY_WRITE_BEHIND: ConfigOption[bool] = ConfigOption(
    "short-term-memory.write-behind",
    bool,
    True,
    "In thread mode, committed short-term memory writes stay in the operator (for the keys it "
    "caches, short-term-memory.cache-keys) and go to keyed state just before each checkpoint or "
    "savepoint barrier, instead of one call into the state backend per action. false writes "
    "them when each action commits. Off without the cache (cache-keys 0, or a TTL).",
)
JOB_IDENTIFIER: ConfigOption[str] = ConfigOption(
    "job-identifier",
    str,
    None,
    "A stable name for the job, used to tell its durable records apart from other jobs'.",
)

NUM_ASYNC_THREADS: ConfigOption[int] = ConfigOption(
    "num-async-threads",
    int,
    None,
    "Worker threads per operator running durable_execute_async calls; unset means twice the "
    "number of CPUs.",
    minimum=1,
)
DURABLE_MISMATCH_MODE: ConfigOption[str] = ConfigOption(
    "durable-execution.mismatch-mode",
    str,
    "lenient",
    "What a replay does when a call differs from the journal: 'lenient' logs, counts and calls "
    "again; 'strict' raises NonDeterministicReplayError; 'replay-only' also raises "
    "JournalMissError instead of making a call that is not recorded.",
    choices=("lenient", "strict", "replay-only"),
)
ASYNC_MAX_WAKE_INTERVAL_MS: ConfigOption[int] = ConfigOption(
    "async.max-wake-interval.ms",
    int,
    20,
    "Longest wait between two polls for finished async calls (polls start 1 ms after a call "
    "finished and back off to this while none does).",
    minimum=1,
)

DURABLE_KEY_TTL_MS: ConfigOption[int] = ConfigOption(
    "durable-execution.key-ttl.ms",
    int,
    7 * 24 * 3600 * 1000,
    "How long a key keeps its durable-call numbering and job identity after its last durable "
    "call; then the key costs no state, and its next call starts the numbering afresh. Must be "
    "longer than action-state.retention.ms; at least 10 s.",
    minimum=10_000,
)

GIL_SWITCH_INTERVAL_US: ConfigOption[int] = ConfigOption(
    "gil-switch-interval.us",
    int,
    100,
    "The Python runtime's GIL switch interval (sys.setswitchinterval) that the agent operator "
    "sets when it opens in a TaskManager, in microseconds; 0 keeps Python's own (5000). "
    "Shorter hands the GIL sooner to a thread that waits for it (a worker whose call returned, "
    "another Python operator's task thread). It is process-wide: every Python operator of the "
    "TaskManager gets it.",
    minimum=0,
)

_OPTIONS: dict[str, ConfigOption[Any]] = {}


def register_options(*options: ConfigOption[Any]) -> None:
    """Add options to the configuration table (each concept package registers its own, and the
    package's ``__init__`` imports them all before any configuration is built)."""
    for option in options:
        known = _OPTIONS.get(option.key)
        if known is not None and known is not option:
            raise ValueError(f"configuration option '{option.key}' is defined twice")
        _OPTIONS[option.key] = option


def known_options() -> tuple[ConfigOption[Any], ...]:
    """Every option of the configuration table, in registration order."""
    return tuple(_OPTIONS.values())


register_options(
    SHORT_TERM_MEMORY_TTL_MS,
    SHORT_TERM_MEMORY_TTL_UPDATE_TYPE,
    SHORT_TERM_MEMORY_TTL_VISIBILITY,
    SHORT_TERM_MEMORY_CACHE_KEYS,
    SHORT_TERM_MEMORY_WRITE_BEHIND,
    JOB_IDENTIFIER,
    NUM_ASYNC_THREADS,
    DURABLE_MISMATCH_MODE,
    DURABLE_KEY_TTL_MS,
    ASYNC_MAX_WAKE_INTERVAL_MS,
    GIL_SWITCH_INTERVAL_US,
)


class AgentConfig:
    """Read-only agent configuration.

    Known options are validated on construction; reads are typed::

        ttl = config.get(SHORT_TERM_MEMORY_TTL_MS)      # int | None
        model = config.get_str("my-agent.model", "small")
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | AgentConfig | None = None) -> None:
        if isinstance(values, AgentConfig):
            values = values._values
        raw = dict(values or {})
        for key, value in raw.items():
            if not isinstance(key, str):
                raise ConfigError(f"configuration keys must be str, got {key!r}", key=str(key))
            option = _OPTIONS.get(key)
            if option is not None and value is not None:
                raw[key] = option.parse(value)
        self._values: dict[str, Any] = raw

    def get(self, option: ConfigOption[T]) -> T | None:
        """The option's value, or its default."""
        if option.key in self._values and self._values[option.key] is not None:
            return option.parse(self._values[option.key])
        return option.default

    def get_raw(self, key: str, default: Any = None) -> Any:
        """The value as given, without conversion."""
        return self._values.get(key, default)

    def get_str(self, key: str, default: str | None = None) -> str | None:
        """The value as ``str``; raises :class:`ConfigError` when it is of another type."""
        return self._typed(key, str, default)

    def get_int(self, key: str, default: int | None = None) -> int | None:
        """The value as ``int`` (numeric strings are converted)."""
        return self._typed(key, int, default)

    def get_float(self, key: str, default: float | None = None) -> float | None:
        """The value as ``float`` (ints and numeric strings are converted)."""
        return self._typed(key, float, default)

    def get_bool(self, key: str, default: bool | None = None) -> bool | None:
        """The value as ``bool`` ("true"/"false" strings are converted)."""
        return self._typed(key, bool, default)

    def _typed(self, key: str, wanted: type[T], default: T | None) -> T | None:
        if key not in self._values or self._values[key] is None:
            return default
        return _coerce(key, self._values[key], wanted)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def to_dict(self) -> dict[str, Any]:
        """A copy of every key and value."""
        return dict(self._values)

    def __repr__(self) -> str:
        shown = {}
        for k, v in self._values.items():
            option = _OPTIONS.get(k)
            shown[k] = v if option is None or option.shown is None or v is None else option.shown(v)
        return f"AgentConfig({shown!r})"
