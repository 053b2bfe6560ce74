"""Pen strokes painted like the app's canvas paints them: the drawing kit of the style set.

A stroke is a polyline in a unit square (x right, y down). `smooth` turns its corners into a hand's
curve, `place` puts it in canvas pixels (a box, a slant), and `paint` draws it with a round pen in
white on opaque black, as the canvas sends a drawing. Used by `styles` (what train.py learns from)
and by the measurement tools (tools/inputs/synthetic_drawings.py).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

Stroke = list[tuple[float, float]]
CANVAS = 280  # the app's canvas, in pixels
WIDTH_SHARE = 0.75  # digits are taller than wide: drawn in a box 0.75 as wide as it is high


def ellipse(
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    points: int = 18,
    start: float = -np.pi / 2,
    sweep: float = 2 * np.pi + 0.3,
) -> Stroke:
    """An elliptic arc from angle `start` (top: -pi/2) over `sweep` radians, clockwise on screen."""
    angles = np.linspace(start, start + sweep, points)
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


def smooth(stroke: Stroke, samples: int = 8) -> Stroke:
    """Catmull-Rom spline through the points: a hand's curve rather than a polygon."""
    if len(stroke) < 3:
        return stroke
    p = np.array([stroke[0], *stroke, stroke[-1]], dtype=float)
    out = []
    for i in range(1, len(p) - 2):
        for t in np.linspace(0, 1, samples, endpoint=False):
            t2, t3 = t * t, t * t * t
            point = 0.5 * (
                2 * p[i]
                + (-p[i - 1] + p[i + 1]) * t
                + (2 * p[i - 1] - 5 * p[i] + 4 * p[i + 1] - p[i + 2]) * t2
                + (-p[i - 1] + 3 * p[i] - 3 * p[i + 1] + p[i + 2]) * t3
            )
            out.append((float(point[0]), float(point[1])))
    out.append(stroke[-1])
    return out


def place(
    strokes: list[Stroke], size: float, left: float, top: float, slant: float = 0.0, width_share: float = WIDTH_SHARE
) -> list[Stroke]:
    """Smoothed strokes in canvas pixels: a box `size` high at (left, top), sheared by `slant`."""
    margin = (1 - width_share) / 2
    return [
        [(left + size * (margin + width_share * x + slant * (0.5 - y)), top + size * y) for x, y in smooth(stroke)]
        for stroke in strokes
    ]


def paint(placed: list[Stroke], pen: float, canvas: int = CANVAS) -> np.ndarray:
    """An RGBA canvas image (white pen with round ends on opaque black), like the app's canvas sends."""
    image = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 255))
    draw = ImageDraw.Draw(image)
    for stroke in placed:
        draw.line(stroke, fill=(255, 255, 255, 255), width=max(1, round(pen)), joint="curve")
        for x, y in (stroke[0], stroke[-1]):
            r = pen / 2
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, 255))
    return np.asarray(image)
