"""Files written so that a reader sees the old file or the new one, never half of one.

Every writer of a model, a card, a cache or the digit check goes through `atomic_path`: the
content goes to a temporary file beside the target, which replaces it only once complete
(`os.replace` is atomic within one file system). An interrupted write leaves the old file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` (not yet created) that replaces it only if the block finishes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temporary_prefix(path), suffix=path.suffix)
    os.close(fd)
    os.unlink(tmp)  # some writers (Keras) insist on creating the file themselves
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; shipped files are read by other users (Docker)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _temporary_prefix(path: Path) -> str:
    return f".{path.stem}-"


def remove_leftovers(path: Path) -> list[Path]:
    """Delete the temporary files of `path` that a killed process left behind (`finally` never ran).
    Call it only while no other process can be writing `path`, e.g. while holding its lock."""
    leftovers = sorted(Path(path).parent.glob(f"{_temporary_prefix(Path(path))}*{Path(path).suffix}"))
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    return leftovers


def write_json(path: Path, content: dict) -> None:
    """JSON, indented for diffs."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(content, indent=1) + "\n")


def write_npz(path: Path, compressed: bool = False, **arrays: np.ndarray) -> None:
    """NumPy arrays by name, as `np.savez` (or `np.savez_compressed`) writes them."""
    save = np.savez_compressed if compressed else np.savez
    with atomic_path(path) as tmp:
        save(tmp, **arrays)
