"""The digit check on the CNN's features: what the app judges a single drawing with, when models/ has one.

Judged on writing it was not fitted on: the style set's held-out hand 1, our own pen strokes of capitals
and digits (tools.inputs.synthetic_drawings), MNIST's test digits. Its left-out-family figures are in
docs/families.md (tools.reports.feature_check).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mnist_app.config import MODELS_DIR
from mnist_app.reading.preprocess import preprocess
from mnist_app.serving import feature_check
from mnist_app.training.handwriting import FLAGGED_LETTERS, letter_inputs, style_inputs
from tools.inputs.synthetic_drawings import LETTERS, NOT_DIGITS, render, render_strokes


@pytest.fixture(scope="module")
def judge(reader):
    check = feature_check.load(MODELS_DIR)
    assert check is not None, (
        "models/feature_check.npz is missing: run `python train.py --models cnn --feature-check-only`"
    )
    assert reader.feature_judge is not None, "models/feature_check.npz was fitted on another CNN or pixel check"
    return reader.feature_judge


def test_the_reader_judges_a_drawing_on_the_cnns_features(reader, judge):
    image = render_strokes(LETTERS["E"], pen=16, size=200, left=40, top=40)
    reading = reader.read_digit(image, ("ann", "cnn"))
    verdict = judge.verdict(reading.steps.final, reading.predictions["cnn"].digit)
    assert not reading.typical and reading.letter == verdict.letter == "E"
    four = reader.read_digit(render(4, pen=20), ("ann", "cnn"))
    assert four.typical and four.letter is None and four.predictions["cnn"].digit == 4


@pytest.mark.slow  # every drawing of the held-out hand
def test_held_out_hands_digits_pass_and_its_capitals_are_flagged(judge, shipped):
    """Hand 1 of the style set: never fitted, by the CNN or the check."""
    digits, labels, _ = style_inputs("held_out")
    answers = shipped["cnn"].predict_batch(digits).argmax(1)
    flagged = sum(not v.looks_like_a_digit for v in judge.verdicts(digits, answers))
    capitals = {k: v for k, v in letter_inputs("held_out").items() if k in FLAGGED_LETTERS}
    caught = {
        letter: sum(not v.typical for v in judge.verdicts(x, shipped["cnn"].predict_batch(x).argmax(1)))
        for letter, x in capitals.items()
    }
    total = sum(len(x) for x in capitals.values())
    print(f"hand 1: {flagged} of {len(digits)} digits flagged; capitals flagged {caught} of {total}")
    assert flagged <= 0.01 * len(digits)
    assert sum(caught.values()) >= 0.95 * total


def test_pen_drawn_capitals_and_scribbles_are_flagged_and_digits_are_not(judge, shipped):
    def verdict(image):
        x = preprocess(image, "light")
        return judge.verdict(x, shipped["cnn"].predict(x).digit)

    letters = {
        letter: sum(
            not verdict(
                render_strokes(strokes, pen=pen, size=size, left=(280 - size) / 2, top=(280 - size) / 2)
            ).typical
            for pen in (8, 16, 28)
            for size in (160, 230)
        )
        for letter, strokes in LETTERS.items()
        if letter in FLAGGED_LETTERS
    }
    scribbles = [name for name, strokes in NOT_DIGITS.items() if not verdict(render_strokes(strokes)).typical]
    digits = [
        (digit, pen, slant)
        for digit in range(10)
        for pen in (8, 20, 32)
        for slant in (-0.2, 0.0, 0.2)
        if not verdict(render(digit, pen=pen, size=200, left=40, top=40, slant=slant)).looks_like_a_digit
    ]
    print(f"capitals flagged (of 6 each): {letters}; scribbles flagged: {scribbles}; digits flagged: {digits}")
    assert sum(letters.values()) >= 0.9 * 6 * len(letters), letters
    assert len(scribbles) == len(NOT_DIGITS), scribbles  # a smiley too: far from every digit in pixels
    assert len(digits) <= 1, digits


@pytest.mark.slow  # every MNIST test image
def test_few_mnist_test_digits_are_flagged(judge, test_set, test_predictions):
    x_test, _ = test_set
    verdicts = judge.verdicts(x_test, test_predictions["cnn"].argmax(1))
    flagged = np.mean([not v.looks_like_a_digit for v in verdicts])
    print(f"MNIST test digits flagged by the feature check: {flagged:.2%}")
    assert flagged <= 0.01


def test_saved_and_loaded_it_is_the_same_and_a_check_of_another_cnn_is_not_used(judge, shipped, tmp_path):
    feature_check.save(judge.check, tmp_path)
    loaded = feature_check.load(tmp_path)
    assert np.array_equal(loaded.precision, judge.check.precision) and loaded.letters == judge.check.letters
    assert (loaded.threshold, loaded.letter_ratio, loaded.cnn_members) == (
        judge.check.threshold,
        judge.check.letter_ratio,
        judge.check.cnn_members,
    )
    pixels = judge.pixels
    assert feature_check.judge_for(loaded, shipped["cnn"], pixels) is not None
    other = dataclasses.replace(loaded, cnn_members="fitted-elsewhere")
    assert feature_check.judge_for(other, shipped["cnn"], pixels) is None
    assert feature_check.judge_for(loaded, shipped["cnn"], dataclasses.replace(pixels, threshold=1.0)) is None
    assert (
        feature_check.judge_for(loaded, None, pixels) is None
        and feature_check.judge_for(loaded, shipped["cnn"], None) is None
    )


def test_a_missing_or_broken_file_leaves_the_pixel_check_in_charge(tmp_path):
    assert feature_check.load(tmp_path) is None
    (tmp_path / feature_check.FILE_NAME).write_bytes(b"garbage")
    assert feature_check.load(tmp_path) is None
