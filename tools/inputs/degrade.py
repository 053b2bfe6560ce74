"""Degraded copies of MNIST *test* digits: low-resolution scans, blur, marker photos.

Made from the test set only (the models never trained on it), to check that preprocessing and
models cope with inputs unlike clean canvas drawings. Each function takes one 28x28 uint8 digit
(white on black) and a random generator, and returns the image a user could upload.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter
from scipy.ndimage import maximum_filter

ENLARGED = 200  # side of the enlarged image, in pixels (a scan or screenshot blown up)


def _enlarge(ink: np.ndarray, side: int = ENLARGED, method: Image.Resampling = Image.Resampling.BICUBIC) -> np.ndarray:
    return np.asarray(Image.fromarray(ink).resize((side, side), method))


def _thicken(ink: np.ndarray, size: int) -> np.ndarray:
    """PIL's MaxFilter(size), pixel for pixel, in a fraction of its time (separable)."""
    return maximum_filter(ink, size=size, mode="nearest")


def on_paper(ink: np.ndarray, rng: np.random.Generator, grain: float = 0.02, jpeg: int | None = None) -> np.ndarray:
    """Dark ink on slightly uneven paper, optionally JPEG-compressed; ink is uint8 white-on-black."""
    side_y, side_x = ink.shape
    rows, cols = np.mgrid[0:side_y, 0:side_x] / max(side_y, side_x)
    angle = rng.uniform(0, 2 * np.pi)
    light = 0.8 + 0.15 * (np.cos(angle) * rows + np.sin(angle) * cols)
    paper = light + rng.normal(0, grain, ink.shape)
    pixel = np.clip(paper * (1 - 0.8 * ink.astype(np.float32) / 255), 0, 1)
    rgb = (np.dstack([pixel * 0.98, pixel * 0.96, pixel * 0.92]) * 255).astype(np.uint8)
    if jpeg is None:
        return rgb
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=jpeg)
    return np.asarray(Image.open(buffer))


def low_resolution(digit: np.ndarray, rng: np.random.Generator, side: int = 8) -> np.ndarray:
    """Digitised at `side` x `side` pixels (area average), enlarged smoothly, dark on light."""
    small = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BOX))
    return 255 - _enlarge(small)


def blurred(digit: np.ndarray, rng: np.random.Generator, sigma: float = 2.0) -> np.ndarray:
    """Gaussian blur of `sigma` pixels at 28-px scale (out of focus), enlarged, dark on light."""
    soft = Image.fromarray(digit).filter(ImageFilter.GaussianBlur(sigma))
    return 255 - _enlarge(np.asarray(soft))


def marker_photo(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A thick marker (dilated strokes) on paper: uneven light, paper grain, JPEG at quality 40."""
    big = _enlarge(digit, 240, Image.Resampling.BILINEAR)
    thick = _thicken(big, int(rng.choice([9, 13, 17])))
    framed = np.pad(thick, 40)
    return on_paper(framed, rng, grain=0.04, jpeg=40)


def small_scan(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A photo of a digit that was scanned at 8-16 px: blocky low resolution, on paper, JPEG."""
    side = int(rng.integers(8, 17))
    small = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BOX))
    return on_paper(np.pad(_enlarge(small, 160), 30), rng, jpeg=70)


def as_canvas(digit: np.ndarray, rng: np.random.Generator, canvas: int = 280) -> np.ndarray:
    """An MNIST digit redrawn like a canvas sketch: random size, place, stroke width and polarity."""
    size = int(rng.integers(90, 330))  # the 28x28 field; the digit itself is ~20/28 of it
    big = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR))
    widen = int(rng.choice([1, 3, 5, 9, 13]))
    if widen > 1:
        big = _thicken(big, widen)
    ink = np.zeros((canvas + 2 * size, canvas + 2 * size), np.uint8)
    top, left = rng.integers(size - size // 5, canvas + size // 5, size=2)  # may run a little off
    ink[top : top + size, left : left + size] = big
    ink = ink[size : size + canvas, size : size + canvas]
    style = rng.integers(4)
    if style == 0:  # white pen, black opaque canvas
        grey = ink
        return np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    if style == 1:  # black pen on white paper, no alpha
        return 255 - ink
    if style == 2:  # white pen on a transparent canvas
        return np.dstack([np.full_like(ink, 255)] * 3 + [ink])
    return np.dstack([np.zeros_like(ink)] * 3 + [ink])  # black pen on a transparent canvas


def as_photo(digit: np.ndarray, rng: np.random.Generator, side: int = 400) -> np.ndarray:
    """An MNIST digit as a phone photo: dark ink, uneven light, noise, JPEG artefacts."""
    size = int(rng.integers(200, 380))
    big = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR), np.float32) / 255
    ink = np.zeros((side, side), np.float32)
    top, left = rng.integers(0, side - size + 1, size=2)
    ink[top : top + size, left : left + size] = big
    steps = np.arange(side) / side
    angle = rng.uniform(0, 2 * np.pi)
    # A shadow across the page (a row's and a column's share, broadcast: no full grids of coordinates).
    light = 0.78 + 0.17 * (np.cos(angle) * steps[:, None] + np.sin(angle) * steps[None, :])
    paper = light + rng.normal(0, 0.03, (side, side))
    pixel = paper * (1 - 0.75 * ink)
    rgb = np.empty((side, side, 3), np.uint8)
    for channel, tint in enumerate((0.98, 0.96, 0.9)):  # warm paper; the uint8 cast truncates, as astype does
        rgb[:, :, channel] = np.clip(pixel * tint * 255, 0, 255)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=70)
    return np.asarray(Image.open(buffer))
