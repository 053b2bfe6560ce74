"""The string reader: runs of touching digits read whole (strips, CTC decoding, the shipped model in Number mode)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from mnist_app.config import MODELS_DIR
from mnist_app.reading.parts import Part, components
from mnist_app.reading.strips import STRING_HEIGHT, STRING_MARGIN, STRING_WIDTH, string_input
from mnist_app.reading.touching import read_whole
from mnist_app.serving.reader import Reader
from mnist_app.serving.string_reader import (
    MODEL_FILE,
    TYPEFACE_MODEL_FILE,
    decode,
    ink_column,
    least_sure,
    load_whole_reader,
    surer_reading,
)
from mnist_app.training.strings import synthetic_strips
from tools.inputs.number_images import touching_drawing, touching_number, touching_rates


def logits_for(classes: list[int]) -> np.ndarray:
    """Logits whose likeliest class per column is `classes` (0 is the blank)."""
    logits = np.full((len(classes), 11), -5.0, np.float32)
    logits[np.arange(len(classes)), classes] = 5.0
    return logits


def test_decoding_collapses_repeats_and_keeps_doubled_digits():
    # columns: blank, 1, 1, blank, 1, 7, 7, blank -> "1", "1", "7"
    digits = decode(logits_for([0, 2, 2, 0, 2, 8, 8, 0]))
    assert [int(np.argmax(d.probabilities)) for d in digits] == [1, 1, 7]
    assert [d.x for d in digits] == [6.0, 18.0, 22.0]  # the likeliest column of each run, in strip pixels
    assert all(abs(d.probabilities.sum() - 1) < 1e-6 for d in digits)
    assert decode(logits_for([0, 0, 0])) == []


def test_strip_scale_and_place():
    ink = np.zeros((200, 500), np.float32)
    ink[50:150, 100:400] = 1.0  # an outline 100 px of ink high, 300 wide, its stroke MNIST's at that scale
    ink[62:138, 112:388] = 0.0
    string = string_input(ink)
    assert string.strip.shape == (STRING_HEIGHT, STRING_WIDTH) and string.strip.max() == 1.0
    rows, cols = np.flatnonzero(string.strip.max(axis=1) > 0.1), np.flatnonzero(string.strip.max(axis=0) > 0.1)
    assert (rows[0], rows[-1]) == (STRING_MARGIN, STRING_HEIGHT - STRING_MARGIN - 1)
    assert cols[0] == STRING_MARGIN and abs(cols[-1] - (STRING_MARGIN + 59)) <= 1
    assert abs(ink_column(string, STRING_MARGIN + 30) - 250) <= 5  # the middle of the strip is the middle of the ink
    ink[100:102, 20:22] = 1.0  # a speck far to the left: left out of the strip, and of where its digits are
    specked = string_input(ink)
    assert np.array_equal(specked.strip, string.strip) and specked.left == string.left == 100


def test_thick_strokes_are_thinned_without_changing_the_scale():
    ink = np.zeros((200, 500), np.float32)
    ink[50:150, 100:400] = 1.0  # a marker's block: thinned towards MNIST's stroke, still 20 px high at most
    string = string_input(ink)
    rows, cols = np.flatnonzero(string.strip.max(axis=1) > 0.1), np.flatnonzero(string.strip.max(axis=0) > 0.1)
    assert rows[-1] - rows[0] + 1 <= 20 and cols[-1] - cols[0] + 1 <= 60


def test_strips_too_long_or_empty_are_not_read_whole():
    assert string_input(np.zeros((50, 50), np.float32)) is None
    long_run = np.zeros((20, 400), np.float32)
    long_run[:, :] = 1.0  # 20 high, 400 wide: longer than the strip holds at MNIST's scale
    assert string_input(long_run) is None


def test_training_strips_hold_their_digits(mnist):
    (x_train, y_train), _ = mnist
    strips, targets = synthetic_strips(x_train[:500], y_train[:500], 20, seed=3)
    assert strips.shape == (20, STRING_HEIGHT, STRING_WIDTH) and strips.dtype == np.uint8
    lengths = (targets > 0).sum(axis=1)
    assert lengths.min() >= 1 and lengths.max() <= 8
    assert all((row[n:] == 0).all() and (row[:n] >= 1).all() for row, n in zip(targets, lengths, strict=True))
    widths = [np.flatnonzero(s.max(axis=0))[-1] for s in strips]  # longer strings make longer strips
    assert np.corrcoef(widths, lengths)[0, 1] > 0.8


@pytest.fixture(scope="module")
def strings(reader):
    strings = reader.whole_reader()
    assert strings is not None, f"{MODELS_DIR / MODEL_FILE} is missing"
    return strings


# Regression guards on the shipped string reader, a few numbers under what it reads (docs/numbers.md);
# the main figures there come from `python -m tools.reports.number_report` on larger samples.
@pytest.mark.parametrize(
    "photo, lengths, bound",
    [(False, (2, 4), 0.9), (False, (5, 8), 0.8), (True, (2, 4), 0.85)],
    ids=["canvas-2-4", "canvas-5-8", "photo-2-4"],
)
def test_touching_mnist_numbers_are_read_whole(reader, test_set, strings, photo, lengths, bound):
    rates = touching_rates(reader, *test_set, 9, photo, 40, lengths)
    print(f"touching ({'photo' if photo else 'canvas'}, {lengths}): {rates}")
    assert rates["exact"] >= bound


DRAWN_RUNS = ("1672", "7005", "38", "4519", "11", "717", "2026", "9876", "3141", "5550")


def test_touching_drawn_digits_read_whole(reader, strings):
    """Our own strokes (held-out hands), overlapping: most runs read whole and right, and the pieces carry
    the string reader's reading. A regression guard, one number under what the shipped reader reads (docs/numbers.md)."""
    right, together = 0, 0
    for advance in (0.4, 0.35):  # each digit starts this many digit sizes after the last: most touch
        for digits in DRAWN_RUNS:
            image = touching_drawing(digits, advance=advance)
            reading = reader.read_number(image, ("cnn",), "light")
            right += reading.number("cnn") == digits
            together += any(d.read_whole is not None for d in reading.digits)
    print(f"drawn touching runs: {right} of 20 exact, {together} read whole")
    assert right >= 16 and together >= 16  # "11" and a few others stand apart, or are no wider than a digit


@pytest.mark.parametrize("digits, advance", [("14", 0.25), ("16", 0.25), ("19", 0.25), ("41", 0.2)])
def test_a_1_hidden_in_its_neighbour_is_read_too(reader, digits, advance):
    """A 1 overlapping its neighbour almost entirely leaves one part narrower than a run, read as one digit
    before (4, 6, 8 and 4); the CNN is unsure of it as one digit, so the string reader reads it too."""
    reading = reader.read_number(touching_drawing(digits, advance=advance), ("cnn",), "light")
    assert reading.number("cnn") == digits


def one_wide_part(width: int) -> tuple[np.ndarray, Part]:
    """An ink map holding one ring 100 px high and `width` wide, and its part."""
    ink = np.zeros((160, width + 60), np.float32)
    ink[30:130, 30 : 30 + width] = 1.0
    ink[42:118, 42 : 18 + width] = 0.0
    (part,) = components(ink)
    return ink, part


@pytest.mark.parametrize(
    "width, reader_least_sure, cnn_sure, typical, kept_whole",
    [
        (105, 0.6, 0.97, True, True),  # a broad 0 read as "10" by an unsure reader: one digit after all
        (105, 0.95, 0.97, True, False),  # the reader sure of both digits: two touching digits
        (105, 0.6, 0.8, True, False),  # the CNN not sure it is one digit
        (105, 0.6, 0.97, False, False),  # the digit check finds it no typical digit (two squeezed into one)
        (130, 0.6, 0.97, True, False),  # wider than one digit is
    ],
)
def test_a_wide_digit_the_reader_splits_is_kept_whole_only_when_the_cnn_is_sure(
    width, reader_least_sure, cnn_sure, typical, kept_whole
):
    ink, part = one_wide_part(width)

    class Judge:
        """The string reader reads "10" as sure as `reader_least_sure`; the CNN reads one 0 as sure as `cnn_sure`."""

        reads_runs = True

        def read_run(self, local: np.ndarray) -> list[tuple[np.ndarray, float]]:
            one, zero = np.eye(10)[1] * reader_least_sure, np.eye(10)[0]
            return [(one + (1 - reader_least_sure) / 10, width * 0.3), (zero, width * 0.7)]

        def score(self, images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
            return np.array([np.eye(10)[0] * cnn_sure + (1 - cnn_sure) / 10]), np.array([typical])

    pieces = read_whole(part, ink, Judge())
    assert (pieces == [part]) is kept_whole
    if not kept_whole:
        assert len(pieces) == 2 and all(p.read_as is not None for p in pieces)


def test_the_ann_reads_the_pieces_and_the_page_says_so(shipped, test_set, strings):
    from mnist_app.ui.number_view import touching_line

    image, truth = touching_number(*test_set, np.random.default_rng(5), 3)
    reading = Reader(shipped, string_reader=strings).read_number(image, ("ann", "cnn"))
    together = [i for i, d in enumerate(reading.digits) if d.read_whole is not None]
    assert together, "no run read whole"
    for i in together:
        assert np.allclose(reading.predictions["cnn"][i].probabilities, reading.digits[i].read_whole)
    assert len(reading.predictions["ann"]) == len(reading.digits)
    line = touching_line(reading)
    assert line.startswith("Digits #") and "the ANN read the pieces" in line


def test_cli_number_json_marks_digits_read_together(predict_cli, test_set, tmp_path):
    image, truth = touching_number(*test_set, np.random.default_rng(11), 4)
    path = tmp_path / "touching.png"
    Image.fromarray(image).save(path)
    result = predict_cli(["--number", "--json", str(path)])
    read = json.loads(result.stdout)
    assert result.returncode == 0 and read["model"] == "cnn"
    assert any(digit["read_with_neighbours"] for digit in read["digits"])
    assert len(read["digits"]) == len(read["number"])


def test_a_damaged_string_reader_leaves_numbers_cut_as_before(tmp_path, reader, caplog):
    (tmp_path / MODEL_FILE).write_bytes(b"not a keras file")
    assert load_whole_reader(tmp_path) is None
    assert "could not be loaded" in caplog.text
    assert load_whole_reader(tmp_path / "nowhere") is None  # none at all: nothing to say
    image = touching_drawing("7005", advance=0.35)
    reading = Reader(reader.chosen(["cnn"]), check=reader.check).read_number(image, polarity="light")
    assert len(reading.digits) >= 3 and all(d.read_whole is None for d in reading.digits)  # cut by the CNN instead


def test_each_run_keeps_the_surer_reading_and_a_sure_reading_of_fewer_digits():
    def sure(digit: int, p: float) -> np.ndarray:
        probabilities = np.full(10, (1 - p) / 9)
        probabilities[digit] = p
        return probabilities

    def reading(digits: str, p: float = 0.99) -> list[tuple[np.ndarray, float]]:
        return [(sure(int(d), p), 10.0 * i) for i, d in enumerate(digits)]

    ink = np.zeros((4, 4))
    unsure_41 = [(sure(4, 0.99), 5.0), (sure(1, 0.55), 12.0)]  # sure of the 4, not of the 1
    sure_47 = [(sure(4, 0.95), 5.0), (sure(7, 0.9), 12.0)]
    assert least_sure(unsure_41) == pytest.approx(0.55)
    assert surer_reading([lambda _: unsure_41, lambda _: sure_47])(ink) is sure_47
    assert surer_reading([lambda _: sure_47, lambda _: list(sure_47)])(ink) is sure_47  # a tie: the first
    # Fewer digits, each sure: the first's extra digit was a neighbour's stroke (the 4's stem read as a 1)
    sure_4, unsure_4 = reading("4"), reading("4", p=0.45)
    assert surer_reading([lambda _: unsure_41, lambda _: sure_4])(ink) is sure_4
    assert surer_reading([lambda _: unsure_41, lambda _: unsure_4])(ink) is unsure_41  # fewer, but not sure
    assert surer_reading([lambda _: sure_4, lambda _: unsure_41])(ink) is sure_4  # more than the first: never
    # ...but not where the first found one digit twice: two overlapping 0s of a 7005 read as one
    found_7005, found_705 = reading("7005"), reading("705")
    assert surer_reading([lambda _: found_7005, lambda _: found_705])(ink) is found_7005
    found_811, found_81 = reading("811"), reading("81")  # a 1 beside a 1: the common spurious copy
    assert surer_reading([lambda _: found_811, lambda _: found_81])(ink) is found_81
    assert surer_reading([lambda _: None, lambda _: sure_4])(ink) is sure_4  # the first cannot read it
    assert surer_reading([lambda _: None, lambda _: []])(ink) is None


def test_the_first_reader_alone_reads_when_the_second_is_missing_or_damaged(tmp_path, caplog):
    (tmp_path / MODEL_FILE).write_bytes((MODELS_DIR / MODEL_FILE).read_bytes())
    ink = np.zeros((40, 120), np.float32)
    ink[8:32, 10:14] = ink[8:32, 40:44] = 1.0  # "11"
    alone = load_whole_reader(tmp_path)(ink)
    (tmp_path / TYPEFACE_MODEL_FILE).write_bytes(b"not a keras file")
    damaged = load_whole_reader(tmp_path)
    assert "could not be loaded" in caplog.text and damaged is not None
    assert [p.argmax() for p, _ in damaged(ink)] == [p.argmax() for p, _ in alone]
