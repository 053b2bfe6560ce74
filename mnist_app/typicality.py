"""Does an input look like an MNIST digit at all? A check that models' confidence cannot give.

Classifiers trained on digits answer confidently for a smiley or a letter too. Here the input is
projected onto the main directions of variation of MNIST's training digits (PCA); a drawing far
from that space (large reconstruction error) is unlike any digit the models learned from. The
threshold is the 99th percentile of the error on held-out MNIST digits. Pure NumPy.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

COMPONENTS = 20  # enough to draw every digit roughly, too few to draw a smiley or a letter
QUANTILE = 0.99  # 1 % of real MNIST digits are flagged as unusual
FILE_NAME = "digit_space.npz"


@dataclass(frozen=True)
class DigitSpace:
    mean: np.ndarray  # (784,) mean training image
    basis: np.ndarray  # (COMPONENTS, 784) orthonormal principal directions
    threshold: float  # reconstruction error above which an input is atypical

    def error(self, image: np.ndarray) -> float:
        """Distance between a 28x28 input in [0, 1] and its reconstruction from the digit space."""
        centred = np.asarray(image, dtype=np.float32).reshape(-1) - self.mean
        residual = centred - (centred @ self.basis.T) @ self.basis
        return float(np.sqrt(residual @ residual))

    def is_typical(self, image: np.ndarray) -> bool:
        return self.error(image) <= self.threshold


def fit(train_images: np.ndarray, held_out_images: np.ndarray, max_images: int = 20000, seed: int = 0) -> DigitSpace:
    """Principal directions of (a sample of) the training digits; threshold from held-out digits."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(train_images), size=min(max_images, len(train_images)), replace=False)
    x = train_images[picks].reshape(len(picks), -1).astype(np.float32) / 255
    mean = x.mean(axis=0)
    _, _, directions = np.linalg.svd(x - mean, full_matrices=False)
    space = DigitSpace(mean, directions[:COMPONENTS].astype(np.float32), threshold=np.inf)
    errors = [space.error(image.astype(np.float32) / 255) for image in held_out_images]
    return DigitSpace(space.mean, space.basis, float(np.quantile(errors, QUANTILE)))


def save(space: DigitSpace, folder: Path) -> Path:
    """Write atomically, so a reader never sees half a file."""
    path = Path(folder) / FILE_NAME
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz", delete=False) as tmp:
        np.savez(tmp, mean=space.mean, basis=space.basis, threshold=np.float64(space.threshold))
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, path)
    return path


def load(folder: Path) -> DigitSpace | None:
    """The saved digit space, or None when it is missing or unreadable (the check is then skipped)."""
    path = Path(folder) / FILE_NAME
    try:
        with np.load(path, allow_pickle=False) as saved:
            space = DigitSpace(saved["mean"], saved["basis"], float(saved["threshold"]))
    except (OSError, ValueError, KeyError):
        return None
    if space.mean.shape != (784,) or space.basis.shape[1:] != (784,):
        return None
    return space
