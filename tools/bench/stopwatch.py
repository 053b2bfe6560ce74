"""Timing a piece of work: median and p95 of repeated runs (NumPy only, so light tools can use it)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np


def timed(function: Callable[[], object], repeats: int, warmup: int = 5) -> dict[str, float]:
    """Median and p95 milliseconds of `function()`, after a warm-up."""
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return {"median": round(statistics.median(samples), 3), "p95": round(float(np.percentile(samples, 95)), 3)}
