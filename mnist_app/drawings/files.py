"""Exported drawings on disk: MNIST-shaped arrays in an .npz (`images` uint8 (n, 28, 28), `labels`)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from mnist_app.config import IMAGE_SIDE


class BadFile(ValueError):
    """An .npz that is not MNIST-shaped drawings; the message says what is wrong."""


def read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """`images` uint8 (n, 28, 28) and `labels` 0-9 from an exported file, checked."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            if "images" not in npz or "labels" not in npz:
                raise BadFile(f"{path} has no 'images' and 'labels' arrays (found: {', '.join(npz.files) or 'none'})")
            images, labels = npz["images"], npz["labels"]
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        if isinstance(error, BadFile):
            raise
        raise BadFile(f"{path} is not an .npz file of drawings (make one with `export`)") from error
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE) or images.dtype != np.uint8:
        raise BadFile(f"{path}: images must be uint8 (n, 28, 28), not {images.dtype} {images.shape}")
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
        raise BadFile(f"{path}: labels must be {len(images)} integers, not {labels.dtype} {labels.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise BadFile(f"{path}: labels must be digits 0-9")
    return images, labels.astype(np.uint8)
