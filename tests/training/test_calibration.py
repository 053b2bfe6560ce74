"""Temperature scaling against a reference: known miscalibration is found and corrected."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_app.serving.calibration import apply_temperature
from mnist_app.training.calibration import expected_calibration_error, fit_temperature, reliability, threshold_effect


def overconfident(n: int = 20000, true_temperature: float = 2.5, seed: int = 0):
    """Labels drawn from softmax(z), reported as softmax(z * 2.5): a model 2.5x too sure."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2.0, (n, 10))
    p_true = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(10, p=p) for p in p_true])
    reported = np.exp(logits * true_temperature)
    return reported / reported.sum(1, keepdims=True), labels


def test_finds_the_temperature_that_undoes_overconfidence():
    probabilities, labels = overconfident()
    temperature = fit_temperature(probabilities, labels)
    assert temperature == pytest.approx(2.5, rel=0.05)
    before = expected_calibration_error(probabilities, labels)
    after = expected_calibration_error(apply_temperature(probabilities, temperature), labels)
    assert before > 0.1 and after < 0.02


def test_temperature_one_changes_nothing_and_answers_never_change():
    probabilities, _ = overconfident(500)
    assert np.allclose(apply_temperature(probabilities, 1.0), probabilities, atol=1e-5)
    for t in (0.3, 3.0):
        assert np.array_equal(apply_temperature(probabilities, t).argmax(1), probabilities.argmax(1))


def test_reliability_bins_and_threshold_effect():
    probabilities = np.array([[0.95] + [0.05 / 9] * 9, [0.5, 0.5] + [0.0] * 8, [0.2] * 5 + [0.0] * 5])
    labels = np.array([0, 1, 0])
    table = reliability(probabilities, labels)
    assert sum(table["count"]) == 3 and len(table["count"]) == 15
    effect = threshold_effect(probabilities, labels, 0.8)
    assert effect["wrong_caught"] == 1.0 and effect["right_flagged"] == 0.5
