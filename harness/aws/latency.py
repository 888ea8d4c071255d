"""Latency histograms that add up across processes and shards.

Buckets are log-spaced, four per doubling (bucket k holds latencies up to 2^(k/4) ms, k >= -8), so a
percentile read from a merged histogram is the upper bound of its bucket: at most ~19 % high, and
never above the observed maximum.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

_PER_DOUBLING = 4
_SMALLEST = -8                               # 0.25 ms: anything faster shares this bucket


def bucket(ms: float) -> int:
    """The bucket of a latency in milliseconds."""
    if ms <= 0:
        return _SMALLEST
    return max(_SMALLEST, math.ceil(math.log2(ms) * _PER_DOUBLING - 1e-9))


def upper_ms(index: int) -> float:
    """The largest latency bucket `index` holds."""
    return 2 ** (index / _PER_DOUBLING)


def added(histograms: Iterable[Mapping[int | str, int]]) -> dict[int, int]:
    """The sum of histograms (keys may be ints or, after JSON, strings)."""
    total: dict[int, int] = {}
    for histogram in histograms:
        for index, count in histogram.items():
            total[int(index)] = total.get(int(index), 0) + int(count)
    return total


def percentile(histogram: Mapping[int, int], q: float, max_ms: float) -> float | None:
    """The q-quantile (0 < q <= 1) in ms: its bucket's upper bound, capped at `max_ms`; None when empty."""
    calls = sum(histogram.values())
    if not calls:
        return None
    rank, seen = max(1, math.ceil(q * calls)), 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return round(min(upper_ms(index), max_ms), 1)
    return round(max_ms, 1)


def latency_ms(histogram: Mapping[int, int], max_ms: float) -> dict[str, float | None]:
    """`{"p50", "p95", "max"}` in ms."""
    return {"p50": percentile(histogram, 0.5, max_ms), "p95": percentile(histogram, 0.95, max_ms),
            "max": round(max_ms, 1) if histogram else None}
