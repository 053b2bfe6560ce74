"""Reading whole numbers: segmentation against MNIST test digits and our own strokes, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_app.reading.segment import segment_number
from mnist_app.serving.reader import MAX_DIGITS, Reader, TooManyParts
from tests.support import specks_beside_305
from tools.inputs.degrade import on_paper
from tools.inputs.number_images import drawn_number, exact_rate, touching_drawing, touching_rates
from tools.inputs.synthetic_drawings import canvas_points

NUMBERS = 120  # pasted numbers per accuracy test (those whose digits happen to touch are left out)


# A regression guard on 150 numbers each (about 115 with digits apart: one miss is 0.9 points).
# Numbers whose digits stand apart (gaps from 16 px down to just apart); docs/numbers.md's larger samples and the
# touching numbers come from `python -m tools.reports.number_report`, touching ones are tested below.
@pytest.mark.slow
@pytest.mark.parametrize("photo, bound", [(False, 0.97), (True, 0.93)], ids=["canvas", "paper-photo"])
def test_pasted_mnist_numbers_read_exactly(reader, test_set, photo, bound):
    apart, _, n_apart, _ = exact_rate(reader, *test_set, 4 + photo, photo, NUMBERS, ((3, 16), (0, 3)))
    print(f"numbers ({'photo' if photo else 'canvas'}): apart {apart:.1%} of {n_apart}")
    assert apart >= bound


@pytest.mark.parametrize("digits", ["1672", "7005", "38", "4519"])
def test_touching_drawn_digits_are_cut_apart(reader, digits):
    """Connected strokes of several digits: over-segmentation reads each ("1672" read "162" before)."""
    without_strings = Reader(reader.chosen(["cnn"]), check=reader.check)
    reading = without_strings.read_number(touching_drawing(digits), polarity="light")
    assert reading.number("cnn") == digits


@pytest.mark.slow
def test_touching_mnist_numbers_are_cut_apart(reader, test_set):
    """Without the string reader (a missing or damaged models/strings.keras): MNIST test digits overlapping or
    touching (gaps -4 to 2 px at MNIST's scale), 2-4 digits, cut by over-segmentation with the CNN."""
    without_strings = Reader(reader.chosen(["cnn"]), check=reader.check)
    rates = touching_rates(without_strings, *test_set, seed=9, photo=False, numbers=40, lengths=(2, 4))
    print(f"touching numbers (canvas, 2-4 digits): {rates}")
    assert rates["exact"] >= 0.3  # cutting only at the thinnest column read far fewer (docs/numbers.md)


def test_drawn_numbers_of_one_to_ten_digits(shipped):
    rng = np.random.default_rng(8)
    misses = []
    for length in range(1, 11):
        for slant in (-0.25, 0.0, 0.25):  # about +-14 degrees
            digits = "".join(str(d) for d in rng.integers(0, 10, size=length))
            image = drawn_number(digits, rng, pen=float(rng.uniform(5, 12)), slant=slant)
            reading = Reader({"cnn": shipped["cnn"]}).read_number(image, polarity="light")
            if reading is None or reading.number("cnn") != digits:
                misses.append((digits, slant, reading.number("cnn") if reading else None))
    print(f"drawn numbers: {30 - len(misses)}/30 exact; misses {misses}")
    assert len(misses) <= 1, misses


def strokes_image(strokes: list[list[tuple[float, float]]], width: int = 420, height: int = 160) -> np.ndarray:
    image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line(stroke, fill=255, width=8, joint="curve")
    return np.asarray(image)


def shifted(points: list[tuple[float, float]], dx: float, dy: float = 0) -> list[tuple[float, float]]:
    return [(x + dx, y + dy) for x, y in points]


def test_digits_drawn_in_two_separate_strokes_are_merged(shipped):
    # A 4 whose down stroke does not touch its open "L"; a 5 with a detached flag; a 7 with a separate bar.
    four = [[(40, 20), (15, 90), (80, 90)], [(65, 50), (65, 140)]]
    five = [[(140, 20), (185, 20)], [(135, 32), (132, 75), (165, 70), (185, 100), (175, 130), (145, 140), (130, 128)]]
    seven = [[(250, 20), (310, 20)], [(312, 30), (275, 140)]]
    image = strokes_image([*four, *five, *seven])
    digits = segment_number(image, "light")
    assert len(digits) == 3, [d.box for d in digits]
    reading = Reader({"cnn": shipped["cnn"]}).read_number(image, polarity="light")
    assert reading.number("cnn") == "457"


@pytest.mark.parametrize("number", ["17", "71", "711", "1111"])
def test_ones_next_to_sevens_are_not_merged(shipped, number):
    strokes = []
    for index, char in enumerate(number):
        strokes += [shifted(s, 10 + index * 75, 10) for s in canvas_points(int(char), size=110, left=0, top=0)]
    image = strokes_image(strokes, width=40 + 75 * len(number))
    reading = Reader({"cnn": shipped["cnn"]}).read_number(image, polarity="light")
    assert reading is not None and reading.number("cnn") == number


@pytest.mark.parametrize("photo", [False, True], ids=["canvas", "paper-photo"])
def test_a_zero_with_hairline_top_and_bottom_stays_one_digit(shipped, photo):
    """A serif typeface's 0: heavy sides, and a top and bottom so thin that they are faint ink. The hairlines are
    not ink enough to read, but they join the sides into one digit, not two read as "11"; on paper too, where the
    background's removal keeps them because they are attached to the sides."""
    image = Image.new("L", (260, 170), 0)
    draw = ImageDraw.Draw(image)
    for stroke in canvas_points(4, size=110, left=20, top=25):
        draw.line(stroke, fill=255, width=10, joint="curve")
    draw.ellipse((150, 25, 215, 140), outline=38, width=2)  # the hairline, at 0.15 of full ink
    draw.arc((150, 25, 215, 140), 110, 250, fill=255, width=11)  # the heavy sides
    draw.arc((150, 25, 215, 140), -70, 70, fill=255, width=11)
    ink = np.asarray(image)
    if photo:
        reading = Reader({"cnn": shipped["cnn"]}).read_number(on_paper(ink, np.random.default_rng(0), jpeg=75))
    else:
        reading = Reader({"cnn": shipped["cnn"]}).read_number(ink, polarity="light")
    assert reading.number("cnn") == "40", [digit.box for digit in reading.digits]


def test_specks_are_ignored_and_their_places_kept(shipped):
    reading = specks_beside_305(Reader({"cnn": shipped["cnn"]}))
    assert reading.number("cnn") == "305"
    assert [mark.kind for mark in reading.ignored] == ["speck", "speck"]
    first_digit = min(digit.box[0] for digit in reading.digits)
    corner, low = (mark.box for mark in reading.ignored)
    assert corner[:2] == (3, 3) and corner[2] <= first_digit, "the dust before the first digit, where it was"
    assert low[0] == 60 and low[2] == 62  # the second speck's columns, as drawn


def test_faint_stray_line_is_not_a_digit(shipped):
    image = drawn_number("305", np.random.default_rng(1), pen=8).copy()
    height, width = image.shape[:2]
    image[height // 4 : height * 3 // 4, width - 6, :3] = 110  # a faint pencil scratch, tall but light
    reading = Reader({"cnn": shipped["cnn"]}).read_number(image, polarity="light")
    assert reading.number("cnn") == "305"
    (mark,) = reading.ignored
    assert mark.kind == "faint mark" and mark.box[0] >= width - 8


def number_with_pens(digits: str, pens: list[float], height: float = 70) -> np.ndarray:
    """White strokes on black, each digit with its own pen width (a thin 1 beside heavy digits)."""
    image = Image.new("RGBA", (int(40 + len(digits) * height * 0.95), int(height * 1.6)), (0, 0, 0, 255))
    draw = ImageDraw.Draw(image)
    for index, (char, pen) in enumerate(zip(digits, pens, strict=True)):
        for stroke in canvas_points(int(char), size=height, left=20 + index * height * 0.95, top=height * 0.3):
            draw.line(stroke, fill=(255, 255, 255, 255), width=round(pen), joint="curve")
    return np.asarray(image)


@pytest.mark.parametrize("digits, pens", [("71", [10, 2]), ("561", [12, 12, 2]), ("1585", [2, 11, 11, 11])])
def test_a_thin_one_in_the_same_ink_is_never_dropped(shipped, digits, pens):
    """A 1 holds little ink, and less with a thin pen: light, but not faint, so it is a digit."""
    reading = Reader({"cnn": shipped["cnn"]}).read_number(number_with_pens(digits, pens), polarity="light")
    assert len(reading.digits) == len(digits) and reading.ignored == []
    assert reading.number("cnn")[digits.index("1")] == "1"


def test_boxes_are_left_to_right_inside_the_image(shipped):
    image = drawn_number("2026", np.random.default_rng(2), pen=8)
    digits = segment_number(image, "light")
    assert len(digits) == 4
    lefts = [d.box[0] for d in digits]
    assert lefts == sorted(lefts)
    for x0, y0, x1, y1 in (d.box for d in digits):
        assert 0 <= x0 < x1 <= image.shape[1] and 0 <= y0 < y1 <= image.shape[0]
    assert all(d.image.shape == (28, 28) for d in digits)


def test_empty_dot_and_scribble(shipped):
    plain = Reader({"cnn": shipped["cnn"]})
    assert plain.read_number(np.zeros((120, 360, 4), np.uint8)) is None
    dot = np.zeros((120, 360), np.uint8)
    dot[50:58, 100:108] = 255
    reading = plain.read_number(dot)
    assert reading is not None and len(reading.digits) == 1  # one mark: read as one (doubtful) digit
    rng = np.random.default_rng(0)
    noise = ((rng.random((120, 360)) > 0.5) * 255).astype(np.uint8)
    try:
        reading = plain.read_number(noise)
    except TooManyParts as error:
        assert str(MAX_DIGITS) in str(error)
    else:
        assert reading is None or len(reading.digits) <= MAX_DIGITS


def test_cli_reads_numbers_as_text_and_json(tmp_path, predict_cli):
    """...and through the digit check, as Number mode does: a digit that looks like none says so."""
    Image.fromarray(drawn_number("2026", np.random.default_rng(2), pen=8)).save(tmp_path / "year.png")
    Image.fromarray(np.full((50, 150), 255, np.uint8)).save(tmp_path / "blank.png")
    files = [str(tmp_path / "year.png"), str(tmp_path / "blank.png")]
    text = predict_cli(["--number", *files])
    assert text.returncode == 1  # the blank file failed
    year_line, blank_line = text.stdout.splitlines()
    assert year_line.startswith(f"{files[0]}: 2026 (cnn; least sure digit ") and year_line.endswith(" %)")
    assert blank_line.startswith(f"{files[1]}: error: no ink")
    as_json = predict_cli(["--number", "--json", "--models", "ann", files[0]])
    assert as_json.returncode == 0, as_json.stderr
    result = json.loads(as_json.stdout)
    assert result["number"] == "2026" and result["model"] == "ann" and result["file"] == files[0]
    assert [d["digit"] for d in result["digits"]] == [2, 0, 2, 6] and result["ignored"] == []
    for digit in result["digits"]:
        assert len(digit["box"]) == 4 and len(digit["top3"]) == 3 and 0 <= digit["confidence"] <= 1
        assert digit["looks_like_a_digit"] is True  # the digit check, as in the app's Number mode
    both = predict_cli(["--number", "--models", "cnn,ann", files[0]])
    assert both.returncode == 2 and "one model" in both.stderr
