"""Split an image of a handwritten number into its digits, left to right. NumPy and scipy.ndimage.

The pipeline, each step a small function:
1. `preprocess.ink_map`: ink intensity in [0, 1] (polarity, transparency, photo background);
2. `components`: connected parts of the ink (8-connected), with their boxes and ink mass;
3. `drop_specks`: parts holding a tiny share of the ink are dirt, not digits;
4. `merge_parts`: parts that overlap horizontally are one digit (a 5's detached flag, a 4 or 7
   drawn in two strokes, a dot of ink); judged by overlap and size, never by fixed slots;
   `drop_strays` then leaves out merged parts far lighter than a typical digit (a faint mark);
5. `split_wide`: a part much wider than a digit is touching digits, cut where the ink's column
   profile is thinnest (or, given a scorer, where the pieces read most confidently);
6. each digit's own ink goes through the single-digit pipeline (stroke, fit 20 px, centre).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from mnist_app.reading.ink import EIGHT_CONNECTED, Polarity, ink_map
from mnist_app.reading.preprocess import preprocess_ink

INK_LEVEL = 0.2  # an ink-map pixel above this is ink, for finding parts
SPECK_SHARE = 0.03  # a part with less ink than this share of the heaviest part is a speck...
SPECK_HEIGHT = 0.25  # ...unless it is taller than this share of the tallest part (a thin "1")
OVERLAP_TO_MERGE = 0.5  # horizontal overlap, as a share of the narrower part, that makes one digit
SMALL_PART = 0.35  # a part lower than this share of the typical height is a fragment (a flag, a dot)
NEAR_GAP = 0.25  # ...and joins the nearest digit within this many typical heights
WIDE_RATIO = 1.3  # a part wider than this many typical heights may hold touching digits
KEEP_WHOLE_BIAS = 0.3  # log-confidence bonus for leaving a part uncut: cut only when clearly better
DIGIT_ASPECT = 0.7  # the typical width of a digit, in heights, for guessing how many are touching
CUT_WINDOW = 0.3  # cuts are searched within this share of a digit width around the even split
STRAY_SHARE = 0.15  # a merged part with less ink than this share of the median part is a stray mark

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive), in pixels of the given image

# Reads candidate digits (a list of 28x28 inputs) and says how confidently, each in [0, 1].
Scorer = Callable[[list[np.ndarray]], list[float]]


@dataclass(frozen=True)
class Digit:
    """One digit of the number."""

    box: Box  # where it is in the given image
    image: np.ndarray  # (28, 28) float32 model input


@dataclass
class _Part:
    mask: np.ndarray  # bool, full ink-map size: this part's pixels
    x0: int
    y0: int
    x1: int
    y1: int
    mass: float

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


def segment_number(image: np.ndarray, polarity: Polarity = "auto", scorer: Scorer | None = None) -> list[Digit]:
    """The digits of a handwritten number, left to right; [] when there is no ink."""
    ink = ink_map(image, polarity)
    if ink is None:
        return []
    parts = drop_specks(components(ink))
    if not parts:
        return []
    parts = drop_strays(merge_parts(parts))
    parts = split_wide(parts, ink, scorer)
    scale_y, scale_x = np.asarray(image).shape[0] / ink.shape[0], np.asarray(image).shape[1] / ink.shape[1]
    digits = []
    for part in sorted(parts, key=lambda p: (p.x0 + p.x1) / 2):
        model_input = preprocess_ink(np.where(part.mask, ink, 0.0).astype(np.float32))
        if model_input is None:
            continue
        box = (
            int(part.x0 * scale_x),
            int(part.y0 * scale_y),
            int(np.ceil(part.x1 * scale_x)),
            int(np.ceil(part.y1 * scale_y)),
        )
        digits.append(Digit(box, model_input))
    return digits


# --- 2. parts ----------------------------------------------------------------------------------


def components(ink: np.ndarray) -> list[_Part]:
    """8-connected parts of the ink, top to bottom by their first pixel, with their boxes and ink mass."""
    labels, count = ndimage.label(ink > INK_LEVEL, structure=EIGHT_CONNECTED)
    masses = np.bincount(labels.ravel(), weights=ink.ravel(), minlength=count + 1)
    return [
        _Part(labels == label, cols.start, rows.start, cols.stop, rows.stop, float(masses[label]))
        for label, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1)
    ]


# --- 3. specks ---------------------------------------------------------------------------------


def drop_specks(parts: list[_Part]) -> list[_Part]:
    """Leave out parts with a tiny share of the ink that are also short (dust, a pen tap)."""
    if not parts:
        return []
    heaviest = max(part.mass for part in parts)
    tallest = max(part.height for part in parts)
    return [part for part in parts if part.mass >= SPECK_SHARE * heaviest or part.height >= SPECK_HEIGHT * tallest]


# --- 4. merge ----------------------------------------------------------------------------------


def merge_parts(parts: list[_Part]) -> list[_Part]:
    """Join parts of one digit: those overlapping horizontally, and small fragments near a digit."""
    parts = sorted(parts, key=lambda p: p.x0)
    changed = True
    while changed:
        changed = False
        for i in range(len(parts)):
            for j in range(i + 1, len(parts)):
                if _overlap_share(parts[i], parts[j]) >= OVERLAP_TO_MERGE:
                    parts[i] = _join(parts[i], parts.pop(j))
                    changed = True
                    break
            if changed:
                break
    return _attach_fragments(parts)


def drop_strays(parts: list[_Part]) -> list[_Part]:
    """Leave out parts far lighter than the typical digit: a faint line or smudge between digits.

    Judged after merging, so a 5's flag or a two-stroke 4 already counts with its digit, and
    against the median, so a thin "1" among heavy digits stays (it holds about a third of their ink).
    """
    if len(parts) < 2:
        return parts
    typical = float(np.median([part.mass for part in parts]))
    return [part for part in parts if part.mass >= STRAY_SHARE * typical]


def _overlap_share(a: _Part, b: _Part) -> float:
    overlap = min(a.x1, b.x1) - max(a.x0, b.x0)
    return max(overlap, 0) / max(min(a.width, b.width), 1)


def _attach_fragments(parts: list[_Part]) -> list[_Part]:
    """A part much lower than the others (a detached flag or dot) joins the nearest digit if it is close."""
    if len(parts) < 2:
        return parts
    typical = float(np.median([part.height for part in parts]))
    small = [part for part in parts if part.height < SMALL_PART * typical]
    digits = [part for part in parts if part.height >= SMALL_PART * typical]
    if not digits:
        return parts
    for fragment in small:
        # The digit it overlaps most (a 5's flag over its body), else the nearest one.
        overlaps = [min(d.x1, fragment.x1) - max(d.x0, fragment.x0) for d in digits]
        nearest = int(np.argmax(overlaps))
        if overlaps[nearest] >= -NEAR_GAP * typical:
            digits[nearest] = _join(digits[nearest], fragment)
        # A far-away small part is left out: a dash or a stray mark between digits.
    return sorted(digits, key=lambda p: p.x0)


def _join(a: _Part, b: _Part) -> _Part:
    return _Part(a.mask | b.mask, min(a.x0, b.x0), min(a.y0, b.y0), max(a.x1, b.x1), max(a.y1, b.y1), a.mass + b.mass)


# --- 5. split ----------------------------------------------------------------------------------


def split_wide(parts: list[_Part], ink: np.ndarray, scorer: Scorer | None = None) -> list[_Part]:
    """Cut parts that are much wider than a digit into touching digits."""
    typical = float(np.median([part.height for part in parts]))
    out = []
    for part in parts:
        if part.width <= WIDE_RATIO * max(part.height, typical * 0.8):
            out.append(part)
            continue
        pieces = max(2, round(part.width / (DIGIT_ASPECT * max(part.height, 1))))
        out.extend(_best_split(part, ink, pieces, scorer))
    return out


def _best_split(part: _Part, ink: np.ndarray, pieces: int, scorer: Scorer | None) -> list[_Part]:
    """Cut at the thinnest ink column near each even split; with a scorer, keep the most confident option.

    The scorer also sees the part uncut, and two-way cuts at several columns around the middle:
    touching digits rarely meet exactly where the ink is thinnest.
    """
    options = [_cut(part, ink, _thinnest_cuts(part, ink, n)) for n in range(2, pieces + 1)]
    if scorer is None:
        return options[-1]
    step = max(1, part.width // 24)
    low, high = int(part.width * (0.5 - CUT_WINDOW)), int(part.width * (0.5 + CUT_WINDOW))
    options += [_cut(part, ink, [part.x0 + column]) for column in range(low, high + 1, step)]
    candidates = [[part], *options]
    inputs = [[preprocess_ink(np.where(piece.mask, ink, 0.0).astype(np.float32)) for piece in c] for c in candidates]
    usable = [i for i, images in enumerate(inputs) if images and all(x is not None for x in images)]
    confidences = scorer([x for i in usable for x in inputs[i]])  # one batch for every option
    scores, offset = {}, 0
    for i in usable:
        count = len(inputs[i])
        scores[i] = float(np.mean(np.log(np.clip(confidences[offset : offset + count], 1e-6, 1.0))))
        offset += count
    if 0 in scores:
        scores[0] += KEEP_WHOLE_BIAS
    return candidates[max(scores, key=scores.get)] if scores else [part]


def _thinnest_cuts(part: _Part, ink: np.ndarray, pieces: int) -> list[int]:
    """Columns (in image coordinates) where the ink is thinnest near each of the even cut positions."""
    profile = np.where(part.mask, ink, 0.0)[:, part.x0 : part.x1].sum(axis=0)
    step = part.width / pieces
    window = max(1, int(CUT_WINDOW * step))
    cuts = []
    for k in range(1, pieces):
        centre = int(round(k * step))
        low, high = max(1, centre - window), min(part.width - 1, centre + window)
        cuts.append(part.x0 + low + int(np.argmin(profile[low:high])) if high > low else part.x0 + centre)
    return cuts


def _cut(part: _Part, ink: np.ndarray, cuts: list[int]) -> list[_Part]:
    pieces = []
    edges = [part.x0, *cuts, part.x1]
    for left, right in zip(edges[:-1], edges[1:], strict=True):
        mask = np.zeros_like(part.mask)
        mask[:, left:right] = part.mask[:, left:right]
        ys = np.nonzero(mask.any(axis=1))[0]
        if ys.size == 0:
            continue
        pieces.append(_Part(mask, left, int(ys[0]), right, int(ys[-1]) + 1, float(ink[mask].sum())))
    return pieces
