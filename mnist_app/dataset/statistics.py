"""Statistics of the MNIST data set for the "Explore the data" tab (pure NumPy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def class_counts(labels: np.ndarray) -> np.ndarray:
    """How many images of each digit 0-9."""
    return np.bincount(labels, minlength=10)


def sample_grid(images: np.ndarray, labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """A mosaic: one row per digit 0-9, `per_class` random examples each, 1-px dark gaps."""
    rng = np.random.default_rng(seed)
    side = images.shape[1] + 1
    mosaic = np.zeros((10 * side, per_class * side), dtype=np.uint8)
    for digit in range(10):
        picks = rng.choice(np.flatnonzero(labels == digit), size=per_class, replace=False)
        for column, index in enumerate(picks):
            mosaic[digit * side : digit * side + side - 1, column * side : column * side + side - 1] = images[index]
    return mosaic


def mean_and_std_per_class(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The average image of each digit and each pixel's standard deviation, both (10, 28, 28) in [0, 1]."""
    means = np.zeros((10, *images.shape[1:]), dtype=np.float32)
    stds = np.zeros_like(means)
    for digit in range(10):
        group = images[labels == digit].astype(np.float32) / 255.0
        means[digit], stds[digit] = group.mean(axis=0), group.std(axis=0)
    return means, stds


def pixel_histogram(images: np.ndarray) -> np.ndarray:
    """How often each grey level 0-255 occurs."""
    return np.bincount(images.ravel(), minlength=256)


def ink_per_image(images: np.ndarray) -> np.ndarray:
    """Total ink of each image, in full-intensity pixel equivalents."""
    return images.reshape(len(images), -1).sum(axis=1, dtype=np.int64) / 255.0


@dataclass(frozen=True)
class PcaMap:
    """A 2-D map of digits: their first two principal components, and how to place a new image on it."""

    indices: np.ndarray  # which training images are on the map
    coordinates: np.ndarray  # (n, 2)
    explained: np.ndarray  # share of the variance along each axis
    mean: np.ndarray  # (784,) mean of the mapped images
    components: np.ndarray  # (2, 784)

    def project(self, image: np.ndarray) -> np.ndarray:
        """Where a 28x28 input in [0, 1] falls on the map (the same projection as the digits)."""
        return (np.asarray(image, np.float32).reshape(-1) - self.mean) @ self.components.T


def pca_2d(images: np.ndarray, count: int, seed: int) -> PcaMap:
    """First two principal components of `count` random images."""
    rng = np.random.default_rng(seed)
    indices = rng.choice(len(images), size=min(count, len(images)), replace=False)
    x = images[indices].reshape(len(indices), -1).astype(np.float32) / 255.0
    mean = x.mean(axis=0)
    x -= mean
    _, singular, components = np.linalg.svd(x, full_matrices=False)
    variance = singular**2
    return PcaMap(indices, x @ components[:2].T, variance[:2] / variance.sum(), mean, components[:2])
