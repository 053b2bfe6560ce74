"""What the networks learn from: the seeded split, the room's drawings, degraded copies, and batches.

`prepare_data` also serves calibration and the digit space: they fit on the validation split that
training held out.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from mnist_app.dataset.mnist import load_mnist
from mnist_app.training.augment import augment_batch, degraded_copies, soft_copies
from mnist_app.training.recipes import ModelSpec, TrainConfig


class TrainingError(RuntimeError):
    """Training cannot start or finish; the message says why."""


def prepare_data(config: TrainConfig) -> dict[str, np.ndarray]:
    """Train/validation split of the 60,000 training images (seeded) and the test set, as uint8."""
    (x_train, y_train), (x_test, y_test) = load_mnist()
    checksum = hashlib.sha256()
    for array in (x_train, y_train, x_test, y_test):
        checksum.update(array.tobytes())
    order = np.random.default_rng(config.seed).permutation(len(x_train))
    validation, train = order[: config.validation_size], order[config.validation_size :]
    if config.quick:
        train, validation = train[: config.quick_train_size], validation[: config.quick_train_size // 4]
        x_test, y_test = x_test[: config.quick_test_size], y_test[: config.quick_test_size]
    return {
        "x_train": x_train[train],
        "y_train": y_train[train],
        "x_val": x_train[validation],
        "y_val": y_train[validation],
        "x_test": x_test,
        "y_test": y_test,
        "checksum": np.array(checksum.hexdigest()),
    }


def add_extra_drawings(data: dict[str, np.ndarray], config: TrainConfig) -> None:
    """Append the exported drawings to the training split only, repeated to `extra_share` of it.

    The test set stays MNIST's own: a drawing identical to a test image is dropped, so an exported
    room that happens to hold test digits cannot leak them into training.
    """
    from mnist_app.drawings.files import read_npz

    images, labels = read_npz(Path(config.extra_data))
    test_digests = {image.tobytes() for image in data["x_test"]}
    keep = np.array([image.tobytes() not in test_digests for image in images], dtype=bool)
    images, labels = images[keep], labels[keep]
    if not len(images):
        raise TrainingError(f"{config.extra_data} holds no drawings to learn from (after dropping MNIST test images)")
    repeats = _append_repeated(data, images, labels, config.extra_share)
    data["extra"] = {
        "file": Path(config.extra_data).name,
        "drawings": int(len(images)),
        "dropped_test_images": int((~keep).sum()),
        "repeats": repeats,
    }
    print(f"fine-tuning on MNIST plus {len(images)} drawings x{repeats} from {config.extra_data}")


def add_style_drawings(data: dict[str, np.ndarray], config: TrainConfig) -> None:
    """Append the style set's training hand (`styles.style_inputs("train")`) to the training split;
    its held-out hand never enters a run. Kept in data["styles"] for the digit check."""
    from mnist_app.training.handwriting import style_inputs

    started = time.perf_counter()
    draws = config.quick_style_draws if config.quick else config.style_draws
    images, labels, styles = style_inputs("train", seed=config.seed, draws=draws)
    repeats = _append_repeated(data, images, labels, config.extra_share)
    data["style_images"], data["style_labels"] = images, labels
    data["extra"] = data.get("extra", {}) | {
        "styles": {"drawings": int(len(images)), "forms": len(set(styles)), "repeats": repeats}
    }
    print(
        f"training on MNIST plus {len(images)} style-set drawings ({len(set(styles))} forms) x{repeats}, "
        f"drawn in {time.perf_counter() - started:.0f} s"
    )


def _append_repeated(data: dict[str, np.ndarray], images: np.ndarray, labels: np.ndarray, share: float) -> int:
    """Append images to the training split, repeated to make up about `share` of it (at least once)."""
    repeats = max(1, int(round(share * len(data["x_train"]) / len(images))))
    data["x_train"] = np.concatenate([data["x_train"], np.repeat(images, repeats, axis=0)])
    data["y_train"] = np.concatenate([data["y_train"], np.repeat(labels, repeats)])
    return repeats


def batches(
    images: np.ndarray,
    labels: np.ndarray,
    spec: ModelSpec,
    seed: int,
    train: bool,
    degraded: np.ndarray | None = None,
) -> tf.data.Dataset:
    """Batches of (float images, labels); shuffled and augmented when training.

    With `degraded` (one degraded copy per image), a random `spec.degraded_share` of each batch
    is the degraded copy instead of the clean scan.
    """
    if degraded is None:
        degraded = images
    ds = tf.data.Dataset.from_tensor_slices((images, degraded, labels.astype(np.int32)))
    if train:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(spec.batch_size)
    ds = ds.map(lambda x, d, y: (_mix(x, d, spec.degraded_share if train else 0.0), y))
    if train and spec.augment:
        ds = ds.map(lambda x, y: (augment_batch(x), y))
    return ds.prefetch(tf.data.AUTOTUNE)


def _mix(clean: tf.Tensor, degraded: tf.Tensor, share: float) -> tf.Tensor:
    """uint8 batches -> float (n, 28, 28, 1) in [0, 1], taking the degraded copy for `share` of them."""
    if share > 0:
        pick = tf.random.uniform([tf.shape(clean)[0], 1, 1]) < share
        clean = tf.where(pick, degraded, clean)
    return tf.cast(clean, tf.float32)[..., None] / 255.0


def data_card(data: dict[str, np.ndarray]) -> dict:
    """What a model card records of its data: the checksum and the size of each split."""
    return {
        "sha256": str(data["checksum"]),
        "train_images": len(data["x_train"]),
        "validation_images": len(data["x_val"]),
        "test_images": len(data["x_test"]),
    }


def training_copies(data: dict[str, np.ndarray], seed: int, soft: bool = False) -> np.ndarray:
    """Degraded copies (`augment.degraded_copies`, or `soft_copies` for the soft-ink experts) of the
    training digits, made once per run and seed (about 2 ms an image) and shared by every model."""
    key = f"x_train_{'soft' if soft else 'degraded'}_{seed}"
    if key not in data:
        started = time.perf_counter()
        data[key] = (soft_copies if soft else degraded_copies)(data["x_train"], seed)
        print(f"{key[8:]} copies of {len(data['x_train'])} training digits in {time.perf_counter() - started:.0f} s")
    return data[key]
