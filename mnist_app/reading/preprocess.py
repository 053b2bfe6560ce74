"""Turn any drawing or photo of a digit into a 28x28 MNIST-style input, the way MNIST was made.

NumPy, Pillow and scipy.ndimage. The pipeline, each step a small function:
1. `ink_map` (mnist_app.reading.ink): ink intensity in [0, 1] (polarity, transparency, uneven photo background, noise);
   tiny images (a digit scanned at 8-40 px) are first enlarged smoothly, so no step works on blocks;
2. `crop_to_ink`: crop to the ink's bounding box, ignoring small specks;
3. `normalise_stroke`: bring the stroke weight towards MNIST's (a 4 px pen and a 40 px brush alike),
   but never thin soft ink (blurry or low-resolution strokes): erosion breaks grey strokes apart;
4. `fit_box`: scale so the longer side is 20 pixels, keeping the aspect ratio, with area averaging;
5. `centre_by_mass`: paste into 28x28 with the ink's centre of mass at (14, 14).
`preprocess` runs them all; `preprocess_steps` keeps every intermediate image for display.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from mnist_app.config import DIGIT_BOX, IMAGE_SIDE, INK_LEVELS, SOFT_INK
from mnist_app.reading.ink import EIGHT_CONNECTED, Polarity, ink_map

SPECK_FRACTION = 0.02  # components lighter than this share of all ink are specks
WORK_SIDE = 4 * DIGIT_BOX  # stroke weight is normalised at 4x the final resolution
MNIST_STROKE = 2.5  # median MNIST stroke width, in pixels of the 20-px box (measured: 2.46)
STROKE_BAND = (1.9, 3.3)  # widths inside this band are left alone, like MNIST's own spread
MASS_CENTRE = 14.0  # MNIST's mean centre of mass, row and column (measured: 13.99, 14.00)


@dataclass(frozen=True)
class PreprocessSteps:
    """Every stage of the pipeline, for showing what the models see."""

    ink: np.ndarray  # full-size ink map, float in [0, 1]
    crop: np.ndarray  # ink cropped to its bounding box
    normalised: np.ndarray  # stroke weight normalised, longer side WORK_SIDE
    scaled: np.ndarray  # longer side 20 px
    final: np.ndarray  # (28, 28) float32 in [0, 1]: the model input


def preprocess(image: np.ndarray, polarity: Polarity = "auto") -> np.ndarray | None:
    """A 28x28 float32 image in [0, 1], white digit on black; None when there is no ink."""
    steps = preprocess_steps(image, polarity)
    return None if steps is None else steps.final


def preprocess_steps(image: np.ndarray, polarity: Polarity = "auto") -> PreprocessSteps | None:
    """The whole pipeline with its intermediate images; None when there is no ink."""
    ink = ink_map(image, polarity)
    return None if ink is None else steps_from_ink(ink)


def steps_from_ink(ink: np.ndarray) -> PreprocessSteps | None:
    """Steps 2-5 on an ink map that is already found (e.g. one digit's ink cut from a number)."""
    crop = crop_to_ink(ink)
    if crop is None:
        return None
    normalised = normalise_stroke(crop)
    scaled = fit_box(normalised, DIGIT_BOX)
    final = centre_by_mass(scaled)
    return PreprocessSteps(ink, crop, normalised, scaled, final)


def preprocess_ink(ink: np.ndarray) -> np.ndarray | None:
    """The 28x28 model input for an ink map (steps 2-5); None when it holds no ink."""
    steps = steps_from_ink(ink)
    return None if steps is None else steps.final


# --- 2. crop -----------------------------------------------------------------------------------


def crop_to_ink(ink: np.ndarray) -> np.ndarray | None:
    """The ink's bounding box, leaving out specks far lighter than the digit; None if no ink."""
    cropped = crop_with_origin(ink)
    return None if cropped is None else cropped[0]


def crop_with_origin(ink: np.ndarray) -> tuple[np.ndarray, int, int] | None:
    """`crop_to_ink`, and the crop's first row and column in `ink`."""
    keep = _mask_without_specks(ink)
    rows, cols = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
    if rows.size == 0:
        return None
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    crop_keep = keep[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return np.where(crop_keep, crop, 0.0).astype(np.float32), int(rows[0]), int(cols[0])


def _mask_without_specks(ink: np.ndarray) -> np.ndarray:
    """Pixels that belong to the digit: ink in connected parts holding a fair share of all ink."""
    present = ink > 0.1
    small_side = 32
    factor = max(1, int(np.ceil(max(ink.shape) / small_side)))
    # Components are found on a reduced grid (fast); a block is ink if any pixel in it is.
    height, width = -(-ink.shape[0] // factor), -(-ink.shape[1] // factor)
    padded = np.zeros((height * factor, width * factor), dtype=np.float32)
    padded[: ink.shape[0], : ink.shape[1]] = np.where(present, ink, 0.0)
    blocks = padded.reshape(height, factor, width, factor).sum(axis=(1, 3))
    labels, _ = ndimage.label(blocks > 0, structure=EIGHT_CONNECTED)
    mass = np.bincount(labels.ravel(), weights=blocks.ravel())
    mass[0] = 0.0  # label 0 is background
    keep_label = mass >= SPECK_FRACTION * mass.sum()
    keep_label[int(np.argmax(mass))] = True  # the heaviest part is never a speck
    keep_label[0] = False
    keep_blocks = keep_label[labels]
    keep = np.repeat(np.repeat(keep_blocks, factor, axis=0), factor, axis=1)
    return keep[: ink.shape[0], : ink.shape[1]] & present


# --- 3. stroke weight --------------------------------------------------------------------------


def normalise_stroke(crop: np.ndarray) -> np.ndarray:
    """Resize so the longer side is WORK_SIDE, then thin or thicken strokes towards MNIST's width."""
    return toward_mnist_stroke(fit_box(crop, WORK_SIDE), WORK_SIDE / DIGIT_BOX)


def toward_mnist_stroke(work: np.ndarray, scale: float) -> np.ndarray:
    """Thin or thicken the strokes of `work` towards MNIST's width, for an image `scale` times the size
    the models will see it at (4: a digit whose longer side is WORK_SIDE)."""
    width = stroke_width(work) / scale  # in pixels of the final 20-px box
    if STROKE_BAND[0] <= width <= STROKE_BAND[1]:
        return work
    if width > STROKE_BAND[1] and is_soft(work):
        return work  # measured: eroding blurry grey strokes breaks them (a 7 loses its bar)
    # Each pixel of erosion or dilation changes the width by 2 px of the work image.
    change = round((MNIST_STROKE - width) * scale / 2)
    if change == 0:
        return work
    padded = np.pad(work, abs(change) + 1)  # room to grow, and a zero border to erode from
    if change > 0:
        adjusted = ndimage.maximum_filter(padded, size=2 * change + 1, mode="nearest")
    else:
        adjusted = _thin_keeping_thin_parts(padded, -change)
    if not np.any(adjusted > 0.1):  # eroded away entirely (a lone dot): keep it as drawn
        return work
    recropped = crop_to_ink(adjusted)
    return work if recropped is None else recropped


def _thin_keeping_thin_parts(work: np.ndarray, steps: int) -> np.ndarray:
    """Erode one pixel at a time, but keep any part that one more erosion would wipe out.

    A marker's stroke is rarely even: eroding by the mean excess width broke the thin bottom of
    a thick 0 (it became an arch and read as 7). Measured on paper photos of numbers: 111 -> 113
    of 117 read exactly, pen drawings and single-digit photos unchanged."""
    out = work
    for _ in range(steps):
        eroded = ndimage.minimum_filter(out, size=3, mode="nearest")
        reopened = ndimage.maximum_filter(eroded, size=3, mode="nearest")
        vanishing = (out > 0.5) & (reopened < 0.5)  # under 3 px wide here: erosion would delete it
        out = np.where(vanishing, out, eroded)
    return out


def is_soft(ink: np.ndarray) -> bool:
    """Blurry or enlarged low-resolution ink: most inked pixels are mid-grey, not solid."""
    return bool(soft_rows(np.asarray(ink)[None])[0])


def soft_rows(images: np.ndarray) -> np.ndarray:
    """`is_soft` for each image of a batch (n, ...) at once: a boolean per image."""
    flat = np.asarray(images).reshape(len(images), -1)
    low, high = INK_LEVELS
    inked = (flat > low).sum(axis=1)
    mid = ((flat > low) & (flat < high)).sum(axis=1)
    return (inked > 0) & (mid > SOFT_INK * inked)


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels: twice the ink area over its boundary length (area = length x width)."""
    mask = ink > 0.5
    area = int(mask.sum())
    if area == 0:
        return 0.0
    padded = np.pad(mask, 1)
    interior = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    boundary = int((mask & ~interior).sum())
    return 2.0 * area / max(boundary, 1)


# --- 4. scale ----------------------------------------------------------------------------------


def fit_box(ink: np.ndarray, side: int) -> np.ndarray:
    """Scale so the longer side is `side` pixels, keeping the aspect ratio (area averaging when shrinking)."""
    height, width = ink.shape
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == (width, height):
        return ink.astype(np.float32)
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize(size, method), dtype=np.float32)


# --- 5. centre ---------------------------------------------------------------------------------


def centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Paste into a 28x28 field so the centre of mass lands on (14, 14), keeping all ink inside."""
    field = np.zeros((IMAGE_SIDE, IMAGE_SIDE), dtype=np.float32)
    digit = np.clip(digit, 0.0, 1.0)
    height, width = digit.shape
    mass = float(digit.sum())
    if mass <= 0:
        return field
    rows, cols = np.indices(digit.shape)
    centre_row, centre_col = float((rows * digit).sum() / mass), float((cols * digit).sum() / mass)
    # Whole-pixel shift (as MNIST did), clamped so no ink falls off the field.
    top = int(np.clip(round(MASS_CENTRE - centre_row), 0, IMAGE_SIDE - height))
    left = int(np.clip(round(MASS_CENTRE - centre_col), 0, IMAGE_SIDE - width))
    field[top : top + height, left : left + width] = digit
    peak = float(field.max())
    return field / peak if peak > 0 else field
