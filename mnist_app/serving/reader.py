"""Read what a user gave: one digit, or a whole number. The app, its Number mode and the CLI all read here.

A digit:
1. `preprocess_steps`: find the ink, crop, even out the stroke, fit 20 px, centre (`reading/`);
2. every given model reads the 28x28 input (with its saliency where asked);
3. the digit check (`DigitCheck`) judges the input against the answer of the judging model: does it
   look like a digit at all, or more like a printed letter?
A number:
1. `segment` cuts the image into digits, and says what ink it left out and why; runs of touching
   digits are read whole by the string reader (the CNN's answers there), or without it cut where the
   judging model reads the pieces most confidently;
2. every given model reads every digit, in one batch per model;
3. the digit check marks the parts that look like no digit.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from mnist_app.reading.parts import Scorer, WholeReader
from mnist_app.reading.preprocess import Polarity, PreprocessSteps, preprocess_steps
from mnist_app.reading.segment import Digit, Ignored, segment
from mnist_app.serving.digit_check import DigitCheck
from mnist_app.serving.prediction import Prediction

if TYPE_CHECKING:  # the reader itself needs no TensorFlow: the CLI checks its arguments first
    from mnist_app.serving.predictor import Predictor

STRING_READING = "cnn"  # the model whose readings of touching digits are the string reader's
JUDGE = "cnn"  # the model whose answer the digit check judges against, and that chooses where to cut numbers
MAX_DIGITS = 20  # more parts than this is a scribble or a page of text, not a number


@dataclass(frozen=True)
class DigitReading:
    """One image as the models saw and read it."""

    steps: PreprocessSteps  # the preprocessing, step by step; `steps.final` is the model input
    predictions: dict[str, Prediction]  # per model, in the order given
    typical: bool = True  # looks like an MNIST digit at all (True when there is no digit check)
    letter: str | None = None  # the capital letter it looks like instead, if the check found one


@dataclass(frozen=True)
class NumberReading:
    """A number as segmented and read by one or more models."""

    digits: list[Digit]  # left to right, with boxes and 28x28 inputs
    predictions: dict[str, list[Prediction]]  # per model, one prediction per digit
    unusual: list[int] = field(default_factory=list)  # positions of parts that look like no digit
    ignored: list[Ignored] = field(default_factory=list)  # ink left out (specks, faint or stray marks), and why

    def number(self, model: str) -> str:
        return "".join(str(p.digit) for p in self.predictions[model])

    def least_sure(self, model: str) -> Prediction:
        return min(self.predictions[model], key=lambda p: p.confidence)

    def doubtful(self, model: str) -> list[int]:
        """Positions (0-based) of the digits this model is not sure of."""
        return [i for i, p in enumerate(self.predictions[model]) if not p.sure]


class TooManyParts(ValueError):
    """The image splits into more parts than a number has: it is probably a scribble."""


def read_digit(
    image: np.ndarray | None,
    predictors: dict[str, Predictor],
    check: DigitCheck | None = None,
    polarity: Polarity = "auto",
    saliency: Collection[str] = (),
) -> DigitReading | None:
    """Preprocess `image` and let every predictor read it; None when there is no ink.

    `saliency` names the models whose answer comes with a saliency map (gradient x input)."""
    steps = preprocess_steps(image, polarity) if image is not None else None
    if steps is None:
        return None
    predictions = {name: p.predict(steps.final, saliency=name in saliency) for name, p in predictors.items()}
    judge = _judge(predictions)
    if check is None or judge is None:
        return DigitReading(steps, predictions)
    return DigitReading(
        steps, predictions, check.is_typical(steps.final, judge.digit), check.nearest_letter(steps.final, judge.digit)
    )


def read_number(
    image: np.ndarray | None,
    predictors: dict[str, Predictor],
    check: DigitCheck | None = None,
    polarity: Polarity = "auto",
    judge: str = JUDGE,
    string_reader: WholeReader | None = None,
) -> NumberReading | None:
    """Segment `image` and read every digit with every predictor; None when there is no ink.

    `judge` names the model whose confidence picks between ways of cutting touching digits. With a
    `string_reader` (`serving.string_reader.whole_reader`), runs of touching digits are read whole, and
    its readings are the CNN's there (it is a CNN trained on touching strings); the other models read
    the pieces they were cut into.
    Raises TooManyParts for an image that falls into more than MAX_DIGITS parts.
    """
    if image is None:
        return None
    referee = predictors.get(judge) or next(iter(predictors.values()), None)
    segmentation = segment(image, polarity, scorer_for(referee, check) if referee else None, string_reader)
    digits = segmentation.digits
    if not digits:
        return None
    if len(digits) > MAX_DIGITS:
        raise TooManyParts(f"this splits into {len(digits)} parts; write a number of at most {MAX_DIGITS} digits")
    batch = np.stack([digit.image for digit in digits])
    predictions = {
        name: [
            Prediction(name, digit.read_whole if name == STRING_READING and digit.read_whole is not None else p)
            for digit, p in zip(digits, predictor.predict_batch(batch), strict=True)
        ]
        for name, predictor in predictors.items()
    }
    answers = predictions.get(judge) or next(iter(predictions.values()))
    unusual = (
        []
        if check is None
        else [
            i
            for i, (d, p) in enumerate(zip(digits, answers, strict=True))
            if d.read_whole is None and not check.is_typical(d.image, p.digit)
        ]  # fmt: skip
    )  # a piece of touching digits holds bits of its neighbours: the check would find any of them unusual
    return NumberReading(digits, predictions, unusual, segmentation.ignored)


def scorer_for(predictor: Predictor, check: DigitCheck | None = None) -> Scorer:
    """How `predictor` reads candidate digits, and whether the digit check finds each typical of its
    answer: used to leave out stray marks and to choose where touching digits split."""

    def score(images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        probabilities = predictor.predict_batch(np.stack(images))
        if check is None:
            return probabilities, np.ones(len(images), bool)
        typical = [check.is_typical(x, int(p.argmax())) for x, p in zip(images, probabilities, strict=True)]
        return probabilities, np.asarray(typical, bool)

    return score


def _judge(predictions: dict[str, Prediction]) -> Prediction | None:
    return predictions.get(JUDGE) or next(iter(predictions.values()), None)
