"""The one shape every model takes: a batch of 28x28 single-channel float images in [0, 1]."""

from __future__ import annotations

import numpy as np

from mnist_app.config import IMAGE_SIDE


def model_batch(images: np.ndarray) -> np.ndarray:
    """(28, 28), (n, 28, 28) or (n, 28, 28, 1) images -> float32 (n, 28, 28, 1) in [0, 1].

    uint8 images (MNIST's own) are scaled from 0-255; float images are taken as already in [0, 1]."""
    array = np.asarray(images)
    x = array.astype(np.float32) / 255.0 if array.dtype == np.uint8 else array.astype(np.float32, copy=False)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[..., None]
    if x.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE, 1):
        raise ValueError(f"expected 28x28 images, got shape {np.shape(images)}")
    return x
