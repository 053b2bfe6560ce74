"""The "is this a digit at all?" check: quiet on real digits and drawings, loud on smileys and letters."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_app.config import MODELS_DIR
from mnist_app.reading.preprocess import preprocess
from mnist_app.serving import digit_check
from mnist_app.training import digit_check as digit_check_fitting
from tools.inputs.synthetic_drawings import LETTERS, NOT_DIGITS, render, render_strokes


@pytest.fixture(scope="module")
def check():
    loaded = digit_check.load(MODELS_DIR)
    assert loaded is not None, "models/digit_check.npz is missing: run `make train`"
    return loaded


@pytest.mark.slow  # every MNIST test image
def test_few_mnist_test_digits_are_unusual(check, test_set, test_predictions):
    x_test, _ = test_set
    images = x_test.astype(np.float32) / 255
    answers = test_predictions["cnn"].argmax(axis=1)
    overall = np.mean([not check.is_typical(image) for image in images])
    flagged = np.mean([not check.is_typical(image, int(d)) for image, d in zip(images, answers, strict=True)])
    print(f"MNIST test digits that look unusual: {overall:.2%} (first check), {flagged:.2%} (both checks)")
    assert 0.003 <= overall <= 0.03
    assert flagged <= 0.03


def test_letters_read_as_digits_are_flagged(check, shipped):
    """Capital letters drawn with a pen, several pens and sizes: A, B, E, H, K, M, R, S and X are caught.

    The letter check learned from a font's letters (mnist_app.training.letters), not from these strokes."""
    caught: dict[str, int] = {}
    for letter, strokes in LETTERS.items():
        for pen in (8, 16, 28):
            for size in (160, 230):
                x = preprocess(
                    render_strokes(strokes, pen=pen, size=size, left=(280 - size) / 2, top=(280 - size) / 2), "light"
                )
                caught[letter] = caught.get(letter, 0) + (not check.is_typical(x, shipped["cnn"].predict(x).digit))
    print(f"letters flagged (of 6 drawings each): {caught}")
    for letter in "ABEHKMRSX":
        assert caught[letter] >= 5, caught


def test_a_drawn_letter_is_named(check, shipped):
    x = preprocess(render_strokes(LETTERS["E"], pen=16, size=200, left=40, top=40), "light")
    assert check.nearest_letter(x, shipped["cnn"].predict(x).digit) == "E"


def test_a_b_read_as_8_could_be_either_and_is_not_held_back(check, reader):
    """B and 8 (S and 5, G and 6) are forms of each other: the page says so, flags it, and keeps it in the gallery."""
    assert digit_check.is_twin("B", 8) and digit_check.is_twin("S", 5) and digit_check.is_twin("G", 6)
    assert not digit_check.is_twin("B", 3) and not digit_check.is_twin(None, 8) and not digit_check.is_twin("E", None)
    twins = accused = 0
    for pen in (8, 16, 28):
        for size in (160, 230):
            image = render_strokes(LETTERS["B"], pen=pen, size=size, left=(280 - size) / 2, top=(280 - size) / 2)
            reading = reader.read_digit(image, ("cnn",))
            assert not reading.typical  # still flagged: the page says it could be the letter
            if reading.letter == "B" and reading.predictions["cnn"].digit == 8:
                twins += 1
                x = reading.steps.final
                assert reading.twin and reading.looks_like_a_digit
                assert check.verdict(x, 8).looks_like_a_digit and not check.is_typical(x, 8)
            else:
                accused += 1
                assert not reading.twin and not reading.looks_like_a_digit
    assert twins >= 1, "no drawn B was read as an 8 with the letter B: nothing here tests the twin"


def test_drawn_digits_are_not_flagged(check):
    flagged = []
    for digit in range(10):
        for pen in (4, 12, 24, 40):
            for size in (80, 160, 250):
                if pen > size / 5:
                    continue
                for slant in (-0.2, 0.0, 0.2):
                    x = preprocess(render(digit, pen=pen, size=size, left=15, top=15, slant=slant), "light")
                    if not check.is_typical(x, digit):
                        flagged.append((digit, pen, size, slant))
    assert len(flagged) <= 3, flagged


def test_most_things_that_are_not_digits_are_flagged(check):
    flagged = [
        name
        for name, strokes in NOT_DIGITS.items()
        if not check.is_typical(preprocess(render_strokes(strokes), "light"))
    ]
    print(f"flagged as not digit-like: {flagged} of {list(NOT_DIGITS)}")
    assert len(flagged) >= 4


def test_save_and_load_round_trip(tmp_path, mnist):
    (x_train, _), (x_test, _) = mnist
    fitted = digit_check_fitting.fit(x_train[:3000], x_test[:500])
    digit_check_fitting.save(fitted, tmp_path)
    loaded = digit_check.load(tmp_path)
    assert loaded.threshold == pytest.approx(fitted.threshold)
    assert np.allclose(loaded.basis, fitted.basis)


def test_missing_or_broken_file_means_no_check(tmp_path):
    assert digit_check.load(tmp_path) is None
    (tmp_path / digit_check.FILE_NAME).write_bytes(b"garbage")
    assert digit_check.load(tmp_path) is None
