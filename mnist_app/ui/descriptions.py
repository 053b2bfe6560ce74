"""Text alternatives: what each image and chart shows, in words, for screen readers (`alt`, `aria-label`)."""

from __future__ import annotations

import numpy as np

from mnist_app.config import MODEL_TITLES
from mnist_app.serving.invariance import Curve
from mnist_app.serving.prediction import Prediction
from mnist_app.serving.stroke_story import StrokeStory

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


SMALL_GAP = 0.15  # two networks whose confidences differ less than this hold alike
STEADY = 0.05  # a confidence that moves less than this from the unchanged input's "stays"


def variation_sentence(curve: Curve) -> str:
    """What one chart shows, from its data: where the two networks differ most, e.g. 'Moved 4 px right,
    the ANN's confidence in 7 falls to 12 %; the CNN's stays at 97 %.'"""
    names = list(curve.confidence)
    family, digit = curve.family, curve.digit
    if len(names) < 2:
        return ""
    first, second = names[:2]
    gaps = curve.confidence[second] - curve.confidence[first]
    widest = int(np.argmax(np.abs(gaps)))
    if abs(gaps[widest]) < SMALL_GAP:
        worst = int(np.argmin(curve.confidence[first] + curve.confidence[second]))
        at = ", ".join(f"the {MODEL_TITLES[n]} {curve.confidence[n][worst]:.0%}" for n in (first, second))
        return (
            f"Both networks hold alike here: at most {abs(gaps[widest]):.0%} apart. The hardest change for them, "
            f"{family.phrase(family.values[worst])}, leaves {at} sure of {digit}."
        )
    loser, winner = (first, second) if gaps[widest] > 0 else (second, first)
    phrase = family.phrase(family.values[widest])
    return (
        f"{phrase[0].upper()}{phrase[1:]}, the {MODEL_TITLES[loser]}'s confidence in {digit} "
        f"{_moves(curve, loser, widest)}; the {MODEL_TITLES[winner]}'s {_moves(curve, winner, widest)}."
    )


def _moves(curve: Curve, name: str, index: int) -> str:
    now, before = float(curve.confidence[name][index]), float(curve.confidence[name][curve.unchanged_index])
    verb = "falls to" if now < before - STEADY else "rises to" if now > before + STEADY else "stays at"
    return f"{verb} {now:.0%}"


def variation_chart(curve: Curve) -> str:
    """The chart in words for screen readers: the range each network stays at least half sure over."""
    family = curve.family
    ends = f"from {family.label(family.values[0])} to {family.label(family.values[-1])}"
    held = []
    for name in curve.confidence:
        low, high = curve.holds(name)
        title = MODEL_TITLES[name]
        if curve.confidence[name][curve.unchanged_index] < 0.5:
            held.append(f"the {title} is below 50% even as drawn")
        elif (low, high) == (family.values[0], family.values[-1]):
            held.append(f"the {title} stays at 50% or more over the whole range")
        else:
            held.append(f"the {title} stays at 50% or more from {family.label(low)} to {family.label(high)}")
    return (
        f"Line chart of each network's confidence in {curve.digit} against the change ({family.title.lower()}, "
        f"{ends}): " + "; ".join(held) + "."
    )


def stroke_sentence(story: StrokeStory, digit: int) -> str:
    """When each network made up its mind, e.g. 'Over 1.4 s of drawing, the CNN settled on 7 after 0.6 s;
    the ANN after 1.1 s.'"""
    said = []
    for name in story.probabilities:
        settled = story.settled_at(name, digit)
        last = int(story.probabilities[name][-1].argmax())
        title = MODEL_TITLES[name]
        if settled is None:
            said.append(f"the {title} had not settled on {digit} as the pen lifted (it read {last})")
        elif settled <= story.seconds[0]:
            said.append(f"the {title} read {digit} from the first frame")
        else:
            said.append(f"the {title} settled on {digit} after {settled:.1f} s")
    strokes = len(story.stroke_starts())
    over = f"Over {story.duration:.1f} s of drawing" + (f" in {strokes} strokes" if strokes > 1 else "")
    return f"{over}, " + "; ".join(said) + "."


def stroke_chart(story: StrokeStory, digit: int) -> str:
    """The stroke chart in words: how many readings, and each network's probability of the digit at the end."""
    last = ", ".join(
        f"the {MODEL_TITLES[name]} {values[-1, digit]:.0%}" for name, values in story.probabilities.items()
    )
    return (
        f"Line chart of each network's probability of {digit} at each of the {len(story.seconds)} live readings "
        f"while the pen was down; at the last one, {last}."
    )
