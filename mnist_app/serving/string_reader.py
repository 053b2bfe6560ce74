"""Read a run of touching digits whole with the string reader (a CNN with a CTC head, `training.strings`).

Greedy CTC decoding: each output column's likeliest class; a run of one digit's columns is one digit,
blanks separate digits. Each digit's probabilities are the ten digits' at its likeliest column
(renormalised without the blank), and its place is that column's place in the strip.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import softmax

from mnist_app.config import NUM_CLASSES, STRING_READER, STRING_READERS, TYPEFACE_STRING_READER
from mnist_app.reading.parts import WholeReader
from mnist_app.reading.strips import STRING_HEIGHT, STRING_MARGIN, STRING_WIDTH, StringInput, string_input
from mnist_app.serving import array_networks
from mnist_app.serving.array_networks import Layer
from mnist_app.serving.keras_file import read_keras_file
from mnist_app.serving.model_files import REBUILD_HINT, ModelLoadError, model_path

log = logging.getLogger(__name__)

BLANK = 0  # CTC's blank is class 0; digit d is class d + 1
FRAME = 4  # strip pixels per output column
WIDTH_STEP = 64  # strips are read this many pixels wider at a time (like widths are read together)


def model_file(name: str) -> str:
    """A string reader's file in models/, by its name in config.STRING_READERS."""
    return model_path(Path(), name).name


def card_file(name: str) -> str:
    """A string reader's card in models/, by its name in config.STRING_READERS."""
    return f"{name}.json"


MODEL_FILE, CARD_FILE = model_file(STRING_READER), card_file(STRING_READER)
# The second reader, trained on typefaces and deeper overlaps too: optional. Each run is read by both; where they
# count as many digits, the reading whose least sure digit is surer wins; where the second finds fewer (and is
# sure enough), it wins (docs/numbers.md).
TYPEFACE_MODEL_FILE, TYPEFACE_CARD_FILE = model_file(TYPEFACE_STRING_READER), card_file(TYPEFACE_STRING_READER)
# A later reader that finds fewer digits in a run than the first, each at least this sure, is kept: the first's
# extra digit is mostly a neighbour's stroke read as a 1 (a 4's or a 9's stem at a junction). Chosen on tuning
# numbers (docs/numbers.md): 0.8 and 0.9 read one number fewer than 0.5.
FEWER_SURE = 0.5

Logits = Callable[[np.ndarray], np.ndarray]  # strips (n, 28, width, 1) -> logits (n, width / FRAME, 11)


@dataclass(frozen=True)
class StringDigit:
    probabilities: np.ndarray  # (10,), sums to 1
    x: float  # its centre, in strip pixels


def load_whole_reader(models_dir: Path) -> WholeReader | None:
    """The shipped string readers, as Number mode calls them: each run read by both, and one reading kept
    (`surer_reading`); the first alone without the second. None when there is no
    first reader or it cannot be loaded (the reason is logged: touching digits are then cut instead)."""
    readers = []
    for name in STRING_READERS:
        try:
            network = load_string_reader(models_dir, model_file(name))
        except ModelLoadError as error:
            log.warning("%s", error)
            network = None
        if network is None and name == STRING_READER:
            return None
        if network is not None:
            readers.append(whole_reader(network.logits))
    return readers[0] if len(readers) == 1 else surer_reading(readers)


def surer_reading(readers: list[WholeReader]) -> WholeReader:
    """Read a run with every reader. A later reading with fewer digits than the first's, sure of each (FEWER_SURE),
    is kept, unless the first's is it with one digit written twice (two overlapping 0s read as one: a digit other
    than 1, whose spurious copies are the common error). Otherwise, of the readings that find as many digits as
    the first, the one whose least sure digit is surest (the first on a tie)."""

    def read(ink: np.ndarray) -> list[tuple[np.ndarray, float]] | None:
        first, *others = (reader(ink) for reader in readers)
        if not first:
            return next((found for found in others if found), None)
        fewer = [found for found in others if found and len(found) < len(first) and _fewer_is_right(first, found)]
        if fewer:
            return max(fewer, key=least_sure)
        alike = [found for found in others if found and len(found) == len(first)]
        return max([first, *alike], key=least_sure)

    return read


def _fewer_is_right(first: list[tuple[np.ndarray, float]], fewer: list[tuple[np.ndarray, float]]) -> bool:
    """Whether a reading with fewer digits than the first's is trusted over it (`surer_reading`)."""
    if least_sure(fewer) < FEWER_SURE:
        return False
    longer, shorter = _digits(first), _digits(fewer)
    written_twice = (
        longer[:k] + longer[k + 1 :] == shorter for k in range(1, len(longer)) if longer[k] == longer[k - 1] != "1"
    )
    return not any(written_twice)


def _digits(found: list[tuple[np.ndarray, float]]) -> str:
    return "".join(str(int(probabilities.argmax())) for probabilities, _ in found)


def least_sure(found: list[tuple[np.ndarray, float]]) -> float:
    """The confidence of a reading's least sure digit."""
    return min(float(probabilities.max()) for probabilities, _ in found)


@dataclass(frozen=True)
class StringNetwork:
    """The string reader's layers, run in NumPy (`serving.array_networks`): no TensorFlow in a server."""

    steps: list[Layer]
    parameters: int

    def logits(self, strips: np.ndarray) -> np.ndarray:
        return array_networks.run(self.steps, np.asarray(strips, np.float32))

    def count_params(self) -> int:
        return self.parameters


def load_string_reader(models_dir: Path, file: str = MODEL_FILE) -> StringNetwork | None:
    """The string reader in `models_dir` (`file`), or None when there is none (numbers are then cut, not read whole)."""
    path = Path(models_dir) / file
    if not path.is_file():
        return None
    stored = read_keras_file(path)
    array_networks.use_one_blas_thread()
    network = StringNetwork(
        array_networks.fold_file(path, stored.layers), sum(int(w.size) for w in stored.all_weights())
    )
    try:
        shape = network.logits(np.zeros((1, STRING_HEIGHT, WIDTH_STEP, 1), np.float32)).shape
    except (ValueError, IndexError) as error:
        raise ModelLoadError(f"{path} does not read a 28-px strip ({error}); {REBUILD_HINT}") from error
    if shape != (1, WIDTH_STEP // FRAME, NUM_CLASSES + 1):
        raise ModelLoadError(f"{path} gives {shape[1:]} for a strip, expected (columns, 11); {REBUILD_HINT}")
    return network


def read_strips(logits: Logits, strips: np.ndarray) -> list[list[StringDigit]]:
    """The digits in each strip (n, 28, 256), uint8 or float in [0, 1], left to right; strips are read
    only as wide as their ink needs (a multiple of WIDTH_STEP), like widths together."""
    x = np.asarray(strips, np.float32) / (255.0 if strips.dtype == np.uint8 else 1.0)
    widths = strip_widths(x)
    readings: list[list[StringDigit]] = [[] for _ in range(len(x))]
    for width in np.unique(widths):
        chosen = np.flatnonzero(widths == width)
        for index, row in zip(chosen, np.asarray(logits(x[chosen, :, :width, None])), strict=True):
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


def whole_reader(logits: Logits) -> WholeReader:
    """The string reader as the segmentation calls it: a run's own ink in, its digits and their centres out."""

    def read(ink: np.ndarray) -> list[tuple[np.ndarray, float]] | None:
        string = string_input(ink)
        if string is None:
            return None
        (digits,) = read_strips(logits, string.strip[None])
        return [(digit.probabilities, ink_column(string, digit.x)) for digit in digits]

    return read
