"""The style set: digit forms MNIST lacks, read as the Draw tab reads them, on the hand no model learned from."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_app.serving.prediction import Prediction
from mnist_app.training.handwriting import DIGIT_STYLES, FLAGGED_LETTERS, LETTER_STYLES, style_drawings, style_inputs
from mnist_app.ui.digit_view import agreement_line

SAMPLE = 3  # every third drawing of the held-out grid: each style at every pen, size and slant in turn


@pytest.fixture(scope="module")
def held_out_readings(reader):
    """(drawing, reading) for a sample of the held-out hand's digits, read by the shipped ANN and CNN."""
    drawings = list(style_drawings("held_out"))[::SAMPLE]
    return [(drawing, reader.read_digit(drawing.image, ("ann", "cnn"))) for drawing in drawings]


@pytest.mark.slow
def test_the_two_hands_differ_and_only_the_training_hand_trains():
    for style, (_, hands) in {**DIGIT_STYLES, **{k: (k, v) for k, v in LETTER_STYLES.items()}}.items():
        assert hands[0] != hands[1], style
    trained, _, styles = style_inputs("train", draws=2)
    held_out, _, _ = style_inputs("held_out")
    assert set(styles) == set(DIGIT_STYLES) and len(trained) == 2 * len(DIGIT_STYLES)
    assert not {image.tobytes() for image in trained} & {image.tobytes() for image in held_out}


def test_the_cnn_reads_every_style_right_and_sure(held_out_readings):
    """The issue's target: right and sure on at least 99 % of the held-out hand (pens 8-36)."""
    wrong = [
        (d.style, d.pen, d.size, d.slant, r.predictions["cnn"].digit, round(r.predictions["cnn"].confidence, 2))
        for d, r in held_out_readings
        if not (r.predictions["cnn"].digit == d.label and r.predictions["cnn"].sure)
    ]
    print(f"CNN wrong or not sure on {len(wrong)} of {len(held_out_readings)}: {wrong}")
    assert len(wrong) <= 0.01 * len(held_out_readings), wrong


@pytest.mark.parametrize("style", ["1 with a flag", "1 with a flag and a foot", "7 with a crossbar", "7 plain"])
def test_flagged_ones_and_crossed_sevens_are_told_apart(held_out_readings, style):
    """Both networks: a 1 with a flag is a 1, a 7 with or without its bar a 7."""
    for drawing, reading in held_out_readings:
        if drawing.style == style:
            assert {p.digit for p in reading.predictions.values()} == {drawing.label}, (drawing, reading.predictions)


def test_digits_of_every_style_are_not_called_letters(held_out_readings):
    called = [(d.style, r.letter) for d, r in held_out_readings if r.letter is not None]
    unusual = [d.style for d, r in held_out_readings if not r.typical]
    print(f"called letters: {called}; does not look like a digit: {unusual}")
    assert len(called) <= 0.01 * len(held_out_readings), called
    assert len(unusual) <= 0.02 * len(held_out_readings), unusual


def test_drawn_capitals_are_flagged(reader):
    """A, B, E, H, K, M, R and X of the held-out hand: flagged at least 90 % of the time, and named."""
    flagged, named, total = 0, 0, 0
    for drawing in list(style_drawings("held_out", "letters"))[::SAMPLE]:
        if drawing.label not in FLAGGED_LETTERS:
            continue
        reading = reader.read_digit(drawing.image, ("cnn",))
        total += 1
        flagged += not reading.typical
        named += reading.letter == drawing.label
    print(f"capitals flagged: {flagged} of {total}, named {named}")
    assert flagged >= 0.9 * total and named >= 0.8 * total


def test_an_s_read_as_5_says_it_could_be_either():
    """Where a letter is also a digit's form (S and 5, B and 8), the page says so instead of choosing."""
    five = Prediction("cnn", np.eye(10, dtype=np.float32)[5])
    line = agreement_line([five, five], typical=False, letter="S")
    assert "the letter **S** or the digit **5**" in line
    eight = Prediction("cnn", np.eye(10, dtype=np.float32)[8])
    assert "the letter **B** or the digit **8**" in agreement_line([eight, eight], typical=False, letter="B")
    three = Prediction("cnn", np.eye(10, dtype=np.float32)[3])
    assert "looks more like the letter **B**" in agreement_line([three, three], typical=False, letter="B")


def test_a_second_render_is_the_first_and_cannot_be_changed_in_place():
    """`training.rendered_once`: the same arguments give the same arrays without drawing again; each caller gets
    its own containers, and the shared arrays are read-only."""
    first, labels, styles = style_inputs("train", seed=5, draws=1)
    again, _, styles_again = style_inputs("train", seed=5, draws=1)
    assert again is first and np.array_equal(labels, style_inputs("train", seed=5, draws=1)[1])
    styles_again.append("a caller's own change")
    assert style_inputs("train", seed=5, draws=1)[2] == styles
    with pytest.raises(ValueError, match="read-only"):
        first[0, 0, 0] = 255
    assert not np.array_equal(style_inputs("train", seed=6, draws=1)[0], first)
