"""Fit the "does this look like a digit?" check (`mnist_app.serving.digit_check`) and save it.

1. `fit`: principal components of (a sample of) the training digits, all together and per digit;
   thresholds from the errors of held-out digits;
2. `with_letters`: components of printed capital letters (`letters`) and of the style set's drawn
   capitals (hand 0), and the ratio of a digit's error to the nearest letter's that held-out digits exceed;
With the style set (`styles`, hand 0 only), each digit's components learn its forms too (flagged
1s, crossed 7s, open 0s), and the thresholds are set on held-out MNIST digits plus another draw of
that hand: a digit in a style MNIST lacks is a digit, not an unusual drawing or a letter.
3. `save`: models/digit_check.npz, atomically. `python -m mnist_app.training.digit_check` refits it
   for the shipped models (train.py does too).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from mnist_app.atomic_files import write_npz
from mnist_app.config import MODELS_DIR
from mnist_app.serving.digit_check import FILE_NAME, DigitCheck, residual, residuals
from mnist_app.training.data import add_style_drawings, prepare_data
from mnist_app.training.handwriting import letter_inputs, style_inputs
from mnist_app.training.letters import letter_images
from mnist_app.training.recipes import TrainConfig
from mnist_app.training.typefaces import DIGITS, installed_families, typeface_inputs

COMPONENTS = 20  # enough to draw every digit roughly, too few to draw a smiley or a letter
QUANTILE = 0.99  # 1 % of real MNIST digits are flagged as unusual by the first check
CLASS_COMPONENTS = 30  # per digit: how 4s vary, not how digits vary
CLASS_QUANTILE = 0.995  # with the first check, a small share of MNIST digits and no drawn digit (docs/results.md)
CLASS_IMAGES = 4000  # training images per digit for its components
LETTER_COMPONENTS = 20  # per letter: printed, drawn and 18 typefaces' forms (docs/families.md chose 20 over 12)
LETTER_RENDERS = 300  # varied renderings of each letter its components are fitted on
LETTER_QUANTILE = 0.995  # 0.5 % of held-out MNIST digits are nearer a letter than this


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
    letter_renders: int = LETTER_RENDERS,
    styles: tuple[np.ndarray, np.ndarray] | None = None,
    style_draws: int = 0,
    typeface_draws: int = 0,
    typeface_families: int | None = None,
) -> DigitCheck:
    """Principal directions of (a sample of) the training digits; thresholds from held-out digits.

    With labels, also one check per digit (the second check). With `styles` (the style set's
    training drawings, uint8, and labels), each digit's components include its styles, and
    another `style_draws` drawings of each style join the held-out digits. With `typeface_draws`, that many
    drawings of each capital of every installed typeface family join the letters, and of each digit the
    held-out digits that set the letter ratio (`typeface_part`); `typeface_families` takes only the first that many."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(train_images), size=min(max_images, len(train_images)), replace=False)
    mean, basis = _components(train_images[picks].reshape(len(picks), -1).astype(np.float32) / 255, COMPONENTS)
    held_out = held_out_images.reshape(len(held_out_images), -1).astype(np.float32) / 255
    threshold = float(np.quantile([residual(x, mean, basis) for x in held_out], QUANTILE))
    if train_labels is None or held_out_labels is None:
        return DigitCheck(mean, basis, threshold)
    held_out, held_out_labels, groups = held_out_digits(
        held_out, held_out_labels, seed, style_draws if styles else None
    )
    means, bases, thresholds = [], [], []
    for digit in range(10):
        own = train_images[np.flatnonzero(train_labels == digit)[:CLASS_IMAGES]]
        if styles is not None:
            own = np.concatenate([own, styles[0][styles[1] == digit]])
        class_mean, class_basis = _components(own.reshape(len(own), -1).astype(np.float32) / 255, CLASS_COMPONENTS)
        errors = [residual(x, class_mean, class_basis) for x in held_out[held_out_labels == digit]]
        means.append(class_mean)
        bases.append(class_basis)
        thresholds.append(_quantile_of_each(np.array(errors), groups[held_out_labels == digit], CLASS_QUANTILE))
    check = DigitCheck(mean, basis, threshold, np.stack(means), np.stack(bases), np.array(thresholds, np.float32))
    letters = letter_set(seed, letter_renders, style_draws if styles else 0)
    if typeface_draws:
        families = tuple(installed_families())[:typeface_families]
        faces = typeface_inputs(families, DIGITS + "".join(letters), typeface_draws, seed)
        letters, held_out, held_out_labels, groups = typeface_part(faces, letters, held_out, held_out_labels, groups)
    return with_letters(check, held_out, held_out_labels, groups, letters)


def held_out_digits(
    mnist: np.ndarray, labels: np.ndarray, seed: int, style_draws: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The digits the thresholds are set on (flat, in [0, 1]), their labels and groups: MNIST's held-out digits
    (group 0) and, with `style_draws`, a fresh draw of the style set's training hand (group 1), so that no
    threshold is set on fitted drawings. Each group sets its own quantile."""
    groups = np.zeros(len(mnist), int)
    if style_draws is None:
        return mnist, labels, groups
    more, more_labels, _ = style_inputs("train", seed=seed + 1, draws=style_draws)
    return (
        np.concatenate([mnist, more.reshape(len(more), -1).astype(np.float32) / 255]),
        np.concatenate([labels, more_labels]),
        np.concatenate([groups, np.ones(len(more), int)]),
    )


def typeface_part(
    faces: dict[int | str, np.ndarray],
    letters: dict[str, np.ndarray],
    held_out: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Typefaces' capitals (`faces`, from `typefaces.typeface_inputs`) added to `letters`, and their digits to the
    held-out digits as a group of their own: a digit in a typeface is a digit, and the ratio keeps 99.5 % of them
    below it too. Leave-one-family-out measurement (tools/reports/family_check.py) chose this, and reports it."""
    letters = {
        letter: np.concatenate([images, faces[letter]]) if letter in faces else images
        for letter, images in letters.items()
    }
    digits = [(faces[d], d) for d in range(10) if d in faces]
    if not digits:
        return letters, held_out, labels, groups
    more = np.concatenate([x.reshape(len(x), -1) for x, _ in digits])
    more_labels = np.concatenate([np.full(len(x), d) for x, d in digits])
    return (
        letters,
        np.concatenate([held_out, more]),
        np.concatenate([labels, more_labels]),
        np.concatenate([groups, np.full(len(more), int(groups.max()) + 1)]),
    )


def _quantile_of_each(values: np.ndarray, groups: np.ndarray, quantile: float) -> float:
    """The largest of the groups' quantiles: MNIST's digits and the style set's each stay under their own."""
    return max(float(np.quantile(values[groups == group], quantile)) for group in np.unique(groups))


def letter_set(seed: int, renders: int, drawn: int) -> dict[str, np.ndarray]:
    """The capitals the letter part learns from: `renders` printed renderings of each, and `drawn` drawings of
    each capital of the style set's training hand."""
    letters = letter_images(per_letter=renders, seed=seed)
    if drawn:
        for letter, images in letter_inputs("train", seed=seed, draws=drawn).items():
            letters[letter] = np.concatenate([letters[letter], images]) if letter in letters else images
    return letters


def with_letters(
    check: DigitCheck, held_out: np.ndarray, labels: np.ndarray, groups: np.ndarray, letters: dict[str, np.ndarray]
) -> DigitCheck:
    """Add each letter's components (from `letters`, letter -> (n, 28, 28) inputs), and the ratio that 0.5 % of
    each group of held-out digits (flat inputs, their labels and groups) exceed."""
    fitted = [_components(images.reshape(len(images), -1), LETTER_COMPONENTS) for images in letters.values()]
    means, bases = (np.stack(parts) for parts in zip(*fitted, strict=True))
    check = dataclasses.replace(check, letters="".join(letters), letter_means=means, letter_bases=bases)
    ratios = []
    for image, digit in zip(held_out, labels, strict=True):
        nearest = float(residuals(image, means, bases).min())
        ratios.append(check.class_error(image, int(digit)) / max(nearest, 1e-6))
    return dataclasses.replace(check, letter_ratio=_quantile_of_each(np.array(ratios), groups, LETTER_QUANTILE))


def save(check: DigitCheck, folder: Path) -> Path:
    """Write models/digit_check.npz (or FILE_NAME in `folder`); returns its path."""
    path = Path(folder) / FILE_NAME
    classes = {}
    if check.class_bases is not None:
        classes = {
            "class_means": check.class_means,
            "class_bases": check.class_bases,
            "class_thresholds": check.class_thresholds,
        }
    if check.letter_bases is not None:
        classes |= {
            "letters": np.array(check.letters),
            "letter_means": check.letter_means,
            "letter_bases": check.letter_bases,
            "letter_ratio": np.float64(check.letter_ratio),
        }
    write_npz(path, mean=check.mean, basis=check.basis, threshold=np.float64(check.threshold), **classes)
    return path


def main(argv: list[str] | None = None) -> int:
    """Fit the digit check on the training split that train.py uses, and write it to models/."""
    parser = argparse.ArgumentParser(prog="python -m mnist_app.training.digit_check", description=main.__doc__)
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    config = TrainConfig(seed=args.seed)
    data = prepare_data(config)
    add_style_drawings(data, config)  # as train.py's data: MNIST's training split and the style set's hand 0
    check = fit(
        data["x_train"],
        data["x_val"],
        data["y_train"],
        data["y_val"],
        seed=args.seed,
        styles=(data["style_images"], data["style_labels"]),
        style_draws=config.style_draws,
        typeface_draws=config.typeface_draws,
    )
    print(f"digit check: threshold {check.threshold:.2f}, written to {save(check, args.models_dir)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
