"""What a server process costs, read from Linux's /proc: its CPU time and its memory.

Shared by make bench, make loadtest (browsers and Locust) and the load test.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def server_pid(url: str) -> int | None:
    """The process serving the app on this URL's port (found by its command line)."""
    port = url.rsplit(":", 1)[1]
    pids = subprocess.run(["pgrep", "-f", f"server.port {port}"], capture_output=True, text=True).stdout.split()
    return int(pids[0]) if pids else None


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process so far."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def memory_mb(pid: int | None, field: str = "VmRSS") -> float | None:
    """Resident memory now ("VmRSS") or at its peak ("VmHWM"), in MB."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
