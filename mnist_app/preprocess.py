"""Turn any drawing or photo of a digit into a 28x28 MNIST-style input, the way MNIST was made.

Pure NumPy and Pillow. The pipeline, each step a small function:
1. `ink_map`: ink intensity in [0, 1] (polarity, transparency, uneven photo background, noise);
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
from typing import Literal

import numpy as np
from PIL import Image

from mnist_app.config import DIGIT_BOX, IMAGE_SIDE

Polarity = Literal["auto", "light", "dark"]  # "light": light ink on a dark background

MIN_CONTRAST = 0.08  # ink must differ from the background by this much (of full scale)
SPECK_FRACTION = 0.02  # components lighter than this share of all ink are specks
WORK_SIDE = 4 * DIGIT_BOX  # stroke weight is normalised at 4x the final resolution
MNIST_STROKE = 2.5  # median MNIST stroke width, in pixels of the 20-px box (measured: 2.46)
STROKE_BAND = (1.9, 3.3)  # widths inside this band are left alone, like MNIST's own spread
MAX_WORK_PIXELS = 1024  # larger images are reduced (box filter) before any other work
SMALL_SIDE = 40  # images smaller than this are enlarged (bicubic) before any other step
SMALL_TARGET = 160  # ...to this longer side
SOFT_INK = 0.8  # share of mid-grey ink above which a stroke counts as soft (pen drawings: <= 0.7)
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


# --- 1. find the ink ---------------------------------------------------------------------------


def ink_map(image: np.ndarray, polarity: Polarity = "auto") -> np.ndarray | None:
    """Ink intensity in [0, 1] (1 = full ink), or None when the image holds no visible ink."""
    grey, alpha = _grey_and_alpha(image)
    grey = _enlarge_if_tiny(_reduce(grey))
    if alpha is not None:
        grey = _composite_over_contrasting_background(grey, _enlarge_if_tiny(_reduce(alpha)))
    if grey.size == 0 or float(grey.max() - grey.min()) < MIN_CONTRAST:
        return None
    if polarity == "auto":
        polarity = "light" if float(np.median(grey)) < 0.5 else "dark"
    ink = grey if polarity == "light" else 1.0 - grey
    if not _is_clean(ink):
        ink = _remove_background(ink)
    ink = ink - float(np.median(ink))  # the background (the majority of pixels) goes to 0
    peak = float(np.percentile(ink[ink > 0], 99)) if np.any(ink > 0) else 0.0
    if peak < MIN_CONTRAST:
        return None
    return np.clip(ink / peak, 0.0, 1.0).astype(np.float32)


def _grey_and_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Luminance and (if any) alpha as float32 in [0, 1], from any common array layout and dtype."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (2, 3, 4)):
        raise ValueError(f"expected a greyscale, RGB or RGBA image array, got shape {array.shape}")
    if array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] in (3, 4):
        # The common case (canvas, photos): Pillow's C code computes the same luminance faster.
        rgb = Image.fromarray(np.ascontiguousarray(array[:, :, :3]), mode="RGB")
        grey = np.asarray(rgb.convert("L"), dtype=np.float32) / 255.0
        alpha = array[:, :, 3].astype(np.float32) / 255.0 if array.shape[2] == 4 else None
        return grey, alpha
    values = _to_unit_float(array)
    if values.ndim == 2:
        return values, None
    channels = values.shape[2]
    colour = values[:, :, :3] if channels >= 3 else values[:, :, :1]
    alpha = values[:, :, channels - 1] if channels in (2, 4) else None
    grey = colour[:, :, 0] if colour.shape[2] == 1 else colour @ np.array([0.299, 0.587, 0.114], np.float32)
    return grey.astype(np.float32), alpha


def _to_unit_float(array: np.ndarray) -> np.ndarray:
    """Scale by the dtype's range: uint8 /255, uint16 /65535, bool 0/1, floats clipped to [0, 1]."""
    if array.dtype == bool:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer):
        info = np.iinfo(array.dtype)
        return (np.clip(array, 0, None).astype(np.float32) / float(info.max)).astype(np.float32)
    if np.issubdtype(array.dtype, np.floating):
        return np.clip(np.nan_to_num(array, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0).astype(np.float32)
    raise ValueError(f"unsupported image dtype {array.dtype}")


def _reduce(channel: np.ndarray) -> np.ndarray:
    """Shrink a huge image by an integer box filter, so the rest of the work stays fast."""
    factor = int(np.ceil(max(channel.shape) / MAX_WORK_PIXELS))
    if factor <= 1:
        return channel
    return np.asarray(Image.fromarray(channel, mode="F").reduce(factor), dtype=np.float32)


def _enlarge_if_tiny(channel: np.ndarray) -> np.ndarray:
    """Enlarge a tiny image smoothly (bicubic), so thresholds and morphology see strokes, not blocks."""
    longest = max(channel.shape)
    if longest >= SMALL_SIDE or min(channel.shape) < 2:
        return channel
    scale = SMALL_TARGET / longest
    size = (max(1, round(channel.shape[1] * scale)), max(1, round(channel.shape[0] * scale)))
    enlarged = Image.fromarray(channel, mode="F").resize(size, Image.Resampling.BICUBIC)
    return np.clip(np.asarray(enlarged, dtype=np.float32), 0.0, 1.0)


def _composite_over_contrasting_background(grey: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Transparent pixels are background: lay the image over black, or over white for dark ink."""
    if float(alpha.min()) > 0.99:
        return grey
    visible = alpha > 0.5
    ink_is_light = not np.any(visible) or float(np.median(grey[visible])) >= 0.5
    background = 0.0 if ink_is_light else 1.0
    return grey * alpha + background * (1.0 - alpha)


def _is_clean(ink: np.ndarray) -> bool:
    """A drawing or screenshot: most pixels share one exact background value (photos never do)."""
    sample = ink[::3, ::3]  # every ninth pixel is plenty to find a flat background
    levels = np.bincount(np.rint(sample * 255).astype(np.uint8).ravel(), minlength=256)
    return levels.max() > 0.4 * sample.size


def _remove_background(ink: np.ndarray) -> np.ndarray:
    """Photos: subtract a smooth local background (uneven light), then zero what Otsu calls paper."""
    small_side = 64
    scale = small_side / max(ink.shape)
    small_size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    small = Image.fromarray(ink, mode="F").resize(small_size, Image.Resampling.BOX)
    # Opening (min then max) wipes out strokes narrower than the window and keeps the lighting.
    # Separable min and max over a square window: the same as Pillow's rank filter, 20x faster.
    radius = small_side // 8
    opened = _square_rank_filter(_square_rank_filter(np.asarray(small), radius, np.minimum), radius, np.maximum)
    background = Image.fromarray(np.ascontiguousarray(opened, dtype=np.float32), mode="F")
    # Smooth it: shrink to a quarter (box average) and grow back to full size (bilinear).
    coarse = background.resize((max(1, small_size[0] // 4), max(1, small_size[1] // 4)), Image.Resampling.BOX)
    background = np.asarray(coarse.resize(ink.shape[::-1], Image.Resampling.BILINEAR), dtype=np.float32)
    foreground = np.clip(ink - background, 0.0, None)
    threshold = _otsu_threshold(foreground)
    # Keep anti-aliased stroke edges: fade in from half the threshold instead of a hard cut.
    return np.clip((foreground - threshold / 2) / max(threshold / 2, 1e-6), 0.0, 1.0) * foreground


def _otsu_threshold(values: np.ndarray) -> float:
    """The level that best splits the values into two classes (Otsu, 1979)."""
    top = float(values.max())
    if top <= 0:
        return 0.0
    histogram, edges = np.histogram(values, bins=128, range=(0.0, top))
    centres = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(histogram)
    weight_high = weight_low[-1] - weight_low
    mass_low = np.cumsum(histogram * centres)
    mean_low = mass_low / np.maximum(weight_low, 1)
    mean_high = (mass_low[-1] - mass_low) / np.maximum(weight_high, 1)
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return float(centres[int(np.argmax(between))])


# --- 2. crop -----------------------------------------------------------------------------------


def crop_to_ink(ink: np.ndarray) -> np.ndarray | None:
    """The ink's bounding box, leaving out specks far lighter than the digit; None if no ink."""
    keep = _mask_without_specks(ink)
    rows, cols = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
    if rows.size == 0:
        return None
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    crop_keep = keep[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return np.where(crop_keep, crop, 0.0).astype(np.float32)


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
    labels = _label_components(blocks > 0)
    mass = np.bincount(labels.ravel(), weights=blocks.ravel())
    mass[0] = 0.0  # label 0 is background
    keep_label = mass >= SPECK_FRACTION * mass.sum()
    keep_label[int(np.argmax(mass))] = True  # the heaviest part is never a speck
    keep_label[0] = False
    keep_blocks = keep_label[labels]
    keep = np.repeat(np.repeat(keep_blocks, factor, axis=0), factor, axis=1)
    return keep[: ink.shape[0], : ink.shape[1]] & present


def _label_components(mask: np.ndarray) -> np.ndarray:
    """8-connected component labels (0 = background), by flood fill over the few ink cells."""
    labels = np.zeros(mask.shape, dtype=np.int32)
    unvisited = set(zip(*(index.tolist() for index in np.nonzero(mask)), strict=True))
    count = 0
    while unvisited:
        count += 1
        stack = [unvisited.pop()]
        while stack:
            row, col = stack.pop()
            labels[row, col] = count
            for neighbour in (
                (row - 1, col - 1), (row - 1, col), (row - 1, col + 1), (row, col - 1),
                (row, col + 1), (row + 1, col - 1), (row + 1, col), (row + 1, col + 1),
            ):  # fmt: skip
                if neighbour in unvisited:
                    unvisited.remove(neighbour)
                    stack.append(neighbour)
    return labels


# --- 3. stroke weight --------------------------------------------------------------------------


def normalise_stroke(crop: np.ndarray) -> np.ndarray:
    """Resize so the longer side is WORK_SIDE, then thin or thicken strokes towards MNIST's width."""
    work = fit_box(crop, WORK_SIDE)
    width = stroke_width(work) * DIGIT_BOX / WORK_SIDE  # in pixels of the final 20-px box
    if STROKE_BAND[0] <= width <= STROKE_BAND[1]:
        return work
    if width > STROKE_BAND[1] and is_soft(work):
        return work  # measured: eroding blurry grey strokes breaks them (a 7 loses its bar)
    # Each pixel of erosion or dilation changes the width by 2 px of the work image.
    change = round((MNIST_STROKE - width) * WORK_SIDE / DIGIT_BOX / 2)
    if change == 0:
        return work
    padded = np.pad(work, abs(change) + 1)  # room to grow, and a zero border to erode from
    adjusted = _square_rank_filter(padded, abs(change), np.maximum if change > 0 else np.minimum)
    if not np.any(adjusted > 0.1):  # eroded away entirely (a lone dot): keep it as drawn
        return work
    recropped = crop_to_ink(adjusted)
    return work if recropped is None else recropped


def _square_rank_filter(image: np.ndarray, radius: int, reduce: np.ufunc) -> np.ndarray:
    """Grey dilation (np.maximum) or erosion (np.minimum) by a (2r+1)-square, done separably."""
    out = image
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)], mode="edge")
        length = out.shape[axis]
        out = reduce.reduce([np.take(padded, range(k, k + length), axis=axis) for k in range(2 * radius + 1)])
    return out


def is_soft(ink: np.ndarray) -> bool:
    """Blurry or enlarged low-resolution ink: most inked pixels are mid-grey, not solid."""
    inked = int((ink > 0.1).sum())
    mid = int(((ink > 0.1) & (ink < 0.9)).sum())
    return inked > 0 and mid > SOFT_INK * inked


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
