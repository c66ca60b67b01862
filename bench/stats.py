"""Percentiles of repeated timings."""
from __future__ import annotations

import math
import time
from collections.abc import Callable


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    return {"runs": len(ordered), "p50_ms": percentile(ordered, 0.50) * 1000,
            "p99_ms": percentile(ordered, 0.99) * 1000,
            "mean_ms": sum(ordered) / len(ordered) * 1000, "max_ms": ordered[-1] * 1000}


def time_calls(call: Callable[[], object], runs: int, warmup: int = 5) -> dict:
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    return summarize(seconds)
