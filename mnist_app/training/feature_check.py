"""Fit the feature check (`mnist_app.serving.feature_check`) on a trained CNN: train.py, after the CNN.

Or on the CNN in models/ alone: `python train.py --models cnn --feature-check-only` (about 5 minutes).

It learns from what the pixel check learns from: 20,000 MNIST training digits, the style set's training
hand (hand 0), printed capitals with that hand's capitals, and 20 drawings of each digit and capital of
every installed typeface family. Its two thresholds are each the largest of the 99.5th percentiles of groups
of held-out digits: MNIST's validation split (which the CNN never trained on), another draw of hand 0, and
each typeface family's digits; its distance from every digit, from the pixel check in the same folder.
tools.reports.feature_check chose it by fitting the same way with each family
left out in turn (docs/families.md).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_app.serving import digit_check as pixel_check
from mnist_app.serving import feature_check
from mnist_app.serving.digit_check import DigitCheck
from mnist_app.serving.feature_check import FeatureCheck, features_of_each
from mnist_app.training.data import TrainingError, prepare_data
from mnist_app.training.digit_check import LETTER_RENDERS, letter_set
from mnist_app.training.handwriting import style_inputs
from mnist_app.training.provenance import provenance
from mnist_app.training.recipes import TrainConfig
from mnist_app.training.typefaces import DIGITS, installed_families, typeface_inputs

if TYPE_CHECKING:
    from mnist_app.serving.predictor import Predictor

MNIST_FITTED = 20000  # training digits the means and covariance are fitted on
FITTED_PER_CHARACTER = 20  # drawings of each digit and capital of each family fitted
QUANTILE = 0.995  # of each group of held-out digits: under the unusual threshold, and under the letter ratio
FAR_QUANTILE = 0.999  # of MNIST's validation digits: nearer every digit, in pixels, than this
SHRINK = 0.01  # of the mean variance added to the covariance's diagonal: the features of rare forms vary more

Group = tuple[np.ndarray, np.ndarray]  # features, and the digit each is judged against


def fit(
    digits: list[tuple[np.ndarray, np.ndarray]], letters: dict[str, np.ndarray], held_out: list[Group]
) -> FeatureCheck:
    """Means and shared covariance from `digits` (features, labels) and `letters` (letter -> features); the
    threshold and the letter ratio from `held_out`, groups of (features, answers), each under its own quantile."""
    f = np.concatenate([x for x, _ in digits])
    y = np.concatenate([labels for _, labels in digits])
    digit_means = np.stack([f[y == d].mean(0) for d in range(10)])
    letter_means = np.stack([x.mean(0) for x in letters.values()])
    centred = np.concatenate([f - digit_means[y], *(x - x.mean(0) for x in letters.values())])
    covariance = centred.T @ centred / len(centred)
    covariance += SHRINK * np.trace(covariance) / len(covariance) * np.eye(len(covariance))
    check = FeatureCheck(digit_means, letter_means, "".join(letters), np.linalg.inv(covariance))
    distances, ratios = [], []
    for group, answers in held_out:
        to_digit, ratio, _ = check.scores(group, answers)
        distances.append(float(np.quantile(to_digit, QUANTILE)))
        ratios.append(float(np.quantile(ratio, QUANTILE)))
    return dataclasses.replace(check, threshold=max(distances), letter_ratio=max(ratios))


@dataclasses.dataclass
class Sources:
    """The features a fit learns from, family by family (the report leaves each family out in turn)."""

    mnist: tuple[np.ndarray, np.ndarray]  # fitted MNIST training digits: features, labels
    hand: tuple[np.ndarray, np.ndarray]  # hand 0
    letters: dict[str, np.ndarray]  # printed capitals and hand 0's capitals
    held_out: list[Group]  # MNIST's validation digits (the CNN's answers), another draw of hand 0 (labels)
    families: dict[str, dict[int | str, np.ndarray]]  # family -> character -> features

    def fit_without(self, left_out: str | None = None, pooled: bool = False) -> FeatureCheck:
        """The check fitted on every family but `left_out` (None: on all of them). `pooled`: the families'
        digits set the thresholds as one group, as the first release fitted it (tools.reports.feature_check)."""
        others = [f for f in self.families if f != left_out]
        letters = {
            letter: np.concatenate([x, *(self.families[f][letter] for f in others if letter in self.families[f])])
            for letter, x in self.letters.items()
        }
        groups = [self.family_digits(f) for f in others]
        if pooled:
            groups = [(np.concatenate([f for f, _ in groups]), np.concatenate([y for _, y in groups]))]
        return fit([self.mnist, self.hand], letters, [*self.held_out, *groups])

    def family_digits(self, family: str) -> Group:
        """One family's digits and their labels: a group of its own, so that every family keeps QUANTILE of its
        digits under the thresholds (pooled, a family with unusual forms could lose more)."""
        faces = self.families[family]
        return np.concatenate([faces[d] for d in range(10)]), np.concatenate(
            [np.full(len(faces[d]), d) for d in range(10)]
        )


def sources(
    cnn: Predictor, config: TrainConfig, data: dict[str, np.ndarray], families: list[str] | None = None
) -> Sources:
    """Every source's features on `cnn` (a Predictor): `data` is train.py's split of MNIST alone (prepare_data)."""
    quick = config.quick
    x_train, y_train = data["x_train"], data["y_train"]
    fitted = min(MNIST_FITTED, len(x_train))
    picks = np.random.default_rng(config.seed).choice(len(x_train), fitted, replace=False)
    draws = config.quick_style_draws if quick else config.style_draws
    hand, hand_labels, _ = style_inputs("train", seed=config.seed, draws=draws)
    more, more_labels, _ = style_inputs("train", seed=config.seed + 1, draws=draws)
    renders = config.quick_letter_renders if quick else LETTER_RENDERS
    letter_images = letter_set(config.seed, renders, draws)
    if families is None:
        families = list(installed_families())[: config.quick_typeface_families if quick else None]
    per_character = config.quick_typeface_draws if quick else FITTED_PER_CHARACTER
    drawn = {
        family: typeface_inputs([family], DIGITS + "".join(letter_images), per_character, seed=config.seed)
        for family in families
    }
    x_val = data["x_val"]
    groups = [x_train[picks], hand, x_val, more, *letter_images.values()]
    groups += [images for faces in drawn.values() for images in faces.values()]
    found = iter(features_of_each(cnn, groups))
    mnist, hand_f, val_f, more_f = (next(found) for _ in range(4))
    return Sources(
        mnist=(mnist, y_train[picks]),
        hand=(hand_f, hand_labels),
        letters={letter: next(found) for letter in letter_images},
        held_out=[(val_f, cnn.predict_batch(_floats(x_val)).argmax(1)), (more_f, more_labels)],
        families={family: {label: next(found) for label in faces} for family, faces in drawn.items()},
    )


def _floats(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images, np.float32)
    return x / 255 if images.dtype == np.uint8 else x


def far_from_digits(pixels: DigitCheck, x_val: np.ndarray) -> float:
    """The pixel check's distance that FAR_QUANTILE of MNIST's validation digits stay under."""
    return float(np.quantile([pixels.error(image) for image in _floats(x_val)], FAR_QUANTILE))


def fit_and_save(cnn: Predictor, config: TrainConfig, data: dict[str, np.ndarray], out_dir: Path) -> Path:
    """Fit the check on every family, for `cnn` (a Predictor) and the pixel check in `out_dir`, and write it there."""
    started = time.perf_counter()
    pixels = pixel_check.load(out_dir)
    if pixels is None:
        raise TrainingError(f"no digit check in {out_dir}: the feature check is measured beside it (train the CNN)")
    check = sources(cnn, config, data).fit_without(None)
    fitted_by = json.dumps(provenance(what="feature check fitted on the CNN's members")[-1])
    check = dataclasses.replace(
        check,
        cnn_members=cnn.members_checksum(),
        provenance=fitted_by,
        far_from_digits=far_from_digits(pixels, data["x_val"]),
        pixel_threshold=pixels.threshold,
    )
    path = feature_check.save(check, out_dir)
    print(
        f"feature check: threshold {check.threshold:.0f}, letter ratio {check.letter_ratio:.2f}, far from digits "
        f"above {check.far_from_digits:.2f}, fitted in {time.perf_counter() - started:.0f} s, written to {path}"
    )
    return path


def fit_in(config: TrainConfig, out_dir: Path) -> Path:
    """Fit the check of the CNN saved in `out_dir` (as the app loads it) and write it there."""
    from mnist_app.serving.model_files import load_model, model_path
    from mnist_app.serving.predictor import Predictor

    cnn = Predictor("cnn", load_model(model_path(out_dir, "cnn")), warm=False)
    return fit_and_save(cnn, config, prepare_data(config), Path(out_dir))  # MNIST alone: its own share of each source
