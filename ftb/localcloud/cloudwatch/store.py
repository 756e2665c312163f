"""The local CloudWatch metric store: every datapoint collected or put, by metric.

A metric is (namespace, name, dimensions); each keeps its samples in arrival order with their
timestamp (epoch seconds), unit and value (or a statistic set). Statistics are computed per
period bucket when a query or an alarm asks: Sum, Average, Minimum, Maximum, SampleCount and
percentiles (pNN.N, nearest rank over the raw values; a statistic set has none).
Samples older than RETENTION_SECONDS are dropped as new ones arrive.
"""

from __future__ import annotations

import math
import re
import threading
import time
from bisect import bisect_left, insort
from collections.abc import Iterable
from dataclasses import dataclass, field

RETENTION_SECONDS = 3 * 3600.0  # ListMetrics' RecentlyActive window; enough for any alarm here
BASIC_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d{1,10})?|100(?:\.0+)?)$")

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True, order=True)
class MetricKey:
    namespace: str
    name: str
    dimensions: Dimensions = ()

    @classmethod
    def of(cls, namespace: str, name: str, dimensions: dict[str, str] | None = None) -> MetricKey:
        return cls(namespace, name, tuple(sorted((dimensions or {}).items())))

    def document(self) -> dict[str, object]:
        """The `Metric` shape of the API."""
        return {
            "Namespace": self.namespace,
            "MetricName": self.name,
            "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
        }


@dataclass(frozen=True)
class Sample:
    timestamp: float
    total: float  # the value, or a statistic set's Sum
    count: float = 1.0
    minimum: float = math.nan
    maximum: float = math.nan
    unit: str = "None"
    values: tuple[float, ...] | None = None  # raw values (percentiles); None for a set

    @classmethod
    def value(cls, timestamp: float, value: float, unit: str = "None") -> Sample:
        return cls(timestamp, value, 1.0, value, value, unit, (value,))


def _time(sample: Sample) -> float:
    return sample.timestamp


def is_percentile(statistic: str) -> bool:
    return bool(_PERCENTILE.match(statistic))


def statistic(samples: Iterable[Sample], name: str) -> float | None:
    """The statistic over the samples of one period (None: no datapoint)."""
    samples = list(samples)
    if not samples:
        return None
    if name == "Sum":
        return sum(s.total for s in samples)
    if name == "SampleCount":
        return sum(s.count for s in samples)
    if name == "Average":
        count = sum(s.count for s in samples)
        return sum(s.total for s in samples) / count if count else None
    if name == "Minimum":
        return min(s.minimum for s in samples)
    if name == "Maximum":
        return max(s.maximum for s in samples)
    match = _PERCENTILE.match(name)
    if match is None:
        raise ValueError(f"unsupported statistic {name!r}")
    values = sorted(v for s in samples if s.values is not None for v in s.values)
    if not values:
        return None  # only statistic sets: CloudWatch cannot compute a percentile either
    rank = math.ceil(float(match.group(1)) / 100 * len(values))  # nearest rank
    return values[max(rank, 1) - 1]


@dataclass
class _Series:
    samples: list[Sample] = field(default_factory=list)
    last_put: float = 0.0


class MetricStore:
    """Thread-safe: collectors write from many threads, queries and alarms read."""

    def __init__(self, retention_seconds: float = RETENTION_SECONDS) -> None:
        self._series: dict[MetricKey, _Series] = {}
        self._lock = threading.Lock()
        self._retention = retention_seconds

    def put(self, key: MetricKey, sample: Sample) -> None:
        now = time.time()
        with self._lock:
            series = self._series.setdefault(key, _Series())
            insort(series.samples, sample, key=_time)  # samples mostly arrive in order
            series.last_put = now
            if series.samples[0].timestamp < now - self._retention:
                cut = bisect_left(series.samples, now - self._retention, key=_time)
                del series.samples[:cut]

    def samples(
        self, key: MetricKey, start: float, end: float, unit: str | None = None
    ) -> list[Sample]:
        """The samples with start <= timestamp < end (of the unit, when given)."""
        with self._lock:
            series = self._series.get(key)
            if series is None:
                return []
            items = series.samples
            lo = bisect_left(items, start, key=_time)
            hi = bisect_left(items, end, key=_time)
            chosen = items[lo:hi]
        return [s for s in chosen if unit is None or s.unit == unit]

    def buckets(
        self,
        key: MetricKey,
        stat: str,
        period: float,
        start: float,
        end: float,
        unit: str | None = None,
    ) -> dict[float, float]:
        """The statistic per period bucket (aligned on multiples of `period`) in [start, end)."""
        grouped: dict[float, list[Sample]] = {}
        for sample in self.samples(key, start, end, unit):
            bucket = math.floor(sample.timestamp / period) * period
            grouped.setdefault(bucket, []).append(sample)
        result = {}
        for bucket, items in grouped.items():
            value = statistic(items, stat)
            if value is not None:
                result[bucket] = value
        return result

    def metrics(self, recently_active_seconds: float | None = None) -> list[MetricKey]:
        now = time.time()
        with self._lock:
            return sorted(
                key
                for key, series in self._series.items()
                if recently_active_seconds is None
                or series.last_put >= now - recently_active_seconds
            )
