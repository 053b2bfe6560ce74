"""Read a run of touching digits whole with the string reader (a CNN with a CTC head, `training.strings`).

Greedy CTC decoding: each output column's likeliest class; a run of one digit's columns is one digit,
blanks separate digits. Each digit's probabilities are the ten digits' at its likeliest column
(renormalised without the blank), and its place is that column's place in the strip.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from scipy.special import softmax

from mnist_app.config import NUM_CLASSES
from mnist_app.reading.parts import WholeReader
from mnist_app.reading.strips import STRING_HEIGHT, STRING_MARGIN, STRING_WIDTH, StringInput, string_input
from mnist_app.serving.model_files import REBUILD_HINT, ModelLoadError, load_keras_file

log = logging.getLogger(__name__)

BLANK = 0  # CTC's blank is class 0; digit d is class d + 1
FRAME = 4  # strip pixels per output column
WIDTH_STEP = 64  # strips are read this many pixels wider at a time (fewer shapes to trace)
MODEL_FILE = "strings.keras"
CARD_FILE = "strings.json"


@dataclass(frozen=True)
class StringDigit:
    probabilities: np.ndarray  # (10,), sums to 1
    x: float  # its centre, in strip pixels


def load_whole_reader(models_dir: Path) -> WholeReader | None:
    """The shipped string reader, warmed up at every strip width, as Number mode calls it; None when
    there is none or it cannot be loaded (the reason is logged: touching digits are then cut instead)."""
    try:
        model = load_string_reader(models_dir)
    except ModelLoadError as error:
        log.warning("%s", error)
        return None
    if model is None:
        return None
    for width in range(WIDTH_STEP, STRING_WIDTH + 1, WIDTH_STEP):  # each width is traced once, here
        model.predict_on_batch(np.zeros((1, STRING_HEIGHT, width, 1), np.float32))
    return whole_reader(model)


def load_string_reader(models_dir: Path) -> keras.Model | None:
    """The string reader in `models_dir`, or None when there is none (numbers are then cut, not read whole)."""
    path = Path(models_dir) / MODEL_FILE
    if not path.is_file():
        return None
    model = load_keras_file(path)
    if tuple(model.input_shape) != (None, STRING_HEIGHT, None, 1) or model.output_shape[-1] != NUM_CLASSES + 1:
        raise ModelLoadError(
            f"{path} takes {model.input_shape} and gives {model.output_shape}, expected (None, 28, None, 1) -> "
            f"(None, None, 11); {REBUILD_HINT}"
        )
    return model


def read_strips(model: keras.Model, strips: np.ndarray) -> list[list[StringDigit]]:
    """The digits in each strip (n, 28, 256), uint8 or float in [0, 1], left to right; strips are read
    only as wide as their ink needs (a multiple of WIDTH_STEP), like widths together."""
    x = np.asarray(strips, np.float32) / (255.0 if strips.dtype == np.uint8 else 1.0)
    widths = strip_widths(x)
    readings: list[list[StringDigit]] = [[] for _ in range(len(x))]
    for width in np.unique(widths):
        chosen = np.flatnonzero(widths == width)
        logits = np.asarray(model.predict_on_batch(x[chosen, :, :width, None]))
        for index, row in zip(chosen, logits, strict=True):
            readings[index] = decode(row)
    return readings


def strip_widths(strips: np.ndarray) -> np.ndarray:
    """How wide each strip must be read: its ink and a margin, rounded up to WIDTH_STEP."""
    inked = strips.max(axis=1) > 0
    ends = STRING_WIDTH - np.argmax(inked[:, ::-1], axis=1)
    return np.minimum(STRING_WIDTH, (ends + STRING_MARGIN + WIDTH_STEP - 1) // WIDTH_STEP * WIDTH_STEP)


def decode(logits: np.ndarray) -> list[StringDigit]:
    """Greedy CTC decoding of one strip's (columns, 11) logits."""
    probabilities = softmax(logits, axis=1)
    best = probabilities.argmax(axis=1)
    digits, start = [], 0
    for column in range(1, len(best) + 1):
        if column == len(best) or best[column] != best[start]:
            if best[start] != BLANK:
                peak = start + int(np.argmax(probabilities[start:column, best[start]]))
                ten = probabilities[peak, 1:]
                digits.append(StringDigit(ten / ten.sum(), (peak + 0.5) * FRAME))
            start = column
    return digits


def ink_column(string: StringInput, x: float) -> float:
    """The ink map's column for strip column `x`."""
    return string.left + (x - STRING_MARGIN) / string.scale


def whole_reader(model: keras.Model) -> WholeReader:
    """The string reader as the segmentation calls it: a run's own ink in, its digits and their centres out."""

    def read(ink: np.ndarray) -> list[tuple[np.ndarray, float]] | None:
        string = string_input(ink)
        if string is None:
            return None
        (digits,) = read_strips(model, string.strip[None])
        return [(digit.probabilities, ink_column(string, digit.x)) for digit in digits]

    return read
