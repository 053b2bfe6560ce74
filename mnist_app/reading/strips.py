"""The string reader's input: a run of touching digits as one strip, 28 px high, the way MNIST drew digits.

A part wider than one digit (digits that touch or overlap) is read whole by the string reader
(`serving.string_reader`) rather than cut first. Its input is the part's ink, cropped, its strokes brought
towards MNIST's width, scaled so the ink is DIGIT_BOX (20) px high and placed in a STRING_HEIGHT x
STRING_WIDTH strip, left-aligned at STRING_MARGIN. Training (`training.strings`) builds its strips from
pasted MNIST training digits with this same function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from mnist_app.config import DIGIT_BOX, IMAGE_SIDE
from mnist_app.reading.preprocess import WORK_SIDE, crop_with_origin, toward_mnist_stroke

STRING_HEIGHT = IMAGE_SIDE
STRING_WIDTH = 256  # room for about 12 digits side by side; wider parts are not read whole
STRING_MARGIN = (IMAGE_SIDE - DIGIT_BOX) // 2  # blank pixels above, below and before the ink
WORK_SCALE = WORK_SIDE // DIGIT_BOX  # strokes are evened out at this many times the strip's scale


@dataclass(frozen=True)
class StringInput:
    strip: np.ndarray  # (STRING_HEIGHT, STRING_WIDTH) float32 in [0, 1]
    left: int  # the ink's first column in the given ink map...
    scale: float  # ...and the strip's pixels per ink-map pixel: strip x = STRING_MARGIN + (x - left) * scale


def string_input(ink: np.ndarray) -> StringInput | None:
    """The strip for an ink map holding one run of digits; None when it has no ink or is too long for the strip."""
    cropped = crop_with_origin(ink)
    if cropped is None:
        return None
    crop, _, left = cropped
    height, width = crop.shape
    scale = DIGIT_BOX / height
    if round(width * scale) > STRING_WIDTH - 2 * STRING_MARGIN:
        return None
    work = toward_mnist_stroke(_resize(crop, WORK_SCALE * scale), WORK_SCALE)
    # Thinning or thickening moves the ink's edges by a pixel or two: keep the scale, centre it again.
    scaled = _resize(work, 1 / WORK_SCALE)[:STRING_HEIGHT, : STRING_WIDTH - 2 * STRING_MARGIN]
    top = (STRING_HEIGHT - scaled.shape[0]) // 2
    strip = np.zeros((STRING_HEIGHT, STRING_WIDTH), np.float32)
    strip[top : top + scaled.shape[0], STRING_MARGIN : STRING_MARGIN + scaled.shape[1]] = scaled
    peak = float(strip.max())
    return StringInput(strip / peak if peak > 0 else strip, left, scale)


def _resize(ink: np.ndarray, scale: float) -> np.ndarray:
    height, width = ink.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return np.clip(np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize(size, method)), 0, 1)
