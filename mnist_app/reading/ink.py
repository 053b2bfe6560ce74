"""Step 1 of preprocessing: find the ink in any image (drawing, screenshot, scan or photo).

NumPy, Pillow and scipy.ndimage. `ink_map` handles polarity, transparency, uneven photo light and paper
grain, and enlarges tiny images smoothly so that no later step works on blocks of pixels.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from PIL import Image
from scipy import ndimage

Polarity = Literal["auto", "light", "dark"]  # "light": light ink on a dark background

FLAT_BORDER_SHARE = 0.12  # a frame with this share at one exact level is flat (paper photos: <= 0.06)
MIN_CONTRAST = 0.08  # ink must differ from the background by this much (of full scale)
MAX_WORK_PIXELS = 1024  # larger images are reduced (box filter) before any other work
SMALL_SIDE = 40  # images smaller than this are enlarged (bicubic) before any other step
SMALL_TARGET = 160  # ...to this longer side
EIGHT_CONNECTED = np.ones((3, 3), bool)  # pixels touching at a corner belong to one part, as pen strokes do
# Photos of numbers: ink above this share of Otsu's threshold that is connected to ink above it is ink, at full value
ATTACHED_SHARE = 0.25


def ink_map(image: np.ndarray, polarity: Polarity = "auto", attached_ink: bool = False) -> np.ndarray | None:
    """Ink intensity in [0, 1] (1 = full ink), or None when the image holds no visible ink. `attached_ink`: in a
    photo, faint ink attached to a stroke keeps its full value (numbers: a typeface's hairline keeps its digit
    whole); single digits read blurred photos better without it, whose soft halos it would keep."""
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
        ink = _remove_background(ink, attached_ink)
    # The median, not the flat level: on a blurry digit it also trims the faint outer halo, as the
    # models saw in training (subtracting the flat level read heavy blur worse).
    ink = ink - float(np.median(ink))
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
    """A drawing or screenshot: most pixels, or the image's frame, share one exact value (photos never do).

    The frame matters for blurry digits: their blur covers most of the image, but the edges stay
    flat. Sent down the photo path, the background subtraction ate the wide soft strokes (heavy blur
    read worse: docs/results.md has the blur figures)."""
    sample = ink[::3, ::3]  # every ninth pixel is plenty to find a flat background
    levels = np.bincount(np.rint(sample * 255).astype(np.uint8).ravel(), minlength=256)
    if levels.max() > 0.4 * sample.size:
        return True
    frame = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
    frame_levels = np.bincount(np.rint(frame * 255).astype(np.uint8), minlength=256)
    return frame_levels.max() > FLAT_BORDER_SHARE * frame.size


def _remove_background(ink: np.ndarray, attached_ink: bool = False) -> np.ndarray:
    """Photos: subtract a smooth local background (uneven light), then zero what Otsu calls paper."""
    small_side = 64
    scale = small_side / max(ink.shape)
    small_size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    small = Image.fromarray(ink, mode="F").resize(small_size, Image.Resampling.BOX)
    # Opening (min then max) wipes out strokes narrower than the window and keeps the lighting.
    window = 2 * (small_side // 8) + 1
    eroded = ndimage.minimum_filter(np.asarray(small), size=window, mode="nearest")
    opened = ndimage.maximum_filter(eroded, size=window, mode="nearest")
    background = Image.fromarray(np.ascontiguousarray(opened, dtype=np.float32), mode="F")
    # Smooth it: shrink to a quarter (box average) and grow back to full size (bilinear).
    coarse = background.resize((max(1, small_size[0] // 4), max(1, small_size[1] // 4)), Image.Resampling.BOX)
    background = np.asarray(coarse.resize(ink.shape[::-1], Image.Resampling.BILINEAR), dtype=np.float32)
    foreground = np.clip(ink - background, 0.0, None)
    threshold = _otsu_threshold(foreground)
    # Fade in from half the threshold: anti-aliased stroke edges kept, paper grain gone.
    faded = np.clip((foreground - threshold / 2) / max(threshold / 2, 1e-6), 0.0, 1.0) * foreground
    if not attached_ink:
        return faded
    # Ink attached to a stroke keeps its full value, however faint: a serif's hairline, the thin side of a 6.
    return np.where(_attached_to_strokes(foreground, threshold), foreground, faded)


def _attached_to_strokes(foreground: np.ndarray, threshold: float) -> np.ndarray:
    """Pixels above ATTACHED_SHARE of the threshold that are 8-connected to a pixel above it (hysteresis)."""
    labels, count = ndimage.label(foreground > threshold * ATTACHED_SHARE, structure=EIGHT_CONNECTED)
    with_stroke = np.zeros(count + 1, bool)
    with_stroke[labels[foreground > threshold]] = True
    with_stroke[0] = False
    return with_stroke[labels]


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
