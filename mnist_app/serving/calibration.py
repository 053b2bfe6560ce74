"""Confidence that means what it says: temperature scaling, applied to every answer.

A network's top probability is not the chance that it is right; trained networks are usually
over- or under-confident. Temperature scaling (Guo et al., 2017) divides the log-probabilities by
one number T per model, which changes no answer, only how sure each answer claims to be. T is
fitted on the validation split by `mnist_app.training.calibration` and stored in the model's card.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of log-probabilities divided by `temperature` (1.0 changes nothing)."""
    logits = np.log(np.clip(np.asarray(probabilities, np.float64), 1e-30, 1.0)) / temperature
    return softmax(logits, axis=-1).astype(np.float32)


def card_temperature(card: dict) -> float:
    """The temperature a model card records (`mnist_app.training.calibration`); 1.0, as trained, without one."""
    return float(card.get("calibration", {}).get("temperature", 1.0))
