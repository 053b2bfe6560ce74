"""Server time of each Draw-panel run, for the benchmark (only with MNIST_APP_TIMING set)."""

from __future__ import annotations

import os
import sys
import time

ENABLED = bool(os.environ.get("MNIST_APP_TIMING"))


def log_rerun(started: float, answered: bool) -> None:
    """One line per run on stderr: `rerun_ms=12.3 answered=1` (one write: threads interleave)."""
    if ENABLED:
        elapsed_ms = (time.perf_counter() - started) * 1000
        sys.stderr.write(f"rerun_ms={elapsed_ms:.1f} answered={int(answered)}\n")
