"""The connected parts of a number's ink: each with its pixels, box, ink mass and ink level."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import ndimage

from mnist_app.reading.ink import EIGHT_CONNECTED
from mnist_app.reading.preprocess import preprocess_ink

INK_LEVEL = 0.2  # an ink-map pixel above this is ink, for finding parts
# Fainter ink still joins the parts it connects, though it is not part of them: a typeface's hairline (the thin
# top and bottom of a 0) keeps the two arcs one part, not two read as "11".
JOIN_LEVEL = 0.1
PEAK_PERCENTILE = 90  # a part's ink level: this percentile of its ink values (its strokes' cores)

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive), in pixels of the given image

# Reads a run of touching digits whole (the string reader), from its own ink map: each digit's
# probabilities (10,) and its centre column in that map, left to right; None when it cannot read it.
WholeReader = Callable[[np.ndarray], list[tuple[np.ndarray, float]] | None]


class Judge(Protocol):
    """What segmentation asks of the models, given by the caller (mnist_app.serving.reader.PartJudge):
    reading proposes parts, pieces and runs, and the judge reads them. Reading never imports serving."""

    @property
    def reads_runs(self) -> bool:
        """Whether `read_run` can read runs of touching digits whole (there is a string reader)."""
        ...

    def score(self, images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Candidate digits (28x28 inputs) read: their probabilities (n, 10), and whether each looks like a
        typical digit of its answer (n,) (all True where there is no digit check)."""
        ...

    def read_run(self, ink: np.ndarray) -> list[tuple[np.ndarray, float]] | None:
        """A run of touching digits, from its own ink map, read whole: each digit's probabilities (10,) and
        its centre column, left to right; None when it cannot be read so."""
        ...


@dataclass(eq=False)  # parts are compared by identity, never by their arrays
class Part:
    mask: np.ndarray  # bool, full ink-map size: this part's pixels
    x0: int
    y0: int
    x1: int
    y1: int
    mass: float
    level: float  # how dark its ink is (PEAK_PERCENTILE of its ink values)
    read_as: np.ndarray | None = None  # (10,) probabilities, when the string reader read it among touching digits

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


def components(ink: np.ndarray) -> list[Part]:
    """8-connected parts of the ink, top to bottom by their first pixel, with their boxes and ink mass. Ink above
    INK_LEVEL makes the parts; fainter ink above JOIN_LEVEL only joins those it connects (hysteresis)."""
    labels, count = ndimage.label(ink > JOIN_LEVEL, structure=EIGHT_CONNECTED)
    labels[ink <= INK_LEVEL] = 0
    masses = np.bincount(labels.ravel(), weights=ink.ravel(), minlength=count + 1)
    parts = []
    for label, found in enumerate(ndimage.find_objects(labels), start=1):
        if found is None:  # faint ink alone: no part
            continue
        rows, cols = found
        mask = labels == label
        parts.append(
            Part(mask, cols.start, rows.start, cols.stop, rows.stop, float(masses[label]), ink_level(ink, mask))
        )
    return parts


def ink_level(ink: np.ndarray, mask: np.ndarray) -> float:
    return float(np.percentile(ink[mask], PEAK_PERCENTILE)) if mask.any() else 0.0


def join(a: Part, b: Part) -> Part:
    box = (min(a.x0, b.x0), min(a.y0, b.y0), max(a.x1, b.x1), max(a.y1, b.y1))
    level = (a.level * a.mass + b.level * b.mass) / max(a.mass + b.mass, 1e-9)  # the heavier part's ink counts more
    return Part(a.mask | b.mask, *box, a.mass + b.mass, level)


def piece(part: Part, ink: np.ndarray, left: int, right: int) -> Part | None:
    """The columns [left, right) of a part, as a part of its own (None when they hold no ink)."""
    mask = np.zeros_like(part.mask)
    mask[:, left:right] = part.mask[:, left:right]
    rows = np.nonzero(mask.any(axis=1))[0]
    if rows.size == 0:
        return None
    return Part(mask, left, int(rows[0]), right, int(rows[-1]) + 1, float(ink[mask].sum()), ink_level(ink, mask))


def part_input(part: Part, ink: np.ndarray) -> np.ndarray | None:
    """The part's own ink as a 28x28 model input (None when it has none)."""
    return preprocess_ink(np.where(part.mask, ink, 0.0).astype(np.float32))
