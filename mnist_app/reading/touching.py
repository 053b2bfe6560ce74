"""Touching digits: cut a part that is wider than one digit into the digits it holds.

Connected parts cannot separate digits whose strokes touch. Where the judge (`parts.Judge`) reads runs
whole (the string reader), a part wider than READ_WHOLE_RATIO heights is read whole by it, and cut
between the digits it found (`read_whole`); so is a narrower one, from UNSURE_RUN_RATIO heights, that the judge
does not read as one sure, typical digit. Otherwise a part much wider than a digit is cut by over-segmentation with
recognition: candidate cuts at the columns where its ink is thinnest (about one every tenth of its
height), every run of columns between two cuts that is as wide as a digit is read by the judging
model, and the way of cutting whose pieces read most confidently wins (dynamic programming over the
cuts, for each number of pieces; the mean log-confidence decides). Without a model, the part is cut
at the thinnest column near each even split.
"""

from __future__ import annotations

import numpy as np

from mnist_app.reading.parts import Judge, Part, part_input, piece
from mnist_app.reading.preprocess import preprocess_ink, stroke_width

WIDE_RATIO = 1.0  # a part wider than this many typical heights may hold touching digits...
# ...and the string reader reads parts from this width on: a 1 overlapping its neighbour leaves a part
# hardly wider than one digit ("14"), and the reader reads one wide digit as one (chosen on other samples
# than docs/numbers.md's: 0.75 read more touching numbers whole than 0.85 and as many numbers apart; lower, fewer apart).
READ_WHOLE_RATIO = 0.75
# A part up to this many heights wide that the reader finds several digits in, but is unsure of one of them
# (below ONE_DIGIT_SURE), is one digit when the judge reads it as one typical digit that sure: a broad 8
# read as "28" (chosen on the same other samples: fewer digits added apart, no touching number lost).
ONE_DIGIT_WIDTH = 1.15
ONE_DIGIT_SURE = 0.9
# A part narrower than READ_WHOLE_RATIO but at least this many heights wide, that the judge does not read as one
# typical digit this sure, is read whole too: a 1 hidden in its neighbour ("19" read as one 8). Chosen on tuning
# numbers (docs/numbers.md): reading every such part whole lost numbers apart; 0.99 lost none.
UNSURE_RUN_RATIO = 0.5
UNSURE_RUN_SURE = 0.99
CLEAR_RATIO = 1.3  # ...but one narrower than this that reads as one sure, typical digit is kept whole
SURE_WHOLE = float(np.log(0.5))  # ...(its log-confidence, less the atypical penalty)
DIGIT_ASPECT = 0.7  # the typical width of a digit, in heights, for guessing how many are touching
CUT_WINDOW = 0.3  # without a model: cuts are searched within this share of a digit width around the even split
CUT_STEP = 0.1  # candidate cuts: about one per this share of the part's height...
SNAP = 0.5  # ...each moved to the thinnest column within this share of a step around it
PIECE_WIDTH = (0.12, 1.25)  # a digit's width, in heights of the part: from a thin 1 to a wide 0
KEEP_WHOLE_BIAS = 0.3  # log-confidence bonus for leaving a part uncut: cut only when clearly better
THINNEST_STROKE = 0.03  # a part whose strokes are thinner than this share of its height is a scribble
# Width over height of MNIST's training digits, per digit: the 1st and 99th percentiles. A piece read as
# a digit but wider than that digit ever is, is more likely two digits touching ("76" read as one 8);
# one narrower, a sliver of a digit (only 1s are thin). Each 20 % beyond costs half a point of log-confidence.
NARROWEST = (0.55, 0.15, 0.55, 0.45, 0.5, 0.5, 0.4, 0.5, 0.45, 0.4)
WIDEST = (1.43, 1.0, 1.67, 1.25, 1.25, 1.67, 1.11, 1.25, 1.25, 1.05)
WIDER_SCALE = 0.2
BODY = 0.1  # a digit's body: the rows and columns holding at least this share of the fullest one's ink
SHORTEST = 0.65  # a piece's ink must stand at least this share of the part's height
ATYPICAL = float(np.log(0.3))  # a piece the digit check finds atypical (two digits in one, half a digit)


def split_wide(parts: list[Part], ink: np.ndarray, judge: Judge | None = None) -> list[Part]:
    """Cut parts that are much wider than a digit into touching digits; others are kept as they are.
    Where the judge reads runs whole, a wide part is read whole and cut between the digits it found;
    otherwise, or where it cannot read the part, cut by over-segmentation with recognition (without a
    judge, at the thinnest columns)."""
    reads_runs = judge is not None and judge.reads_runs
    typical = float(np.median([part.height for part in parts]))
    unsure = _unsure_parts(parts, ink, judge, typical) if reads_runs else set()
    out = []
    for index, part in enumerate(parts):
        limit = max(part.height, typical * 0.8)
        narrow = part.width <= WIDE_RATIO * limit  # too narrow to cut
        if index in unsure:
            out.extend(read_whole(part, ink, judge) or [part])
        elif part.width <= READ_WHOLE_RATIO * limit or (narrow and not reads_runs):
            out.append(part)
        elif stroke_width(np.where(part.mask, ink, 0.0)[part.y0 : part.y1, part.x0 : part.x1]) < (
            THINNEST_STROKE * part.height
        ):
            out.append(part)  # a scribble or noise, not pen strokes: cut into strips, it would read as many 1s
        elif reads_runs and (read := read_whole(part, ink, judge)) is not None:
            out.extend(read)
        elif narrow:
            out.append(part)
        elif judge is None:
            pieces = max(2, round(part.width / (DIGIT_ASPECT * max(part.height, 1))))
            out.extend(_cut(part, ink, _thinnest_cuts(part, ink, pieces)))
        else:
            out.extend(_best_cutting(part, ink, judge))
    return out


def _unsure_parts(parts: list[Part], ink: np.ndarray, judge: Judge, typical: float) -> set[int]:
    """Which parts, from UNSURE_RUN_RATIO to READ_WHOLE_RATIO heights wide, the judge does not read as one typical
    digit, UNSURE_RUN_SURE sure (all read in one batch)."""
    candidates, images = [], []
    for index, part in enumerate(parts):
        limit = max(part.height, typical * 0.8)
        if UNSURE_RUN_RATIO * limit < part.width <= READ_WHOLE_RATIO * limit:
            image = part_input(part, ink)  # the same input the digit is read from afterwards
            if image is not None:
                candidates.append(index)
                images.append(image)
    if not images:
        return set()
    probabilities, typical_digit = judge.score(images)
    sure = np.log(UNSURE_RUN_SURE)
    return {
        index
        for index, p, t in zip(candidates, probabilities, typical_digit, strict=True)
        if _whole_confidence(p, t) < sure
    }


def read_whole(part: Part, ink: np.ndarray, judge: Judge) -> list[Part] | None:
    """The part read whole by the string reader, cut into one piece per digit it found (each carrying
    the string reader's reading): at the thinnest column of the middle half between two digits' centres.
    One digit: the part is kept whole and read like any digit; so is one wide digit the reader took for
    two (`_one_digit_after_all`). None when the reader cannot read it."""
    local = np.where(part.mask, ink, 0.0)[part.y0 : part.y1, part.x0 : part.x1].astype(np.float32)
    found = judge.read_run(local)
    if not found:
        return None
    if len(found) == 1 or _one_digit_after_all(part, local, found, judge):
        return [part]
    profile = _profile(part, ink)
    centres = [int(np.clip(round(x), 0, part.width)) for _, x in found]
    edges = [0]
    for left, right in zip(centres[:-1], centres[1:], strict=True):
        low, high = left + (right - left) // 4, right - (right - left) // 4
        edges.append(low + int(np.argmin(profile[low:high])) if high > low else (left + right) // 2)
    edges.append(part.width)
    pieces = []
    for (probabilities, _), start, end in zip(found, edges[:-1], edges[1:], strict=True):
        cut = piece(part, ink, part.x0 + start, part.x0 + max(end, start + 1))
        if cut is None:
            return None  # a digit with no ink of its own between its neighbours: read it the other way
        cut.read_as = probabilities
        pieces.append(cut)
    return pieces


def _one_digit_after_all(part: Part, local: np.ndarray, found: list[tuple[np.ndarray, float]], judge: Judge) -> bool:
    """Whether a part the reader found several digits in is one wide digit after all: no wider than
    ONE_DIGIT_WIDTH heights, the reader unsure of one of its digits, and the judge sure of one typical digit."""
    if part.width > ONE_DIGIT_WIDTH * part.height or min(float(p.max()) for p, _ in found) >= ONE_DIGIT_SURE:
        return False
    image = preprocess_ink(local)
    if image is None:
        return False
    probabilities, typical = judge.score([image])
    return _whole_confidence(probabilities[0], typical[0]) >= np.log(ONE_DIGIT_SURE)  # atypical: never that sure


def _whole_confidence(probabilities: np.ndarray, typical: bool) -> float:
    """Log-confidence of reading a part as one digit, less the penalty when the check finds it atypical."""
    return float(np.log(max(float(probabilities.max()), 1e-6))) + (0 if typical else ATYPICAL)


def _profile(part: Part, ink: np.ndarray) -> np.ndarray:
    """The part's ink per column (its own pixels only)."""
    return np.where(part.mask, ink, 0.0)[:, part.x0 : part.x1].sum(axis=0)


def candidate_cuts(part: Part, ink: np.ndarray) -> list[int]:
    """Columns (relative to the part) where a cut may go: a grid of CUT_STEP heights, each snapped to
    the thinnest ink nearby, so that cuts fall in the valleys between touching digits."""
    profile = _profile(part, ink)
    step = max(2.0, CUT_STEP * part.height)
    reach = max(1, int(SNAP * step))
    cuts = set()
    for centre in np.arange(step, part.width - step / 2, step):
        low, high = max(1, int(centre) - reach), min(part.width - 1, int(centre) + reach + 1)
        if high > low:
            cuts.add(low + int(np.argmin(profile[low:high])))
    return sorted(cuts)


def _best_cutting(part: Part, ink: np.ndarray, judge: Judge) -> list[Part]:
    """The way of cutting whose pieces the judge reads most confidently (the whole part included)."""
    edges = [0, *candidate_cuts(part, ink), part.width]
    local = np.where(part.mask, ink, 0.0)[part.y0 : part.y1, part.x0 : part.x1].astype(np.float32)
    narrow, wide = (w * part.height for w in PIECE_WIDTH)
    spans = [
        (i, j) for i in range(len(edges)) for j in range(i + 1, len(edges)) if narrow <= edges[j] - edges[i] <= wide
    ]
    inputs = {span: preprocess_ink(local[:, edges[span[0]] : edges[span[1]]]) for span in spans}
    inputs[(0, len(edges) - 1)] = preprocess_ink(local)
    readable = [span for span, image in inputs.items() if image is not None]
    if not readable:
        return [part]
    probabilities, typical = judge.score([inputs[span] for span in readable])
    score = {
        span: _piece_score(p, *_body(local[:, edges[span[0]] : edges[span[1]]]), part.height) + (0 if t else ATYPICAL)
        for span, p, t in zip(readable, probabilities, typical, strict=True)
    }
    whole_at = readable.index((0, len(edges) - 1)) if (0, len(edges) - 1) in readable else None
    if whole_at is not None:
        sure = _whole_confidence(probabilities[whole_at], typical[whole_at])
        if sure >= SURE_WHOLE and part.width <= CLEAR_RATIO * part.height:
            return [part]  # one sure, typical digit, however wide (a wide 9 or 2)
    whole = None if whole_at is None else sure  # the whole part: no width penalty (a wide 6 on paper is one digit)
    chosen = _best_path(score, len(edges) - 1)
    if chosen is None or (whole is not None and whole + KEEP_WHOLE_BIAS >= chosen[0]):
        return [part]
    pieces = [piece(part, ink, part.x0 + edges[i], part.x0 + edges[j]) for i, j in chosen[1]]
    return [p for p in pieces if p is not None]


def _body(ink: np.ndarray) -> tuple[int, int]:
    """Width and height of the ink's body: rows and columns holding BODY of the fullest one's ink (a
    faint smudge or a shadow attached to a digit on a paper photo does not widen it)."""

    def extent(profile: np.ndarray) -> int:
        inked = np.flatnonzero(profile > BODY * profile.max()) if profile.max() > 0 else np.array([0])
        return int(inked[-1] - inked[0] + 1)

    return extent(ink.sum(axis=0)), extent(ink.sum(axis=1))


def _piece_score(probabilities: np.ndarray, width: int, height: int, part_height: int) -> float:
    """Log-confidence of the piece's answer, less a penalty when it is wider or narrower than that digit
    ever is; a piece far lower than the part (a sliver of a bar or a tail) is no digit."""
    if height < SHORTEST * part_height:
        return float(np.log(1e-6))
    aspect = width / max(height, 1)
    digit = int(np.argmax(probabilities))
    beyond = max(np.log(aspect / WIDEST[digit]), np.log(NARROWEST[digit] / aspect), 0.0)
    excess = float(beyond) / WIDER_SCALE
    return float(np.log(max(float(probabilities[digit]), 1e-6))) - excess**2 / 2


def _best_path(score: dict[tuple[int, int], float], last: int) -> tuple[float, list[tuple[int, int]]] | None:
    """Over the cuts 0..last: for each number of pieces k >= 2, the pieces with the largest summed log
    confidence (dynamic programming); returns the best mean log-confidence over k, and its pieces."""
    ending: dict[int, list[tuple[int, float]]] = {}
    for (i, j), s in score.items():
        if (i, j) != (0, last):  # the whole part is weighed on its own
            ending.setdefault(j, []).append((i, s))
    best: dict[tuple[int, int], tuple[float, list[tuple[int, int]]]] = {(0, 0): (0.0, [])}
    for k in range(1, last + 1):
        for j, starts in ending.items():
            options = [(best[(k - 1, i)][0] + s, i) for i, s in starts if (k - 1, i) in best]
            if options:
                total, i = max(options)
                best[(k, j)] = (total, [*best[(k - 1, i)][1], (i, j)])
    finished = [(total / k, path) for (k, j), (total, path) in best.items() if j == last and k >= 2]
    return max(finished, key=lambda option: option[0]) if finished else None


def _thinnest_cuts(part: Part, ink: np.ndarray, pieces: int) -> list[int]:
    """Columns (in image coordinates) where the ink is thinnest near each of the even cut positions."""
    profile = _profile(part, ink)
    step = part.width / pieces
    window = max(1, int(CUT_WINDOW * step))
    cuts = []
    for k in range(1, pieces):
        centre = int(round(k * step))
        low, high = max(1, centre - window), min(part.width - 1, centre + window)
        cuts.append(part.x0 + low + int(np.argmin(profile[low:high])) if high > low else part.x0 + centre)
    return cuts


def _cut(part: Part, ink: np.ndarray, cuts: list[int]) -> list[Part]:
    edges = [part.x0, *cuts, part.x1]
    pieces = [piece(part, ink, left, right) for left, right in zip(edges[:-1], edges[1:], strict=True)]
    return [p for p in pieces if p is not None]
