"""Does an input look like a digit, judged on the CNN's own features (Lee et al., NeurIPS 2018)?

A class-conditional Mahalanobis distance on the penultimate features (after the last hidden ReLU) of the
CNN's members, side by side: one mean per digit and per capital letter, one shared covariance. It keeps
the pixel check's (`digit_check`) two rules on features:
1. unusual: the distance to the answered digit's mean is above what 99.5 % of each group of held-out
   digits reach;
2. a letter: the input is nearer a capital's mean than the answered digit's, by a ratio that 99.5 % of each
   group of held-out digits stay under. A letter that is also a way of writing the digit (a B and an 8)
   is named, not held against it.
3. far from every digit: features cannot tell what the CNN never learnt to see (a smiley lands near a 0),
   so an input whose pixels lie further from MNIST's digits than 99.9 % of held-out digits do (the pixel
   check's first distance) is unusual too.
Chosen over the pixel check with whole families of writing left out (docs/families.md). Fitted by
`mnist_app.training.feature_check` (train.py) and stored in models/feature_check.npz.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_app.reading.model_input import model_batch
from mnist_app.serving.digit_check import DigitCheck, Verdict, is_twin

if TYPE_CHECKING:
    from mnist_app.serving.prediction import Predicts

FILE_NAME = "feature_check.npz"


@dataclass
class FeatureCheck:
    """Class-conditional Gaussians with one shared covariance, over the digits and the capitals."""

    digit_means: np.ndarray  # (10, d)
    letter_means: np.ndarray  # (letters, d)
    letters: str
    precision: np.ndarray  # (d, d): the inverse of the shared covariance
    threshold: float = np.inf
    letter_ratio: float = np.inf
    cnn_members: str = ""  # `members_checksum` of the CNN whose features it was fitted on
    far_from_digits: float = np.inf  # the pixel check's distance (`DigitCheck.error`) above which it is unusual
    pixel_threshold: float = np.nan  # that pixel check's own threshold: the one it was measured with
    provenance: str = ""  # JSON: the commit and command that fitted it (mnist_app.training.provenance)

    @functools.cached_property
    def whiten(self) -> np.ndarray:
        """L with precision = L Lᵀ: factored once per check, not per drawing judged."""
        return np.linalg.cholesky(self.precision)

    def distances(self, features: np.ndarray, means: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distance of each row of `features` to each mean: (n, means).

        Measured in whitened coordinates (precision = L Lᵀ, so the distance is |(f - m) L|²): a product of
        three arrays summed in one einsum ran as a plain loop, a minute for MNIST's 10,000 test digits."""
        points, centres = features @ self.whiten, means @ self.whiten
        rows = 2048  # of features at a time: (rows, means, d) floats in memory
        return np.concatenate(
            [((points[i : i + rows, None, :] - centres[None]) ** 2).sum(-1) for i in range(0, len(points), rows)]
        ).reshape(len(points), len(means))

    def scores(self, features: np.ndarray, answers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The distance to the answered digit, its ratio to the nearest capital's, and that capital's index."""
        rows = np.arange(len(features))
        to_digit = self.distances(features, self.digit_means)[rows, answers]
        to_letters = self.distances(features, self.letter_means)
        nearest = to_letters.argmin(1)
        return to_digit, to_digit / np.maximum(to_letters[rows, nearest], 1e-9), nearest

    def verdicts(self, features: np.ndarray, answers: np.ndarray) -> list[Verdict]:
        """One verdict per row of `features`, each judged against its answered digit."""
        to_digit, ratio, nearest = self.scores(features, np.asarray(answers, int))
        verdicts = []
        for distance, r, index, answer in zip(to_digit, ratio, nearest, answers, strict=True):
            letter = self.letters[index] if r > self.letter_ratio else None
            near = bool(distance <= self.threshold)
            verdicts.append(Verdict(near and letter is None, letter, near and is_twin(letter, int(answer))))
        return verdicts


def judge_for(check: FeatureCheck | None, cnn: Predicts | None, pixels: DigitCheck | None) -> FeatureJudge | None:
    """The judge when there is a check fitted on this CNN's members and measured with this pixel check;
    None otherwise (the pixel check then judges alone)."""
    if check is None or cnn is None or pixels is None or check.cnn_members != cnn.members_checksum():
        return None
    if not np.isclose(pixels.threshold, check.pixel_threshold):
        return None
    return FeatureJudge(check, cnn, pixels)


def features_of_each(cnn: Predicts, groups: list[np.ndarray]) -> list[np.ndarray]:
    """The CNN's features of each group of images, computed in one pass: each call of the network costs far
    more than a few more images in it (a fit gathers about a hundred small groups)."""
    together = cnn.features(np.concatenate([model_batch(images) for images in groups]))
    return np.split(together, np.cumsum([len(images) for images in groups])[:-1])


@dataclass
class FeatureJudge:
    """The feature check with the CNN whose features it judges: `verdict(image, digit)`, as the pixel check's."""

    check: FeatureCheck
    cnn: Predicts
    pixels: DigitCheck  # for the distance from every digit

    def verdicts(self, images: np.ndarray, answers: np.ndarray) -> list[Verdict]:
        x = model_batch(images)
        verdicts = self.check.verdicts(self.cnn.features(x), np.asarray(answers, int))
        return [
            Verdict(False, v.letter) if self.pixels.error(image) > self.check.far_from_digits else v
            for image, v in zip(x, verdicts, strict=True)
        ]

    def verdict(self, image: np.ndarray, digit: int) -> Verdict:
        return self.verdicts(np.asarray(image)[None], np.array([digit]))[0]


def save(check: FeatureCheck, folder: Path) -> Path:
    path = Path(folder) / FILE_NAME
    np.savez_compressed(
        path,
        digit_means=check.digit_means,
        letter_means=check.letter_means,
        letters=np.array(check.letters),
        precision=check.precision,
        threshold=np.array(check.threshold),
        letter_ratio=np.array(check.letter_ratio),
        cnn_members=np.array(check.cnn_members),
        provenance=np.array(check.provenance),
        far_from_digits=np.array(check.far_from_digits),
        pixel_threshold=np.array(check.pixel_threshold),
    )
    return path


def load(folder: Path) -> FeatureCheck | None:
    """The saved feature check, or None when it is missing, unreadable or inconsistent (the pixel check then judges)."""
    try:
        with np.load(Path(folder) / FILE_NAME, allow_pickle=False) as saved:
            check = FeatureCheck(
                digit_means=saved["digit_means"],
                letter_means=saved["letter_means"],
                letters=str(saved["letters"]),
                precision=saved["precision"],
                threshold=float(saved["threshold"]),
                letter_ratio=float(saved["letter_ratio"]),
                cnn_members=str(saved["cnn_members"]),
                far_from_digits=float(saved["far_from_digits"]),
                pixel_threshold=float(saved["pixel_threshold"]),
                provenance=str(saved["provenance"]),
            )
    except (OSError, ValueError, KeyError):
        return None
    size = check.precision.shape[0]
    if (
        check.precision.shape != (size, size)
        or check.digit_means.shape != (10, size)
        or check.letter_means.shape != (len(check.letters), size)
        or not np.isfinite(check.threshold)
    ):
        return None
    return check
