"""The code stays ruff-clean (the same checks as `make lint`)."""

from __future__ import annotations

import subprocess
import sys

from mnist_app.config import ROOT


def test_ruff_check_and_format():
    for command in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run([sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
