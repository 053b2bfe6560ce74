"""Read a handwritten number: segment it into digits, then let each model read every digit.

Shared by the app's Number mode and `python -m mnist_app.predict --number`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_app.config import CONFIDENCE_THRESHOLD
from mnist_app.reading.preprocess import Polarity
from mnist_app.reading.segment import Digit, Scorer, segment_number
from mnist_app.serving.predictor import Prediction, Predictor

MAX_DIGITS = 20  # more parts than this is a scribble or a page of text, not a number


@dataclass(frozen=True)
class NumberReading:
    """A number as segmented and read by one or more models."""

    digits: list[Digit]  # left to right, with boxes and 28x28 inputs
    predictions: dict[str, list[Prediction]]  # per model, one prediction per digit

    def number(self, model: str) -> str:
        return "".join(str(p.digit) for p in self.predictions[model])

    def least_sure(self, model: str) -> Prediction:
        return min(self.predictions[model], key=lambda p: p.confidence)

    def doubtful(self, model: str) -> list[int]:
        """Positions (0-based) of the digits this model is not sure of."""
        return [i for i, p in enumerate(self.predictions[model]) if p.confidence < CONFIDENCE_THRESHOLD]


class TooManyParts(ValueError):
    """The image splits into more parts than a number has: it is probably a scribble."""


def scorer_for(predictor: Predictor) -> Scorer:
    """How confidently `predictor` reads candidate digits: used to choose where touching digits split."""

    def score(images: list[np.ndarray]) -> list[float]:
        return predictor.predict_batch(np.stack(images)).max(axis=1).tolist()

    return score


def read_number(
    image: np.ndarray, predictors: dict[str, Predictor], polarity: Polarity = "auto", judge: str = "cnn"
) -> NumberReading | None:
    """Segment `image` and read every digit with every predictor; None when there is no ink.

    `judge` names the model whose confidence picks between ways of cutting touching digits.
    Raises TooManyParts for an image that falls into more than MAX_DIGITS parts.
    """
    referee = predictors.get(judge) or next(iter(predictors.values()), None)
    digits = segment_number(image, polarity, scorer_for(referee) if referee else None)
    if not digits:
        return None
    if len(digits) > MAX_DIGITS:
        raise TooManyParts(f"this splits into {len(digits)} parts; write a number of at most {MAX_DIGITS} digits")
    batch = np.stack([digit.image for digit in digits])
    predictions = {
        name: [Prediction(name, probabilities) for probabilities in predictor.predict_batch(batch)]
        for name, predictor in predictors.items()
    }
    return NumberReading(digits, predictions)
