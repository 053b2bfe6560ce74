"""Does an input look like an MNIST digit at all? A check that models' confidence cannot give.

Classifiers trained on digits answer confidently for a smiley or a letter too. Two checks, each
a reconstruction error from principal components (PCA) of MNIST's training digits:
1. all digits together: a drawing far from that space (a smiley, a box) is unlike any digit;
2. the digit the model answered: an "A" read as a 4 is close enough to digits in general, but far
   from how 4s vary (this catches capitals the first check alone lets through);
3. letters: a "B" read as an 8 is near how 8s vary, but nearer to how printed Bs vary (components
   of each capital letter, from `letters`): flagged when the answered digit's error is much larger
   than the nearest letter's. This catches B, E, R and S, which the first two checks let through.
Thresholds are high percentiles of the errors (or error ratios) of held-out MNIST digits. Pure NumPy.
Fitted by `mnist_app.training.digit_check` (train.py) and stored in models/digit_check.npz.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE_NAME = "digit_check.npz"
# Letters that are also how people write a digit: the page says it could be either, and does not accuse.
DIGIT_TWINS = {"S": 5, "O": 0, "I": 1, "Z": 2, "B": 8, "G": 6}


def is_twin(letter: str | None, digit: int | None) -> bool:
    """Whether `letter` is also a way of writing `digit` (a B and an 8): then neither reading is wrong."""
    return letter is not None and digit is not None and DIGIT_TWINS.get(letter) == digit


@dataclass(frozen=True)
class DigitCheck:
    """Principal components of MNIST digits (all, per digit, and of printed letters) and their thresholds."""

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
        """Distance between a 28x28 input in [0, 1] and its reconstruction from the digits."""
        return residual(image, self.mean, self.basis)

    def class_error(self, image: np.ndarray, digit: int) -> float:
        """The same distance, from how this one digit varies."""
        return residual(image, self.class_means[digit], self.class_bases[digit])

    def nearest_letter(self, image: np.ndarray, digit: int, digit_error: float | None = None) -> str | None:
        """The letter this input looks like far more than like the answered digit, if any (`digit_error`: its
        `class_error`, when already known)."""
        if self.letter_bases is None or self.class_bases is None:
            return None
        errors = residuals(image, self.letter_means, self.letter_bases)
        nearest = int(np.argmin(errors))
        digit_error = self.class_error(image, digit) if digit_error is None else digit_error
        ratio = digit_error / max(errors[nearest], 1e-6)
        return self.letters[nearest] if ratio > self.letter_ratio else None

    def verdict(self, image: np.ndarray, digit: int | None = None) -> Verdict:
        """Near the digits (and, given the answered digit and fitted classes, near that digit's kind, and
        nearer to it than to a letter); the letter it is nearer to, and whether that letter is the digit's twin."""
        near_digits = self.error(image) <= self.threshold
        if digit is None or self.class_bases is None:
            return Verdict(near_digits)
        digit_error = self.class_error(image, digit)
        letter = self.nearest_letter(image, digit, digit_error)  # named even when the other checks fail too
        near_its_kind = near_digits and digit_error <= float(self.class_thresholds[digit])
        return Verdict(near_its_kind and letter is None, letter, near_its_kind and is_twin(letter, digit))

    def verdicts(self, images: np.ndarray, answers: np.ndarray) -> list[Verdict]:
        """One verdict per image, each judged against its answered digit (as the feature check's judge answers)."""
        return [self.verdict(image, int(answer)) for image, answer in zip(images, answers, strict=True)]

    def is_typical(self, image: np.ndarray, digit: int | None = None) -> bool:
        """`verdict`'s answer alone: a twin letter counts as not typical (the page still names the letter)."""
        return self.verdict(image, digit).typical


@dataclass(frozen=True)
class Verdict:
    """What the check says of one input, judged against the answered digit."""

    typical: bool
    letter: str | None = None  # the capital letter it is nearer to than to the digit, if any
    twin: bool = False  # only that letter is against it, and it is a way of writing the digit (a B and an 8)

    @property
    def looks_like_a_digit(self) -> bool:
        """Typical, or only a twin letter against it: nothing to hold back."""
        return self.typical or self.twin


def residual(image: np.ndarray, mean: np.ndarray, basis: np.ndarray) -> float:
    """How far `image` lies from the check spanned by `basis` around `mean` (Euclidean, in pixel units)."""
    centred = np.asarray(image, dtype=np.float32).reshape(-1) - mean
    residual = centred - (centred @ basis.T) @ basis
    return float(np.sqrt(residual @ residual))


def residuals(image: np.ndarray, means: np.ndarray, bases: np.ndarray) -> np.ndarray:
    """`residual` from each of several checks at once: `means` (n, 784), `bases` (n, components, 784)."""
    centred = np.asarray(image, dtype=np.float32).reshape(1, -1) - means
    coefficients = np.matmul(bases, centred[:, :, None])  # (n, components, 1)
    rest = centred - np.matmul(coefficients.transpose(0, 2, 1), bases)[:, 0]
    return np.sqrt(np.sum(rest * rest, axis=1))


def load(folder: Path) -> DigitCheck | None:
    """The saved digit check, or None when it is missing or unreadable (the check is then skipped)."""
    path = Path(folder) / FILE_NAME
    try:
        with np.load(path, allow_pickle=False) as saved:
            classes = [saved.get(key) for key in ("class_means", "class_bases", "class_thresholds")]
            check = DigitCheck(saved["mean"], saved["basis"], float(saved["threshold"]), *classes)
            if "letter_bases" in saved:
                check = dataclasses.replace(
                    check,
                    letters=str(saved["letters"]),
                    letter_means=saved["letter_means"],
                    letter_bases=saved["letter_bases"],
                    letter_ratio=float(saved["letter_ratio"]),
                )
    except (OSError, ValueError, KeyError):
        return None
    if check.mean.shape != (784,) or check.basis.shape[1:] != (784,):
        return None
    if check.class_bases is not None and (
        check.class_means.shape != (10, 784)
        or check.class_bases.shape[::2] != (10, 784)
        or check.class_thresholds.shape != (10,)
    ):
        return None
    if check.letter_bases is not None and (
        check.letter_means.shape != (len(check.letters), 784)
        or check.letter_bases.shape[::2] != (len(check.letters), 784)
    ):
        return None
    return check
