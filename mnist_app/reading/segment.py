"""Split an image of a handwritten number into its digits, left to right. NumPy and scipy.ndimage.

The pipeline, each step a small function:
1. `preprocess.ink_map`: ink intensity in [0, 1] (polarity, transparency, photo background, ink attached to strokes);
2. `parts.components`: connected parts of the ink (8-connected), with their boxes and ink mass;
3. `drop_specks`: parts holding a tiny share of the ink are dirt, not digits;
4. `merge_parts`: parts that overlap horizontally are one digit (a 5's detached flag, a 4 or 7
   drawn in two strokes, a dot of ink); judged by overlap and size, never by fixed slots;
   `drop_strays` then leaves out merged parts far lighter than a typical digit that are faint or
   not read as a confident digit (a thin "1" in its neighbours' ink is neither, and stays);
   whatever is left out is returned with its place and why (`Ignored`), for the page to say so;
5. `touching.split_wide`: a part much wider than a digit holds touching digits: read whole by the
   string reader and cut between its digits (where the judge has one), else over-segmented at the
   ink's valleys and cut where the pieces read most confidently (given a judge);
6. each digit's own ink goes through the single-digit pipeline (stroke, fit 20 px, centre).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_app.reading.ink import Polarity, ink_map
from mnist_app.reading.parts import Box, Judge, Part, components, join, part_input
from mnist_app.reading.touching import split_wide

SPECK_SHARE = 0.03  # a part with less ink than this share of the heaviest part is a speck...
SPECK_HEIGHT = 0.25  # ...unless it is taller than this share of the tallest part (a thin "1")
OVERLAP_TO_MERGE = 0.5  # horizontal overlap, as a share of the narrower part, that makes one digit
SMALL_PART = 0.35  # a part lower than this share of the typical height is a fragment (a flag, a dot)
NEAR_GAP = 0.25  # ...and joins the nearest digit within this many typical heights
STRAY_SHARE = 0.15  # a merged part with less ink than this share of the median part...
FAINT_SHARE = 0.6  # ...with ink fainter than this share of the median part's is a stray mark...
STRAY_CONFIDENCE = 0.8  # ...and so is one the judging model reads with less confidence than this...
STRAY_HEIGHT = 0.6  # ...or one lower than this share of the median part's height (a 1 is as tall as its neighbours)


@dataclass(frozen=True)
class Digit:
    """One digit of the number."""

    box: Box  # where it is in the given image
    image: np.ndarray  # (28, 28) float32 model input
    read_whole: np.ndarray | None = None  # (10,) the string reader's probabilities, for a digit among touching ones


@dataclass(frozen=True)
class Ignored:
    """Ink left out of the number, and why: "speck", "small mark" (far from any digit), "faint mark", or
    "stray mark" (light, and not read as a digit)."""

    box: Box
    kind: str


@dataclass(frozen=True)
class Segmentation:
    digits: list[Digit]  # left to right
    ignored: list[Ignored]  # left to right


def segment_number(image: np.ndarray, polarity: Polarity = "auto", judge: Judge | None = None) -> list[Digit]:
    """The digits of a handwritten number, left to right; [] when there is no ink."""
    return segment(image, polarity, judge).digits


def segment(image: np.ndarray, polarity: Polarity = "auto", judge: Judge | None = None) -> Segmentation:
    """The digits of a handwritten number, and the ink left out of it, each left to right. The `judge`
    reads what is proposed: stray marks, the pieces of touching digits, and runs read whole
    (`touching.split_wide`); without one, parts are judged by their shape alone."""
    ink = ink_map(image, polarity, attached_ink=True)
    if ink is None:
        return Segmentation([], [])
    parts, specks = drop_specks(components(ink))
    if not parts:
        return Segmentation([], [])
    parts, small = merge_parts(parts)
    parts, strays = drop_strays(parts, ink, judge)
    parts = split_wide(parts, ink, judge)
    scale = (np.asarray(image).shape[0] / ink.shape[0], np.asarray(image).shape[1] / ink.shape[1])
    digits = []
    for part in sorted(parts, key=_centre):
        model_input = part_input(part, ink)
        if model_input is not None:
            digits.append(Digit(_box(part, scale), model_input, part.read_as))
    left_out = [(p, "speck") for p in specks] + [(p, "small mark") for p in small] + strays
    ignored = [Ignored(_box(part, scale), kind) for part, kind in sorted(left_out, key=lambda pair: _centre(pair[0]))]
    return Segmentation(digits, ignored)


def _centre(part: Part) -> float:
    return (part.x0 + part.x1) / 2


def _box(part: Part, scale: tuple[float, float]) -> Box:
    """The part's box in the given image's pixels (the ink map may be smaller)."""
    scale_y, scale_x = scale
    return (
        int(part.x0 * scale_x),
        int(part.y0 * scale_y),
        int(np.ceil(part.x1 * scale_x)),
        int(np.ceil(part.y1 * scale_y)),
    )


# --- 3. specks ---------------------------------------------------------------------------------


def drop_specks(parts: list[Part]) -> tuple[list[Part], list[Part]]:
    """Leave out parts with a tiny share of the ink that are also short (dust, a pen tap): (kept, left out)."""
    if not parts:
        return [], []
    heaviest = max(part.mass for part in parts)
    tallest = max(part.height for part in parts)

    def is_speck(part: Part) -> bool:
        return part.mass < SPECK_SHARE * heaviest and part.height < SPECK_HEIGHT * tallest

    return [p for p in parts if not is_speck(p)], [p for p in parts if is_speck(p)]


# --- 4. merge ----------------------------------------------------------------------------------


def merge_parts(parts: list[Part]) -> tuple[list[Part], list[Part]]:
    """Join parts of one digit: those overlapping horizontally, and small fragments near a digit.
    Returns the digits' parts and the small parts too far from any digit to join one."""
    parts = sorted(parts, key=lambda p: p.x0)
    changed = True
    while changed:
        changed = False
        for i in range(len(parts)):
            for j in range(i + 1, len(parts)):
                if _overlap_share(parts[i], parts[j]) >= OVERLAP_TO_MERGE:
                    parts[i] = join(parts[i], parts.pop(j))
                    changed = True
                    break
            if changed:
                break
    return _attach_fragments(parts)


def drop_strays(parts: list[Part], ink: np.ndarray, judge: Judge | None = None) -> tuple[list[Part], list[Part]]:
    """Leave out parts far lighter than the typical digit that are either faint, or not read as a
    confident digit of full height (a faint line, a smudge, a broken-off bit of stroke). Returns the
    parts kept, and those left out with why: "faint mark", or "stray mark" (not faint, but too short
    or not read as a digit).

    Judged after merging, so a 5's flag or a two-stroke 4 already counts with its digit, and against
    the median. A thin "1" holds little ink, but written in the same ink as its neighbours it is not
    faint, it is as tall as they are, and it reads as a confident 1: it stays.
    """
    if len(parts) < 2:
        return parts, []
    typical_mass = float(np.median([part.mass for part in parts]))
    typical_level = float(np.median([part.level for part in parts]))
    typical_height = float(np.median([part.height for part in parts]))
    light = [p for p in parts if p.mass < STRAY_SHARE * typical_mass]
    sure = _confident(light, ink, judge)
    left_out = []
    for part, is_sure in zip(light, sure, strict=True):
        if part.level < FAINT_SHARE * typical_level:
            left_out.append((part, "faint mark"))
        elif not is_sure or part.height < STRAY_HEIGHT * typical_height:
            left_out.append((part, "stray mark"))
    return [p for p in parts if all(p is not out for out, _ in left_out)], left_out


def _confident(parts: list[Part], ink: np.ndarray, judge: Judge | None) -> list[bool]:
    """Whether the judge reads each part as a digit with at least STRAY_CONFIDENCE (all True without one)."""
    if judge is None or not parts:
        return [True] * len(parts)
    inputs = [part_input(p, ink) for p in parts]
    readable = [x for x in inputs if x is not None]
    scores = iter(judge.score(readable)[0].max(axis=1) if readable else [])
    return [x is not None and next(scores) >= STRAY_CONFIDENCE for x in inputs]


def _overlap_share(a: Part, b: Part) -> float:
    overlap = min(a.x1, b.x1) - max(a.x0, b.x0)
    return max(overlap, 0) / max(min(a.width, b.width), 1)


def _attach_fragments(parts: list[Part]) -> tuple[list[Part], list[Part]]:
    """A part much lower than the others (a detached flag or dot) joins the nearest digit if it is close.
    Returns the digits and the small parts left out (a dash or a stray mark far from any digit)."""
    if len(parts) < 2:
        return parts, []
    typical = float(np.median([part.height for part in parts]))
    small = [part for part in parts if part.height < SMALL_PART * typical]
    digits = [part for part in parts if part.height >= SMALL_PART * typical]
    if not digits:
        return parts, []
    left_out = []
    for fragment in small:
        # The digit it overlaps most (a 5's flag over its body), else the nearest one.
        overlaps = [min(d.x1, fragment.x1) - max(d.x0, fragment.x0) for d in digits]
        nearest = int(np.argmax(overlaps))
        if overlaps[nearest] >= -NEAR_GAP * typical:
            digits[nearest] = join(digits[nearest], fragment)
        else:
            left_out.append(fragment)
    return sorted(digits, key=lambda p: p.x0), left_out
