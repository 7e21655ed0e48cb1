"""User-facing metric groups.

Wraps a backend group (a PyFlink ``MetricGroup`` in a job, an in-memory one in tests) and adds what
PyFlink lacks: histograms, settable gauges, key-value sub-groups with validated names, and caching so
asking twice for the same metric returns the same object instead of registering it twice.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from flink_agents_ctx.backends.protocols import Counter, Meter, MetricBackend
from flink_agents_ctx.errors import MetricNameError

M = TypeVar("M")


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise MetricNameError(f"{what} must be a non-empty str, got {name!r}", name=str(name))
    if "=" in name:
        raise MetricNameError(
            f"{what} {name!r} contains '='; use get_sub_group(key, value) for key-value groups",
            name=name,
        )
    return name


class Gauge:
    """A gauge holding the last value set with :meth:`update`."""

    __slots__ = ("_value",)

    def __init__(self) -> None:
        self._value: float | int = 0

    def update(self, value: float | int) -> None:
        self._value = value

    def get_value(self) -> float | int:
        return self._value


class Histogram:
    """Statistics over the last ``window_size`` updates, thread-safe.

    Published as gauges ``<name>_count``, ``_min``, ``_max``, ``_mean``, ``_p50``, ``_p95``,
    ``_p99`` (PyFlink has no histogram metric type).
    """

    def __init__(self, window_size: int = 1000) -> None:
        if window_size < 1:
            raise ValueError(f"histogram window_size must be >= 1, got {window_size}")
        self._values: deque[float] = deque(maxlen=window_size)
        self._count = 0
        self._lock = threading.Lock()

    def update(self, value: float) -> None:
        with self._lock:
            self._values.append(float(value))
            self._count += 1

    def get_count(self) -> int:
        """Updates since creation (not only those in the window)."""
        return self._count

    def get_statistics(self) -> dict[str, float]:
        """min, max, mean and percentiles of the window (zeros when empty)."""
        with self._lock:
            ordered = sorted(self._values)
        if not ordered:
            return {"min": 0.0, "max": 0.0, "mean": 0.0, "p50": 0.0, "p95": 0.0, "p99": 0.0}

        def pct(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

        return {
            "min": ordered[0],
            "max": ordered[-1],
            "mean": sum(ordered) / len(ordered),
            "p50": pct(0.50),
            "p95": pct(0.95),
            "p99": pct(0.99),
        }


def _statistic(histogram: Histogram, stat: str) -> Callable[[], float]:
    return lambda: histogram.get_statistics()[stat]


class MetricGroup:
    """A metric group as actions see it (``ctx.agent_metric_group``, ``ctx.action_metric_group``)."""

    def __init__(self, backend: MetricBackend) -> None:
        self._backend = backend
        self._groups: dict[tuple[str, ...], MetricGroup] = {}
        self._metrics: dict[str, tuple[str, Any]] = {}
        self._lock = threading.Lock()

    def get_sub_group(self, name: str, value: str | None = None) -> MetricGroup:
        """A named sub-group, or a key-value sub-group when ``value`` is given."""
        _check_name(name, "metric group name")
        key = (name,) if value is None else (name, _check_name(value, "metric group value"))
        with self._lock:
            group = self._groups.get(key)
            if group is None:
                group = MetricGroup(self._backend.add_group(*key))
                self._groups[key] = group
            return group

    def _get(self, name: str, kind: str, create: Callable[[], M]) -> M:
        _check_name(name, "metric name")
        with self._lock:
            found = self._metrics.get(name)
            if found is None:
                found = (kind, create())
                self._metrics[name] = found
        if found[0] != kind:
            raise MetricNameError(
                f"metric {name!r} is already registered in this group as a {found[0]}; "
                "pick another name",
                name=name,
            )
        metric: M = found[1]
        return metric

    def get_counter(self, name: str) -> Counter:
        """A counter (created on first use)."""
        return self._get(name, "counter", lambda: self._backend.counter(name))

    def get_meter(self, name: str) -> Meter:
        """A meter reporting events per second (created on first use)."""
        return self._get(name, "meter", lambda: self._backend.meter(name))

    def get_gauge(self, name: str) -> Gauge:
        """A gauge reporting the last value given to ``update``."""

        def create() -> Gauge:
            gauge = Gauge()
            self._backend.gauge(name, gauge.get_value)
            return gauge

        return self._get(name, "gauge", create)

    def get_histogram(self, name: str, window_size: int = 1000) -> Histogram:
        """A histogram over the last ``window_size`` values (see :class:`Histogram`)."""

        def create() -> Histogram:
            histogram = Histogram(window_size)
            self._backend.gauge(f"{name}_count", histogram.get_count)
            for stat in ("min", "max", "mean", "p50", "p95", "p99"):
                self._backend.gauge(f"{name}_{stat}", _statistic(histogram, stat))
            return histogram

        return self._get(name, "histogram", create)
