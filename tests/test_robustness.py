"""Degraded MNIST *test* digits (low resolution, blur, marker photos) are read well, and confidence is calibrated."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_app.training.calibration import expected_calibration_error
from tools.robustness import TARGETS, degraded_inputs

SAMPLES = 500  # per set: enough for a 1-point resolution, quick enough for every `make test`


# Regression guards about a point under what the shipped CNN reads on these 500 images (seed 11;
# docs/results.md has 1,000 per set). The issue's tightest targets, 8-px digits and blur, are checked on
# every test digit below instead.
@pytest.mark.slow
@pytest.mark.parametrize(
    "name, bound",
    [
        ("low12", 0.98),
        ("low16", 0.98),
        ("blur3", 0.95),
        ("marker", 0.97),
        ("small_scan", 0.97),
    ],  # fmt: skip
)
def test_cnn_reads_degraded_digits(shipped, test_set, name, bound):
    images, labels = degraded_inputs(name, *test_set, samples=SAMPLES, seed=11)
    accuracy = float(np.mean(shipped["cnn"].predict_batch(images).argmax(1) == labels))
    print(f"CNN on {SAMPLES} test digits, {name}: {accuracy:.1%}")
    assert accuracy >= bound


@pytest.mark.slow
@pytest.mark.parametrize("name", ["low8", "blur"])
def test_the_issue_targets_on_every_test_digit(shipped, test_set, name):
    """Issue 11: 97 % on 8-px digits, 98 % on blur of sigma 0.5-3, on all 10,000 test digits (docs/results.md).
    These two have margins under a point; the 12- and 16-px guards above already sit over 97 %."""
    images, labels = degraded_inputs(name, *test_set, samples=len(test_set[1]))
    accuracy = float(np.mean(shipped["cnn"].predict_batch(images).argmax(1) == labels))
    print(f"CNN on every test digit, {name}: {accuracy:.2%}")
    assert accuracy >= TARGETS[name], accuracy


@pytest.mark.parametrize("model", ["cnn", "ann"])
def test_calibrated_confidence_on_the_test_set(shipped, test_set, test_predictions, model):
    _, y_test = test_set
    probabilities = test_predictions[model]
    ece = expected_calibration_error(probabilities, y_test)
    print(f"{model}: ECE {ece:.2%} with temperature {shipped[model].temperature:.3f}")
    assert shipped[model].card["calibration"]["temperature"] == pytest.approx(shipped[model].temperature)
    assert ece <= 0.01
