"""Why the CNN wins, checked on data: the claim the Draw tab's panel makes, and how its curves are made."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_app.reading.model_input import model_batch
from mnist_app.reading.variations import FAMILIES, shifted
from mnist_app.serving.invariance import confidence_curves

DIGITS = 500
SHIFT = 6  # pixels


def mean_confidence_in_label(predictor, images: np.ndarray, labels: np.ndarray) -> float:
    return float(predictor.predict_batch(images)[np.arange(len(labels)), labels].mean())


@pytest.mark.parametrize("dx, dy", [(SHIFT, 0), (-SHIFT, 0), (0, SHIFT), (0, -SHIFT)])
def test_moving_a_centred_test_digit_costs_the_ann_far_more_confidence_than_the_cnn(shipped, test_set, dx, dy):
    """Shifted 6 px, 500 centred MNIST test digits lose the dense network most of its certainty and the
    convolutional one little: the dense network learned each pixel's place."""
    x, y = model_batch(test_set[0][:DIGITS])[..., 0], test_set[1][:DIGITS]
    moved = np.stack([shifted(image, dx, dy) for image in x])
    drop = {
        name: mean_confidence_in_label(shipped[name], x, y) - mean_confidence_in_label(shipped[name], moved, y)
        for name in ("ann", "cnn")
    }
    assert drop["ann"] > 0.15, drop
    assert drop["ann"] > 3 * max(drop["cnn"], 0.0), drop


def test_curves_are_one_batch_per_network_and_the_unchanged_input_is_the_reading(shipped, test_set):
    calls = []

    class Counting:
        def __init__(self, predictor):
            self.predictor = predictor

        def predict_batch(self, images):
            calls.append(len(images))
            return self.predictor.predict_batch(images)

    image, label = model_batch(test_set[0][:1])[0, :, :, 0], int(test_set[1][0])
    curves = confidence_curves({"ann": Counting(shipped["ann"]), "cnn": Counting(shipped["cnn"])}, image, label)
    assert calls == [sum(len(f.values) for f in FAMILIES)] * 2  # every version of every family, once per network
    assert calls[0] <= 100
    for curve in curves:
        unchanged = curve.images[curve.unchanged_index]
        assert np.allclose(unchanged, image, atol=1e-6), curve.family.key
        for name in ("ann", "cnn"):
            assert curve.confidence[name][curve.unchanged_index] == pytest.approx(
                float(shipped[name].predict(image).probabilities[label]), abs=1e-5
            )
            low, high = curve.holds(name)
            assert low <= curve.family.unchanged <= high
