"""Degraded MNIST *test* digits (low resolution, blur, marker photos) are read well, and confidence is calibrated."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_app.calibration import expected_calibration_error
from tests.robustness import degraded_inputs

SAMPLES = 500  # per set: enough for a 1-point resolution, quick enough for every `make test`


# Regression guards about a point under what the shipped CNN reads on these 500 images (seed 11;
# README, Results, has 1,000 per set). The issue's blur target is checked on the README's images below.
@pytest.mark.slow
@pytest.mark.parametrize(
    "name, bound",
    [
        ("low8", 0.95),
        ("low12", 0.98),
        ("low16", 0.98),
        ("blur", 0.97),
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
def test_the_issue_target_for_blur_on_the_readme_images(shipped, test_set):
    """98 % on Gaussian blur of sigma 0.5-3 (issue 11), on the README's 1,000 images. Reached with the
    soft-ink experts; its other target, 97 % on 8-px digits alone, is not (96.4 %), so it is not here."""
    images, labels = degraded_inputs("blur", *test_set)
    accuracy = float(np.mean(shipped["cnn"].predict_batch(images).argmax(1) == labels))
    assert accuracy >= 0.98, accuracy


@pytest.mark.parametrize("model", ["cnn", "ann"])
def test_calibrated_confidence_on_the_test_set(shipped, test_set, model):
    x_test, y_test = test_set
    probabilities = shipped[model].predict_batch(x_test.astype(np.float32) / 255)
    ece = expected_calibration_error(probabilities, y_test)
    print(f"{model}: ECE {ece:.2%} with temperature {shipped[model].temperature:.3f}")
    assert shipped[model].card["calibration"]["temperature"] == pytest.approx(shipped[model].temperature)
    assert ece <= 0.01
