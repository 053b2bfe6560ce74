"""Versions of a 28x28 model input, for showing why the CNN wins: moved, turned, resized, restroked.

NumPy, Pillow and scipy.ndimage. The preprocessing (mnist_app.reading.preprocess) crops, scales and
centres every drawing, as MNIST was made, and that is what lets a dense network cope: it learned each
pixel's place. Each `Family` undoes one of those guarantees by a measured amount:
1. `shifted`: moved whole pixels sideways or up and down (zeros flow in at the edge);
2. `turned`: rotated about the image's centre;
3. `resized`: scaled about the centre, with area averaging when shrinking;
4. `restroked`: strokes thinned (grey erosion) or thickened (grey dilation), in fractions of a pixel.
`naive_input` is the input a naive canvas demo reads: the whole drawing scaled to 28x28, not cropped,
not centred.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from mnist_app.config import IMAGE_SIDE
from mnist_app.reading.ink import Polarity, ink_map

CROSS = ndimage.generate_binary_structure(2, 1)  # the four neighbours: one step thins or thickens by a pixel a side


def shifted(image: np.ndarray, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    """Moved `dx` pixels right and `dy` pixels down (negative: left, up)."""
    moved = ndimage.shift(image, (dy, dx), order=1, mode="constant", cval=0.0, prefilter=False)
    return np.clip(moved, 0.0, 1.0).astype(np.float32)


def shift_x(image: np.ndarray, pixels: float) -> np.ndarray:
    return shifted(image, dx=pixels)


def shift_y(image: np.ndarray, pixels: float) -> np.ndarray:
    return shifted(image, dy=pixels)


def turned(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotated `degrees` clockwise, as the image is shown, about its centre."""
    rotated = ndimage.rotate(image, -degrees, reshape=False, order=1, mode="constant", cval=0.0, prefilter=False)
    return np.clip(rotated, 0.0, 1.0).astype(np.float32)


def resized(image: np.ndarray, factor: float) -> np.ndarray:
    """Scaled by `factor` about the image's centre; what grows past the edge is cut off."""
    side = max(1, round(IMAGE_SIDE * factor))
    if side == IMAGE_SIDE:
        return image.astype(np.float32)
    # Pillow averages the area a pixel covers when it shrinks (a thin stroke fades, it does not vanish).
    scaled = np.asarray(Image.fromarray(image.astype(np.float32), mode="F").resize((side, side), Image.BILINEAR))
    out = np.zeros((IMAGE_SIDE, IMAGE_SIDE), np.float32)
    if side < IMAGE_SIDE:
        start = (IMAGE_SIDE - side) // 2
        out[start : start + side, start : start + side] = scaled
    else:
        start = (side - IMAGE_SIDE) // 2
        out[:] = scaled[start : start + IMAGE_SIDE, start : start + IMAGE_SIDE]
    return np.clip(out, 0.0, 1.0)


def restroked(image: np.ndarray, pixels: float) -> np.ndarray:
    """Strokes made `pixels` wider (negative: thinner), one pixel a side per step of grey dilation or
    erosion, fractions blended between the two nearest steps."""
    steps = pixels / 2
    low = int(np.floor(steps))
    share = steps - low
    below = _morphed(image, low)
    if share == 0:
        return below
    return ((1 - share) * below + share * _morphed(image, low + 1)).astype(np.float32)


def _morphed(image: np.ndarray, steps: int) -> np.ndarray:
    if steps == 0:
        return image.astype(np.float32)
    operation = ndimage.grey_dilation if steps > 0 else ndimage.grey_erosion
    out = image
    for _ in range(abs(steps)):
        out = operation(out, footprint=CROSS)
    return out.astype(np.float32)


@dataclass(frozen=True)
class Family:
    """One kind of change, measured in `unit` over `values`; `unchanged` is the value that leaves the input as it is."""

    key: str
    title: str  # short: a tab's label
    axis: str  # the chart's x axis
    unit: str  # "px", "°", "×"
    values: tuple[float, ...]
    unchanged: float
    change: Callable[[np.ndarray, float], np.ndarray]
    phrase: Callable[[float], str]  # "moved 4 px right"

    def versions(self, image: np.ndarray) -> np.ndarray:
        """The input changed by every value, (len(values), 28, 28) float32."""
        return np.stack([self.change(image, value) for value in self.values])

    def label(self, value: float) -> str:
        """A value as a chart's tick says it: '−4 px', '+30°', '0.5×'."""
        if self.unchanged != 0:
            return f"{value:g}{self.unit}"
        sign = "−" if value < 0 else "+" if value > 0 else ""
        space = "" if self.unit in ("°", "×") else " "
        return f"{sign}{abs(value):g}{space}{self.unit}"


def _side_phrase(value: float) -> str:
    return "left unmoved" if value == 0 else f"moved {abs(value):g} px {'right' if value > 0 else 'left'}"


def _height_phrase(value: float) -> str:
    return "left unmoved" if value == 0 else f"moved {abs(value):g} px {'down' if value > 0 else 'up'}"


def _turn_phrase(value: float) -> str:
    return "left unturned" if value == 0 else f"turned {abs(value):g}° {'clockwise' if value > 0 else 'anticlockwise'}"


def _size_phrase(value: float) -> str:
    return "left at its size" if value == 1 else f"{'shrunk' if value < 1 else 'enlarged'} to {value:.0%}"


def _stroke_phrase(value: float) -> str:
    return "left as drawn" if value == 0 else f"with strokes {abs(value):g} px {'thicker' if value > 0 else 'thinner'}"


def _grid(start: float, stop: float, step: float) -> tuple[float, ...]:
    return tuple(round(float(v), 4) for v in np.arange(start, stop + step / 2, step))


FAMILIES = (
    Family("side", "Sideways", "pixels moved (− left, + right)", "px", _grid(-8, 8, 1), 0.0, shift_x, _side_phrase),
    Family("height", "Up and down", "pixels moved (− up, + down)", "px", _grid(-8, 8, 1), 0.0, shift_y, _height_phrase),
    Family(
        "turn", "Turned", "degrees (− anticlockwise, + clockwise)", "°", _grid(-45, 45, 5), 0.0, turned, _turn_phrase
    ),
    Family("size", "Size", "size (1 = as drawn)", "×", _grid(0.5, 1.4, 0.05), 1.0, resized, _size_phrase),
    Family(
        "stroke",
        "Stroke",
        "stroke width added, px",
        "px",
        _grid(-2, 4, 0.5),
        0.0,
        restroked,
        _stroke_phrase,
    ),
)


def naive_input(image: np.ndarray, polarity: Polarity = "auto") -> np.ndarray | None:
    """The whole image scaled to 28x28, not cropped or centred, as a naive canvas demo reads it; None without ink."""
    ink = ink_map(image, polarity)
    if ink is None:
        return None
    height, width = ink.shape
    side = max(height, width)
    square = np.zeros((side, side), np.float32)  # a wide image is padded, never stretched
    top, left = (side - height) // 2, (side - width) // 2
    square[top : top + height, left : left + width] = ink
    scaled = Image.fromarray(square, mode="F").resize((IMAGE_SIDE, IMAGE_SIDE), Image.BOX)
    return np.clip(np.asarray(scaled, dtype=np.float32), 0.0, 1.0)
