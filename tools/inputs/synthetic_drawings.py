"""Synthetic hand drawings, made independently of MNIST: pen strokes for each digit.

Each digit is a few polylines in a unit square (x right, y down), smoothed like a hand's stroke.
`render` paints them like the app's canvas (white pen on black, any width, size, place and
slant); `canvas_points` gives the same strokes in canvas pixels for a browser's mouse.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
from PIL import Image

from mnist_app.training.handwriting import HANDS, LETTER_STYLES
from mnist_app.training.strokes import Stroke, ellipse, paint, place

DIGIT_STROKES: dict[int, list[Stroke]] = {
    0: [ellipse(0.5, 0.5, 0.3, 0.45)],
    1: [[(0.35, 0.22), (0.56, 0.05), (0.56, 0.95)]],
    2: [[(0.2, 0.25), (0.35, 0.08), (0.6, 0.05), (0.78, 0.2), (0.75, 0.4), (0.2, 0.95), (0.85, 0.95)]],
    3: [
        [
            (0.2, 0.12),
            (0.45, 0.04),
            (0.72, 0.14),
            (0.7, 0.32),
            (0.45, 0.46),
            (0.75, 0.6),
            (0.72, 0.85),
            (0.45, 0.97),
            (0.18, 0.87),
        ]
    ],
    4: [[(0.6, 0.05), (0.15, 0.65), (0.85, 0.65)], [(0.65, 0.35), (0.65, 0.97)]],
    5: [[(0.8, 0.05), (0.3, 0.05), (0.25, 0.45), (0.55, 0.38), (0.78, 0.55), (0.75, 0.8), (0.5, 0.95), (0.2, 0.85)]],
    6: [
        [
            (0.7, 0.05),
            (0.4, 0.25),
            (0.25, 0.55),
            (0.28, 0.85),
            (0.5, 0.95),
            (0.72, 0.8),
            (0.7, 0.58),
            (0.5, 0.5),
            (0.28, 0.62),
        ]
    ],
    7: [[(0.15, 0.08), (0.85, 0.08), (0.4, 0.95)]],
    8: [
        [
            (0.7, 0.15),
            (0.5, 0.04),
            (0.3, 0.15),
            (0.35, 0.35),
            (0.65, 0.6),
            (0.7, 0.85),
            (0.5, 0.96),
            (0.3, 0.85),
            (0.35, 0.6),
            (0.65, 0.35),
            (0.7, 0.15),
        ]
    ],
    9: [
        [
            (0.75, 0.3),
            (0.6, 0.08),
            (0.35, 0.1),
            (0.25, 0.3),
            (0.4, 0.45),
            (0.65, 0.4),
            (0.75, 0.28),
            (0.7, 0.6),
            (0.6, 0.95),
        ]
    ],
}


def canvas_points(
    digit: int, size: float = 200, left: float = 40, top: float = 40, slant: float = 0.0
) -> list[list[tuple[float, float]]]:
    """The digit's strokes in canvas pixels: a box of `size` at (left, top), sheared by `slant`."""
    return place(DIGIT_STROKES[digit], size, left, top, slant)


def render(
    digit: int,
    pen: float = 20,
    size: float = 200,
    left: float = 40,
    top: float = 40,
    slant: float = 0.0,
    canvas: int = 280,
) -> np.ndarray:
    """An RGBA canvas image (white pen on opaque black), like the app's canvas sends."""
    return paint(canvas_points(digit, size, left, top, slant), pen, canvas)


def pen_drawing_set(seed: int = 3) -> Iterator[tuple[int, float, float, float, np.ndarray]]:
    """Each digit at pens 4-40 px, 60-260 px tall, slanted -0.2..0.2, anywhere on the canvas.

    Yields (digit, pen, size, slant, canvas image)."""
    rng = np.random.default_rng(seed)
    for digit in range(10):
        for pen in (4, 10, 20, 40):
            for size in (60, 140, 260):
                if pen > size / 5:
                    continue
                for slant in (-0.2, 0.0, 0.2):
                    left, top = rng.uniform(0, 280 - size, size=2)
                    yield digit, pen, size, slant, render(digit, pen=pen, size=size, left=left, top=top, slant=slant)


# Things people draw that are not digits.
NOT_DIGITS: dict[str, list[Stroke]] = {
    "smiley": [
        ellipse(0.5, 0.5, 0.45, 0.45, 24),
        [(0.35, 0.35), (0.36, 0.38)],
        [(0.65, 0.35), (0.66, 0.38)],
        [(0.28, 0.62), (0.4, 0.75), (0.6, 0.75), (0.72, 0.62)],
    ],
    "letter A": LETTER_STYLES["A"][HANDS["held_out"]],
    "letter W": [[(0.05, 0.1), (0.25, 0.9), (0.5, 0.35), (0.75, 0.9), (0.95, 0.1)]],
    "hash": [
        [(0.35, 0.05), (0.3, 0.95)],
        [(0.7, 0.05), (0.65, 0.95)],
        [(0.1, 0.35), (0.9, 0.35)],
        [(0.1, 0.65), (0.9, 0.65)],
    ],
    "star": [[(0.5, 0.02), (0.2, 0.95), (0.95, 0.35), (0.05, 0.35), (0.8, 0.95), (0.5, 0.02)]],
    "box": [[(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9), (0.1, 0.1)]],
}

# Capital letters as a hand prints them: the style set's held-out hand, which the digit check never learns from.
LETTERS: dict[str, list[Stroke]] = {letter: hands[HANDS["held_out"]] for letter, hands in LETTER_STYLES.items()}


def render_strokes(
    strokes: list[Stroke], pen: float = 20, size: float = 220, left: float = 30, top: float = 30
) -> np.ndarray:
    """Any strokes, painted like `render` paints a digit (square box, no slant)."""
    return paint(place(strokes, size, left, top, width_share=1.0), pen)


def paper_jpeg(digit: int, pen: float = 14) -> bytes:
    """The digit in dark ink on white paper, as a JPEG (quality 85): what an upload of a photo sends."""
    buffer = io.BytesIO()
    Image.fromarray(255 - render(digit, pen=pen)[:, :, 0]).convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
