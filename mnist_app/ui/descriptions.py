"""Text alternatives: what each image and chart shows, in words, for screen readers (`alt`, `aria-label`)."""

from __future__ import annotations

import numpy as np

from mnist_app.config import MODEL_TITLES
from mnist_app.serving.prediction import Prediction

PARTS = ("top", "middle", "bottom")


def answer_words(prediction: Prediction) -> str:
    """'CNN: 7, 99 % sure', or 'CNN: not sure; likeliest 7 (45 %), 1 (30 %), 4 (10 %)'."""
    title = MODEL_TITLES[prediction.model]
    if prediction.sure:
        return f"{title}: {prediction.digit}, {prediction.confidence:.0%} sure"
    top = ", ".join(f"{digit} ({p:.0%})" for digit, p in prediction.top(3))
    return f"{title}: not sure; likeliest {top}"


def announcement(predictions: list[Prediction]) -> str:
    """What the live region says when the answers change."""
    return ". ".join(answer_words(p) for p in predictions) + "."


def number_announcement(predictions: dict[str, list[Prediction]]) -> str:
    """'ANN: 123. CNN: 128.' (a digit the model is not sure of is said as 'not sure')."""
    said = {}
    for name, digits in predictions.items():
        words = [str(p.digit) if p.sure else "not sure" for p in digits]
        said[name] = ", ".join(words) if "not sure" in words else "".join(words)
    return ". ".join(f"{MODEL_TITLES[name]}: {words}" for name, words in said.items()) + "."


def model_input(reading_digit: int | None) -> str:
    read_as = f", read as {reading_digit} by the CNN" if reading_digit is not None else ""
    return f"The 28×28 image the models see: white ink on black{read_as}"


def saliency(weights: np.ndarray, digit: int) -> str:
    """Where the pixels that pushed the CNN towards its answer are, in words."""
    return f"Saliency: the {where(np.clip(weights, 0, None))} of the drawing drove the CNN's answer {digit}"


def where(weights: np.ndarray) -> str:
    """'top', 'top and middle', … : the thirds of an image holding at least 30 % of its weight."""
    rows = np.asarray(weights, dtype=float).sum(axis=1)
    total = rows.sum()
    if total <= 0:
        return "whole"
    thirds = np.array_split(rows, 3)
    named = [part for part, third in zip(PARTS, thirds, strict=True) if third.sum() / total >= 0.3]
    return " and ".join(named or [PARTS[int(np.argmax([t.sum() for t in thirds]))]])


def test_digit(label: int, said: str, model: str) -> str:
    return f"An MNIST test digit labelled {label}, read as {said} by the {model}"


def confusion(matrix: np.ndarray, model: str) -> str:
    """'Confusion matrix of the CNN: 9,975 of 10,000 right; most errors are 4 read as 9 (5), …'."""
    matrix = np.asarray(matrix)
    total, right = int(matrix.sum()), int(np.trace(matrix))
    errors = [
        (int(matrix[t, p]), t, p) for t in range(len(matrix)) for p in range(len(matrix)) if t != p and matrix[t, p]
    ]
    head = f"Confusion matrix of the {model}: {right:,} of {total:,} right"
    if not errors:
        return head + ", no errors."
    worst = ", ".join(f"{t} read as {p} ({count})" for count, t, p in sorted(errors, reverse=True)[:3])
    return f"{head}; the most frequent errors are {worst}."


def ranking(
    names: list[str], values: list[float], what: str, lower_is_better: bool, unit: str = "", number: str = ",.4g"
) -> str:
    """'Test errors: fewest CNN (25), most forest (290).' for a bar chart of one number per model."""
    order = sorted(zip(values, names, strict=True), reverse=not lower_is_better)
    best, worst = order[0], order[-1]
    words = ("lowest", "highest") if lower_is_better else ("highest", "lowest")
    return (
        f"{what}: {words[0]} {best[1]} ({best[0]:{number}}{unit}), {words[1]} {worst[1]} ({worst[0]:{number}}{unit})."
    )


def class_counts(train: np.ndarray, test: np.ndarray) -> str:
    fewest, most = int(np.argmin(train)), int(np.argmax(train))
    balance = "nearly balanced" if train[most] < 1.5 * train[fewest] else "unbalanced"
    return (
        f"Training digits per class: from {int(train[fewest]):,} ({fewest}s) to {int(train[most]):,} ({most}s); "
        f"test digits from {int(test.min()):,} to {int(test.max()):,}: the classes are {balance}."
    )


def pixel_levels(counts: np.ndarray) -> str:
    """What the pixel histogram shows: how much is background and how much full ink."""
    counts = np.asarray(counts, dtype=float)
    total = counts.sum() or 1.0
    return (
        f"Pixel intensities: {counts[0] / total:.0%} of all training pixels are 0 (background) and "
        f"{counts[200:].sum() / total:.0%} are 200 or more (the strokes' cores); the rest are edges."
    )


def ink_by_digit(ink: np.ndarray, labels: np.ndarray) -> str:
    """Which digits use the least and the most ink (medians, in full-intensity pixels)."""
    medians = [float(np.median(ink[labels == digit])) for digit in range(10)]
    least, most = int(np.argmin(medians)), int(np.argmax(medians))
    return (
        f"Ink per image: {least}s use the least (median {medians[least]:.0f} full-ink pixels), "
        f"{most}s the most (median {medians[most]:.0f})."
    )


def digit_map(coordinates: np.ndarray, labels: np.ndarray, explained: np.ndarray, here: np.ndarray | None) -> str:
    """The PCA map in words: what its axes hold, and which digits' cloud a drawing falls in."""
    said = (
        f"Map of the digits: the two axes hold {explained[0]:.0%} and {explained[1]:.0%} of the variance, "
        "each digit's images in its own colour."
    )
    if here is None:
        return said
    distances = np.linalg.norm(np.asarray(coordinates) - np.asarray(here).reshape(1, 2), axis=1)
    nearest = np.asarray(labels)[np.argsort(distances)[:25]]
    common = int(np.bincount(nearest, minlength=10).argmax())
    return said + f" Your last drawing lies among {common}s."
