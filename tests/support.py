"""Helpers that several test files share (fixtures live in conftest.py)."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from mnist_app.config import ROOT

if TYPE_CHECKING:  # collecting the tests imports this file: no models or TensorFlow here
    from mnist_app.serving.reader import Reader
    from mnist_app.serving.readings import NumberReading

TRAIN = [sys.executable, str(ROOT / "train.py")]  # train.py as a process of its own


def computed_once(path: Path, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """`compute()`'s arrays, shared through `path` by the test processes of one run: the first to ask
    computes and writes them while the others wait on a lock, then read them."""
    with path.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if path.is_file():
            with np.load(path) as saved:
                return {name: saved[name] for name in saved.files}
        arrays = compute()
        written = path.with_name(f".{path.stem}.partial.npz")
        np.savez(written, **arrays)
        written.replace(path)
        return arrays


def run_in_process(
    main: Callable[[list[str]], int], args: list[str], capsys: pytest.CaptureFixture
) -> subprocess.CompletedProcess:
    """A command-line `main(ARGS)` run in this process, its exit code and output as `subprocess.run` gives
    them: the same code as the command, without starting Python and TensorFlow again."""
    capsys.readouterr()  # what the test printed before is not the command's
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse refuses bad arguments this way
        code = exit_.code
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess([main.__module__, *args], code, out, err)


def train_cli(args: list[str], capsys: pytest.CaptureFixture) -> subprocess.CompletedProcess:
    """`python train.py ARGS`, run in this process."""
    import train  # the script at the top of the repository (pytest puts the root on the path)

    return run_in_process(train.main, args, capsys)


def specks_beside_305(reader: Reader) -> NumberReading:
    """A drawn 305 read by `reader`, with dust in a corner and another speck low between the 3 and the 0."""
    from tools.inputs.number_images import drawn_number

    image = drawn_number("305", np.random.default_rng(1), pen=8).copy()
    image[3:6, 3:6, :3] = 255
    image[-5:-3, 60:62, :3] = 255
    return reader.read_number(image, polarity="light")
