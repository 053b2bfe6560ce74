"""Where a trained model came from: the commit and the command that trained it, kept in its card.

A card's `provenance` is a list, oldest first: a fine-tuning, a kept member or new experts add one
entry to the record of the run they continue. `docs/models.md` is generated from it (`tools.reports.report`).
"""

from __future__ import annotations

import datetime
import shlex
import subprocess
import sys
from pathlib import Path

from mnist_app.config import ROOT


def provenance(previous: dict | None = None, what: str = "trained") -> list[dict]:
    """The previous card's provenance with this run added."""
    entry = {
        "what": what,
        "commit": current_commit(),
        "command": current_command(),
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    return [*(previous or {}).get("provenance", []), entry]


def current_commit() -> str | None:
    """The checked-out commit, with "+changes" when the training code differs from it; None outside git."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        changed = _git("status", "--porcelain", "--", "mnist_app", "train.py")
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}+changes" if changed else commit


def current_command() -> str | None:
    """`train.py ARGS` when train.py is the program running (None in a test or a notebook)."""
    if Path(sys.argv[0]).name != "train.py":
        return None
    return shlex.join(["train.py", *sys.argv[1:]])


def _git(*args: str) -> str:
    command = ["git", "-C", str(ROOT), *args]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=10).stdout.strip()
