"""Text alternatives and the live region's words (mnist_app/ui/descriptions.py)."""

from __future__ import annotations

import numpy as np

from mnist_app.serving.prediction import Prediction
from mnist_app.ui import descriptions


def prediction(model: str, probabilities: dict[int, float]) -> Prediction:
    p = np.zeros(10)
    for digit, value in probabilities.items():
        p[digit] = value
    return Prediction(model, p)


def test_sure_answers_are_announced_with_how_sure():
    said = descriptions.announcement([prediction("ann", {7: 0.99, 1: 0.01}), prediction("cnn", {7: 1.0})])
    assert said == "ANN: 7, 99% sure. CNN: 7, 100% sure."


def test_an_unsure_answer_is_announced_with_its_top_three():
    said = descriptions.announcement([prediction("cnn", {7: 0.45, 1: 0.3, 4: 0.15, 9: 0.1})])
    assert said == "CNN: not sure; likeliest 7 (45%), 1 (30%), 4 (15%)."


def test_a_number_is_said_whole_unless_a_digit_is_unsure():
    sure = [prediction("cnn", {d: 1.0}) for d in (1, 2, 3)]
    unsure = [sure[0], prediction("cnn", {2: 0.5, 3: 0.5}), sure[2]]
    assert descriptions.number_announcement({"ann": sure, "cnn": unsure}) == "ANN: 123. CNN: 1, not sure, 3."


def test_where_names_the_thirds_that_hold_the_weight():
    top_bar = np.zeros((28, 28))
    top_bar[2:5, 4:24] = 1
    assert descriptions.where(top_bar) == "top"
    stem = np.zeros((28, 28))
    stem[10:27, 13:15] = 1
    assert descriptions.where(stem) == "middle and bottom"
    assert descriptions.where(np.zeros((28, 28))) == "whole"
    assert "top" in descriptions.saliency(top_bar - 0.1, 7) and "7" in descriptions.saliency(top_bar, 7)


def test_a_confusion_matrix_is_summed_up_by_its_worst_errors():
    matrix = np.diag([10] * 10)
    matrix[4, 9], matrix[7, 2], matrix[3, 5] = 5, 2, 1
    assert descriptions.confusion(matrix, "CNN") == (
        "Confusion matrix of the CNN: 100 of 108 right; the most frequent errors are 4 read as 9 (5), "
        "7 read as 2 (2), 3 read as 5 (1)."
    )
    assert descriptions.confusion(np.diag([3] * 10), "ANN").endswith("30 of 30 right, no errors.")


def test_a_ranking_names_the_best_and_the_worst():
    said = descriptions.ranking(["ANN", "CNN", "Forest"], [61, 25, 290], "Test errors", lower_is_better=True)
    assert said == "Test errors: lowest CNN (25), highest Forest (290)."
    minutes = descriptions.ranking(["ANN", "CNN"], [10.31, 128.66], "Training time", True, " min", number=".1f")
    assert minutes == "Training time: lowest ANN (10.3 min), highest CNN (128.7 min)."


def test_the_explore_tabs_charts_are_said_from_their_data():
    counts = np.zeros(256)
    counts[0], counts[128], counts[255] = 80, 5, 15
    assert descriptions.pixel_levels(counts).startswith("Pixel intensities: 80% of all training pixels are 0")
    assert "15% are 200 or more" in descriptions.pixel_levels(counts)
    labels = np.repeat(np.arange(10), 3)
    ink = np.where(labels == 1, 40.0, 100.0) + np.where(labels == 8, 50.0, 0.0)
    assert descriptions.ink_by_digit(ink, labels) == (
        "Ink per image: 1s use the least (median 40 full-ink pixels), 8s the most (median 150)."
    )
    coordinates = np.array([[0.0, 0.0]] * 30 + [[10.0, 10.0]] * 30)
    map_labels = np.array([3] * 30 + [7] * 30)
    said = descriptions.digit_map(coordinates, map_labels, np.array([0.1, 0.07]), np.array([9.5, 10.2]))
    assert said.startswith("Map of the digits: the two axes hold 10% and 7%") and said.endswith("among 7s.")
