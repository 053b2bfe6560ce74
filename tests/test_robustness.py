"""Degraded MNIST *test* digits (low resolution, blur, marker photos) are read well, and confidence is calibrated."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_app.calibration import expected_calibration_error
from tests.robustness import degraded_inputs

SAMPLES = 500  # per set: enough for a 1-point resolution, quick enough for every `make test`


# Regression guards about a point under what the shipped CNN measured on 1,000 images (README,
# Results). The issue asked for 97 % on 8-px digits and 98 % on blur up to sigma 3: not reached yet.
@pytest.mark.slow
@pytest.mark.parametrize(
    "name, bound",
    [
        ("low8", 0.93),
        ("low12", 0.97),
        ("low16", 0.97),
        ("blur", 0.95),
        ("blur3", 0.83),
        ("marker", 0.98),
        ("small_scan", 0.96),
    ],  # fmt: skip
)
def test_cnn_reads_degraded_digits(shipped, test_set, name, bound):
    images, labels = degraded_inputs(name, *test_set, samples=SAMPLES, seed=11)
    accuracy = float(np.mean(shipped["cnn"].predict_batch(images).argmax(1) == labels))
    print(f"CNN on {SAMPLES} test digits, {name}: {accuracy:.1%}")
    assert accuracy >= bound


@pytest.mark.parametrize("model", ["cnn", "ann"])
def test_calibrated_confidence_on_the_test_set(shipped, test_set, model):
    x_test, y_test = test_set
    probabilities = shipped[model].predict_batch(x_test.astype(np.float32) / 255)
    ece = expected_calibration_error(probabilities, y_test)
    print(f"{model}: ECE {ece:.2%} with temperature {shipped[model].temperature:.3f}")
    assert shipped[model].card["calibration"]["temperature"] == pytest.approx(shipped[model].temperature)
    assert ece <= 0.01
