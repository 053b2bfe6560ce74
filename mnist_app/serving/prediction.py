"""One model's answer for one image: ten probabilities, and optionally which pixels drove it. NumPy only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from mnist_app.config import CONFIDENCE_THRESHOLD


@dataclass(frozen=True)
class Prediction:
    """One model's reading of one image."""

    model: str
    probabilities: np.ndarray  # shape (10,), sums to 1
    saliency: np.ndarray | None = None  # (28, 28) gradient x input, when asked for

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    @property
    def sure(self) -> bool:
        """Sure enough to give a digit; below the threshold the app says "not sure" (calibrated)."""
        return self.confidence >= CONFIDENCE_THRESHOLD

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        """The k most likely digits with their probabilities, most likely first."""
        order = np.argsort(self.probabilities)[::-1][:k]
        return [(int(d), float(self.probabilities[d])) for d in order]


class Predicts(Protocol):
    """What reads digits: the served models (`serving.array_predictor`, `serving.forest`) and the Keras ones
    that training and the tools measure (`serving.predictor`)."""

    name: str
    card: dict

    def predict(self, image: np.ndarray, saliency: bool = False) -> Prediction: ...

    def predict_batch(self, images: np.ndarray, batch_size: int = ..., calibrated: bool = True) -> np.ndarray: ...
