"""Percentiles and rates, the one way every section computes them."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (0 <= fraction <= 1) of `values`; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def latency_ms(seconds: Sequence[float]) -> dict[str, float]:
    return {
        f"p{int(q * 100)}_ms": round(percentile(seconds, q) * 1000, 1) for q in (0.5, 0.95, 0.99)
    }


def per_second(times: Sequence[float], start: float, bucket: float = 1.0) -> list[int]:
    """How many of `times` (seconds) fall in each `bucket`-second window after `start`."""
    if not times:
        return []
    buckets = [0] * (int((max(times) - start) / bucket) + 1)
    for at in times:
        buckets[max(0, int((at - start) / bucket))] += 1
    return buckets
