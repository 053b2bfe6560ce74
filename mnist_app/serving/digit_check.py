"""Does an input look like an MNIST digit at all? A check that models' confidence cannot give.

Classifiers trained on digits answer confidently for a smiley or a letter too. Two checks, each
a reconstruction error from principal components (PCA) of MNIST's training digits:
1. all digits together: a drawing far from that space (a smiley, a box) is unlike any digit;
2. the digit the model answered: an "A" read as a 4 is close enough to digits in general, but far
   from how 4s vary (measured: this catches A, H, K, M and X; the first check alone caught none);
3. letters: a "B" read as an 8 is near how 8s vary, but nearer to how printed Bs vary (components
   of each capital letter, from `letters`): flagged when the answered digit's error is much larger
   than the nearest letter's. This catches B, E, R and S, which the first two checks let through.
Thresholds are high percentiles of the errors (or error ratios) of held-out MNIST digits. Pure NumPy.
`python -m mnist_app.serving.digit_check` fits it for the shipped models (train.py does too).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

COMPONENTS = 20  # enough to draw every digit roughly, too few to draw a smiley or a letter
QUANTILE = 0.99  # 1 % of real MNIST digits are flagged as unusual by the first check
CLASS_COMPONENTS = 30  # per digit: how 4s vary, not how digits vary
CLASS_QUANTILE = 0.995  # measured: with the first check, ~1.5 % of MNIST test digits, no drawn digit
CLASS_IMAGES = 4000  # training images per digit for its components
LETTER_COMPONENTS = 12  # per letter, from ~300 varied renderings
LETTER_QUANTILE = 0.995  # 0.5 % of held-out MNIST digits are nearer a letter than this
FILE_NAME = "digit_space.npz"


@dataclass(frozen=True)
class DigitSpace:
    mean: np.ndarray  # (784,) mean training image
    basis: np.ndarray  # (COMPONENTS, 784) orthonormal principal directions
    threshold: float  # reconstruction error above which an input is atypical
    class_means: np.ndarray | None = None  # (10, 784): each digit's mean image
    class_bases: np.ndarray | None = None  # (10, CLASS_COMPONENTS, 784): each digit's directions
    class_thresholds: np.ndarray | None = None  # (10,)
    letters: str = ""  # the letters with components below, in order
    letter_means: np.ndarray | None = None  # (letters, 784)
    letter_bases: np.ndarray | None = None  # (letters, LETTER_COMPONENTS, 784)
    letter_ratio: float = np.inf  # digit error / nearest letter error above which an input is a letter

    def error(self, image: np.ndarray) -> float:
        """Distance between a 28x28 input in [0, 1] and its reconstruction from the digit space."""
        return _residual(image, self.mean, self.basis)

    def class_error(self, image: np.ndarray, digit: int) -> float:
        """The same distance, from how this one digit varies."""
        return _residual(image, self.class_means[digit], self.class_bases[digit])

    def nearest_letter(self, image: np.ndarray, digit: int) -> str | None:
        """The letter this input looks like far more than like the answered digit, if any."""
        if self.letter_bases is None or self.class_bases is None:
            return None
        errors = [
            _residual(image, mean, basis) for mean, basis in zip(self.letter_means, self.letter_bases, strict=True)
        ]
        nearest = int(np.argmin(errors))
        ratio = self.class_error(image, digit) / max(errors[nearest], 1e-6)
        return self.letters[nearest] if ratio > self.letter_ratio else None

    def is_typical(self, image: np.ndarray, digit: int | None = None) -> bool:
        """Near the digits (and, given the answered digit and fitted classes, near that digit's kind)."""
        if self.error(image) > self.threshold:
            return False
        if digit is None or self.class_bases is None:
            return True
        if self.class_error(image, digit) > float(self.class_thresholds[digit]):
            return False
        return self.nearest_letter(image, digit) is None


def _residual(image: np.ndarray, mean: np.ndarray, basis: np.ndarray) -> float:
    centred = np.asarray(image, dtype=np.float32).reshape(-1) - mean
    residual = centred - (centred @ basis.T) @ basis
    return float(np.sqrt(residual @ residual))


def _components(x: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    _, _, directions = np.linalg.svd(x - mean, full_matrices=False)
    return mean.astype(np.float32), directions[:count].astype(np.float32)


def fit(
    train_images: np.ndarray,
    held_out_images: np.ndarray,
    train_labels: np.ndarray | None = None,
    held_out_labels: np.ndarray | None = None,
    max_images: int = 20000,
    seed: int = 0,
) -> DigitSpace:
    """Principal directions of (a sample of) the training digits; thresholds from held-out digits.

    With labels, also one space per digit (the second check)."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(train_images), size=min(max_images, len(train_images)), replace=False)
    mean, basis = _components(train_images[picks].reshape(len(picks), -1).astype(np.float32) / 255, COMPONENTS)
    held_out = held_out_images.reshape(len(held_out_images), -1).astype(np.float32) / 255
    threshold = float(np.quantile([_residual(x, mean, basis) for x in held_out], QUANTILE))
    if train_labels is None or held_out_labels is None:
        return DigitSpace(mean, basis, threshold)
    means, bases, thresholds = [], [], []
    for digit in range(10):
        own = np.flatnonzero(train_labels == digit)[:CLASS_IMAGES]
        class_mean, class_basis = _components(train_images[own].reshape(len(own), -1).astype(np.float32) / 255,
                                              CLASS_COMPONENTS)  # fmt: skip
        errors = [_residual(x, class_mean, class_basis) for x in held_out[held_out_labels == digit]]
        means.append(class_mean)
        bases.append(class_basis)
        thresholds.append(float(np.quantile(errors, CLASS_QUANTILE)))
    space = DigitSpace(mean, basis, threshold, np.stack(means), np.stack(bases), np.array(thresholds, np.float32))
    return _with_letters(space, held_out, held_out_labels, seed)


def _with_letters(space: DigitSpace, held_out: np.ndarray, labels: np.ndarray, seed: int) -> DigitSpace:
    """Add each printed letter's components, and the ratio that 0.5 % of held-out digits exceed."""
    from mnist_app.training.letters import letter_images  # renders fonts: needed only when fitting

    letters = letter_images(seed=seed)
    fitted = [_components(images.reshape(len(images), -1), LETTER_COMPONENTS) for images in letters.values()]
    means, bases = (np.stack(parts) for parts in zip(*fitted, strict=True))
    space = dataclasses.replace(space, letters="".join(letters), letter_means=means, letter_bases=bases)
    ratios = []
    for image, digit in zip(held_out, labels, strict=True):
        nearest = min(_residual(image, m, b) for m, b in zip(means, bases, strict=True))
        ratios.append(space.class_error(image, int(digit)) / max(nearest, 1e-6))
    return dataclasses.replace(space, letter_ratio=float(np.quantile(ratios, LETTER_QUANTILE)))


def save(space: DigitSpace, folder: Path) -> Path:
    """Write atomically, so a reader never sees half a file."""
    path = Path(folder) / FILE_NAME
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz", delete=False) as tmp:
        classes = {}
        if space.class_bases is not None:
            classes = {"class_means": space.class_means, "class_bases": space.class_bases,
                       "class_thresholds": space.class_thresholds}  # fmt: skip
        if space.letter_bases is not None:
            classes |= {"letters": np.array(space.letters), "letter_means": space.letter_means,
                        "letter_bases": space.letter_bases, "letter_ratio": np.float64(space.letter_ratio)}  # fmt: skip
        np.savez(tmp, mean=space.mean, basis=space.basis, threshold=np.float64(space.threshold), **classes)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, path)
    return path


def load(folder: Path) -> DigitSpace | None:
    """The saved digit space, or None when it is missing or unreadable (the check is then skipped)."""
    path = Path(folder) / FILE_NAME
    try:
        with np.load(path, allow_pickle=False) as saved:
            classes = [saved.get(key) for key in ("class_means", "class_bases", "class_thresholds")]
            space = DigitSpace(saved["mean"], saved["basis"], float(saved["threshold"]), *classes)
            if "letter_bases" in saved:
                space = dataclasses.replace(space, letters=str(saved["letters"]), letter_means=saved["letter_means"],
                                            letter_bases=saved["letter_bases"],
                                            letter_ratio=float(saved["letter_ratio"]))  # fmt: skip
    except (OSError, ValueError, KeyError):
        return None
    if space.mean.shape != (784,) or space.basis.shape[1:] != (784,):
        return None
    if space.class_bases is not None and (
        space.class_means.shape != (10, 784) or space.class_bases.shape[::2] != (10, 784)
        or space.class_thresholds.shape != (10,)
    ):  # fmt: skip
        return None
    if space.letter_bases is not None and (
        space.letter_means.shape != (len(space.letters), 784)
        or space.letter_bases.shape[::2] != (len(space.letters), 784)
    ):
        return None
    return space


def main(argv: list[str] | None = None) -> int:
    """Fit the digit space on the training split that train.py uses, and write it to models/."""
    import argparse

    from mnist_app.config import MODELS_DIR
    from mnist_app.training.data import prepare_data
    from mnist_app.training.recipes import TrainConfig

    parser = argparse.ArgumentParser(prog="python -m mnist_app.serving.digit_check", description=main.__doc__)
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    data = prepare_data(TrainConfig(seed=args.seed))
    space = fit(data["x_train"], data["x_val"], data["y_train"], data["y_val"], seed=args.seed)
    print(f"digit space: threshold {space.threshold:.2f}, written to {save(space, args.models_dir)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
