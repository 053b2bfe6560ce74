"""The style set: digit forms MNIST's American writers rarely use, drawn from our own pen strokes.

MNIST's 1 is a stick, its 7 has no bar, its 4 is mostly open. Elsewhere people write 1s with a flag
and a foot, crossed 7s, looped 2s, flat-topped 3s, 9s with a straight stem, 0s and 6s whose loop
does not close. Each style below is written in two hands (two sets of strokes):
- hand 0 is the training part: `style_inputs("train")` draws it in random pens, sizes, slants and
  wobbles, and train.py (`--styles`) mixes the drawings into MNIST's batches while fine-tuning;
- hand 1 is the held-out part: `style_drawings("held_out")` draws it on a fixed grid of pens 8-36,
  sizes and slants, with other wobbles, for measurement only (tools/reports/style_report.py). Nothing
  trains or tunes on it.
Capital letters come in two hands the same way: the digit check learns from hand 0 (with the
printed letters of `letters`), and is measured on hand 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mnist_app.reading.preprocess import preprocess
from mnist_app.training.rendered_once import rendered_once
from mnist_app.training.strokes import CANVAS, Stroke, ellipse, paint, place

Part = Literal["train", "held_out"]
HANDS: dict[Part, int] = {"train": 0, "held_out": 1}
TAU = 2 * np.pi

# style -> (digit, hands); each hand is a list of strokes in a unit square (x right, y down). The
# plain forms of tools/inputs/synthetic_drawings.py (what most tests draw) are held-out hands here.
DIGIT_STYLES: dict[str, tuple[int, tuple[list[Stroke], list[Stroke]]]] = {
    "0 oval": (
        0,
        (
            [ellipse(0.5, 0.5, 0.28, 0.47, start=-np.pi / 2 - 0.4, sweep=TAU + 0.2)],
            [ellipse(0.5, 0.5, 0.3, 0.45)],
        ),
    ),
    "0 open at the top": (
        0,
        (
            [ellipse(0.5, 0.52, 0.32, 0.45, start=-np.pi / 2 + 0.35, sweep=TAU - 0.7)],
            [ellipse(0.5, 0.52, 0.29, 0.46, start=-np.pi / 2 + 0.45, sweep=TAU - 0.9)],
        ),
    ),
    "1 stick": (
        1,
        (
            [[(0.52, 0.04), (0.5, 0.96)]],
            [[(0.55, 0.03), (0.47, 0.97)]],
        ),
    ),
    "1 with a flag": (
        1,
        (
            [[(0.3, 0.25), (0.55, 0.04), (0.55, 0.96)]],
            [[(0.36, 0.2), (0.58, 0.03), (0.54, 0.97)]],
        ),
    ),
    "1 with a flag and a foot": (
        1,
        (
            [[(0.3, 0.25), (0.55, 0.04), (0.55, 0.96)], [(0.3, 0.96), (0.8, 0.96)]],
            [[(0.33, 0.22), (0.57, 0.04), (0.57, 0.95)], [(0.35, 0.95), (0.78, 0.95)]],
        ),
    ),
    "1 with a long flag (European)": (
        1,
        (
            [[(0.15, 0.45), (0.62, 0.03), (0.62, 0.97)]],
            [[(0.2, 0.4), (0.6, 0.04), (0.57, 0.97)]],
        ),
    ),
    "2 plain": (
        2,
        (
            [[(0.22, 0.22), (0.4, 0.05), (0.65, 0.06), (0.77, 0.25), (0.65, 0.5), (0.25, 0.93), (0.82, 0.92)]],
            [[(0.2, 0.25), (0.35, 0.08), (0.6, 0.05), (0.78, 0.2), (0.75, 0.4), (0.2, 0.95), (0.85, 0.95)]],
        ),
    ),
    "2 with a loop": (
        2,
        (
            [
                [
                    (0.2, 0.22),
                    (0.38, 0.05),
                    (0.62, 0.05),
                    (0.76, 0.22),
                    (0.68, 0.45),
                    (0.45, 0.68),
                    (0.25, 0.88),
                    (0.22, 0.97),
                    (0.35, 0.97),
                    (0.38, 0.86),
                    (0.3, 0.86),
                    (0.4, 0.94),
                    (0.85, 0.94),
                ]
            ],
            [
                [
                    (0.22, 0.2),
                    (0.42, 0.04),
                    (0.66, 0.07),
                    (0.74, 0.28),
                    (0.6, 0.52),
                    (0.3, 0.84),
                    (0.24, 0.95),
                    (0.36, 0.96),
                    (0.36, 0.84),
                    (0.28, 0.88),
                    (0.45, 0.93),
                    (0.82, 0.92),
                ]
            ],
        ),
    ),
    "3 round": (
        3,
        (
            [
                [
                    (0.22, 0.15),
                    (0.5, 0.03),
                    (0.75, 0.18),
                    (0.55, 0.45),
                    (0.45, 0.47),
                    (0.58, 0.5),
                    (0.78, 0.7),
                    (0.6, 0.95),
                    (0.2, 0.9),
                ]
            ],
            [
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
        ),
    ),
    "3 with a flat top": (
        3,
        (
            [[(0.2, 0.05), (0.78, 0.05), (0.45, 0.4), (0.7, 0.5), (0.78, 0.75), (0.55, 0.96), (0.2, 0.88)]],
            [[(0.22, 0.06), (0.75, 0.04), (0.5, 0.38), (0.72, 0.52), (0.75, 0.8), (0.5, 0.97), (0.22, 0.85)]],
        ),
    ),
    "4 closed": (
        4,
        (
            [[(0.65, 0.03), (0.15, 0.65), (0.88, 0.65)], [(0.65, 0.03), (0.65, 0.97)]],
            [[(0.62, 0.97), (0.62, 0.04), (0.14, 0.62), (0.86, 0.62)]],
        ),
    ),
    "4 open": (
        4,
        (
            [[(0.25, 0.05), (0.18, 0.6), (0.85, 0.6)], [(0.68, 0.05), (0.68, 0.97)]],
            [[(0.28, 0.04), (0.2, 0.58), (0.82, 0.6)], [(0.65, 0.2), (0.66, 0.96)]],
        ),
    ),
    "5": (
        5,
        (
            [
                [(0.3, 0.05), (0.25, 0.45), (0.55, 0.38), (0.78, 0.58), (0.72, 0.85), (0.48, 0.96), (0.2, 0.86)],
                [(0.3, 0.05), (0.8, 0.04)],
            ],
            [
                [
                    (0.8, 0.05),
                    (0.3, 0.05),
                    (0.25, 0.45),
                    (0.55, 0.38),
                    (0.78, 0.55),
                    (0.75, 0.8),
                    (0.5, 0.95),
                    (0.2, 0.85),
                ]
            ],
        ),
    ),
    "6 closed": (
        6,
        (
            [
                [
                    (0.72, 0.04),
                    (0.45, 0.2),
                    (0.28, 0.5),
                    (0.26, 0.8),
                    (0.45, 0.96),
                    (0.7, 0.86),
                    (0.72, 0.65),
                    (0.52, 0.52),
                    (0.3, 0.6),
                    (0.27, 0.72),
                ]
            ],
            [
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
        ),
    ),
    "6 with an open loop": (
        6,
        (
            [[(0.68, 0.03), (0.38, 0.28), (0.27, 0.6), (0.33, 0.88), (0.55, 0.95), (0.73, 0.78), (0.62, 0.6)]],
            [
                [
                    (0.7, 0.05),
                    (0.4, 0.25),
                    (0.25, 0.55),
                    (0.28, 0.85),
                    (0.5, 0.95),
                    (0.72, 0.8),
                    (0.68, 0.6),
                    (0.52, 0.55),
                ]
            ],
        ),
    ),
    "7 plain": (
        7,
        (
            [[(0.18, 0.06), (0.82, 0.05), (0.6, 0.45), (0.45, 0.96)]],
            [[(0.15, 0.08), (0.85, 0.08), (0.4, 0.95)]],
        ),
    ),
    "7 with a crossbar": (
        7,
        (
            [[(0.18, 0.06), (0.82, 0.05), (0.6, 0.45), (0.45, 0.96)], [(0.42, 0.47), (0.76, 0.46)]],
            [[(0.15, 0.08), (0.85, 0.08), (0.4, 0.95)], [(0.45, 0.5), (0.82, 0.5)]],
        ),
    ),
    "7 with a hook": (
        7,
        (
            [[(0.15, 0.2), (0.18, 0.06), (0.85, 0.07), (0.42, 0.96)]],
            [[(0.2, 0.18), (0.2, 0.05), (0.8, 0.06), (0.5, 0.95)]],
        ),
    ),
    "8 in one stroke": (
        8,
        (
            [
                [
                    (0.72, 0.12),
                    (0.5, 0.03),
                    (0.28, 0.14),
                    (0.38, 0.38),
                    (0.68, 0.62),
                    (0.7, 0.88),
                    (0.48, 0.97),
                    (0.28, 0.86),
                    (0.32, 0.62),
                    (0.62, 0.38),
                    (0.72, 0.12),
                ]
            ],
            [
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
        ),
    ),
    "8 as two loops": (
        8,
        (
            [ellipse(0.5, 0.26, 0.2, 0.22, 16), ellipse(0.5, 0.72, 0.26, 0.25, 16)],
            [ellipse(0.5, 0.25, 0.22, 0.22, 16, start=0.0), ellipse(0.5, 0.73, 0.24, 0.24, 16, start=0.0)],
        ),
    ),
    "9 with a straight stem": (
        9,
        (
            [ellipse(0.5, 0.27, 0.24, 0.22, 16, start=0.0, sweep=TAU), [(0.74, 0.25), (0.72, 0.97)]],
            [
                [
                    (0.75, 0.3),
                    (0.6, 0.06),
                    (0.35, 0.08),
                    (0.25, 0.3),
                    (0.4, 0.45),
                    (0.65, 0.4),
                    (0.75, 0.25),
                    (0.75, 0.96),
                ]
            ],
        ),
    ),
    "9 with a curved tail": (
        9,
        (
            [
                [
                    (0.75, 0.25),
                    (0.55, 0.05),
                    (0.3, 0.12),
                    (0.28, 0.35),
                    (0.5, 0.45),
                    (0.72, 0.3),
                    (0.72, 0.6),
                    (0.6, 0.88),
                    (0.4, 0.96),
                    (0.25, 0.88),
                ]
            ],
            [
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
        ),
    ),
}

# Capitals as a hand prints them; S, O and I are also how people write 5, 0 and 1.
LETTER_STYLES: dict[str, tuple[list[Stroke], list[Stroke]]] = {
    "A": (
        [[(0.15, 0.95), (0.5, 0.05), (0.85, 0.95)], [(0.3, 0.6), (0.7, 0.6)]],
        [[(0.12, 0.96), (0.48, 0.03), (0.88, 0.95)], [(0.28, 0.62), (0.72, 0.6)]],
    ),
    "B": (
        [
            [(0.25, 0.05), (0.25, 0.95)],
            [(0.25, 0.05), (0.6, 0.06), (0.72, 0.18), (0.68, 0.38), (0.55, 0.47), (0.25, 0.48)],
            [(0.25, 0.48), (0.62, 0.5), (0.78, 0.65), (0.75, 0.85), (0.6, 0.95), (0.25, 0.95)],
        ],
        [
            [(0.22, 0.04), (0.22, 0.96)],
            [(0.22, 0.04), (0.62, 0.05), (0.75, 0.16), (0.7, 0.36), (0.5, 0.48), (0.22, 0.5)],
            [(0.22, 0.5), (0.65, 0.52), (0.8, 0.68), (0.74, 0.88), (0.55, 0.96), (0.22, 0.96)],
        ],
    ),
    "E": (
        [[(0.75, 0.05), (0.25, 0.05), (0.25, 0.95), (0.75, 0.95)], [(0.25, 0.5), (0.65, 0.5)]],
        [[(0.78, 0.04), (0.22, 0.06), (0.24, 0.95), (0.8, 0.94)], [(0.24, 0.5), (0.62, 0.49)]],
    ),
    "H": (
        [[(0.2, 0.05), (0.2, 0.95)], [(0.8, 0.05), (0.8, 0.95)], [(0.2, 0.5), (0.8, 0.5)]],
        [[(0.22, 0.04), (0.24, 0.96)], [(0.78, 0.04), (0.76, 0.96)], [(0.23, 0.52), (0.77, 0.5)]],
    ),
    "K": (
        [[(0.25, 0.05), (0.25, 0.95)], [(0.8, 0.05), (0.27, 0.55)], [(0.4, 0.42), (0.8, 0.95)]],
        [[(0.24, 0.04), (0.24, 0.96)], [(0.78, 0.04), (0.25, 0.52), (0.8, 0.96)]],
    ),
    "M": (
        [[(0.1, 0.95), (0.15, 0.05), (0.5, 0.6), (0.85, 0.05), (0.9, 0.95)]],
        [[(0.12, 0.96), (0.12, 0.04), (0.5, 0.55), (0.88, 0.04), (0.88, 0.96)]],
    ),
    "R": (
        [
            [(0.25, 0.95), (0.25, 0.05), (0.6, 0.06), (0.75, 0.2), (0.7, 0.42), (0.5, 0.5), (0.25, 0.5)],
            [(0.45, 0.5), (0.8, 0.95)],
        ],
        [
            [(0.24, 0.96), (0.24, 0.04), (0.62, 0.05), (0.78, 0.2), (0.72, 0.4), (0.5, 0.48), (0.24, 0.48)],
            [(0.24, 0.48), (0.5, 0.5), (0.8, 0.96)],
        ],
    ),
    "X": (
        [[(0.15, 0.05), (0.85, 0.95)], [(0.85, 0.05), (0.15, 0.95)]],
        [[(0.18, 0.04), (0.82, 0.96)], [(0.8, 0.04), (0.2, 0.96)]],
    ),
    "S": (
        [
            [
                (0.78, 0.15),
                (0.55, 0.04),
                (0.3, 0.1),
                (0.22, 0.3),
                (0.4, 0.47),
                (0.65, 0.55),
                (0.78, 0.75),
                (0.65, 0.93),
                (0.4, 0.96),
                (0.2, 0.85),
            ]
        ],
        [
            [
                (0.75, 0.12),
                (0.5, 0.03),
                (0.27, 0.12),
                (0.27, 0.32),
                (0.5, 0.46),
                (0.72, 0.6),
                (0.74, 0.82),
                (0.5, 0.97),
                (0.22, 0.88),
            ]
        ],
    ),
}
FLAGGED_LETTERS = "ABEHKMRX"  # letters the digit check must flag (S is also a 5)
LETTER_WIDTH = 0.9  # capitals are about as wide as high

# The held-out grid (the issue's pens 8-36), and the training draws' ranges.
HELD_OUT_PENS = (8, 20, 36)
HELD_OUT_SIZES = (120, 220)
HELD_OUT_SLANTS = (-0.2, 0.0, 0.2)
WRITERS = 2  # wobbles per grid point
TRAIN_DRAWS = 200  # per style
WOBBLE = 0.02  # standard deviation of each control point's displacement, in heights


@dataclass(frozen=True)
class StyleDrawing:
    """One drawing of the style set: what it is, how it was drawn, and the canvas image."""

    style: str  # e.g. "1 with a flag", or a letter
    label: int | str  # the digit, or the letter
    pen: float
    size: float
    slant: float
    image: np.ndarray  # RGBA canvas, white on black


def _wobble(strokes: list[Stroke], rng: np.random.Generator, scale: float) -> list[Stroke]:
    """A different writer's version: every control point moved a little."""
    return [[(x + rng.normal(0, scale), y + rng.normal(0, scale)) for x, y in stroke] for stroke in strokes]


def _draw(
    strokes: list[Stroke], rng: np.random.Generator, pen: float, size: float, slant: float, width: float
) -> np.ndarray:
    spread = max(0.0, CANVAS - size * (1 + abs(slant)))
    left, top = rng.uniform(0, spread, size=2) if spread else (0.0, 0.0)
    top = min(top, CANVAS - size)
    return paint(place(_wobble(strokes, rng, WOBBLE), size, left + size * abs(slant) / 2, top, slant, width), pen)


def _forms(kind: Literal["digits", "letters"]) -> dict[str, tuple[int | str, tuple[list[Stroke], ...], float]]:
    if kind == "digits":
        return {name: (digit, hands, 0.75) for name, (digit, hands) in DIGIT_STYLES.items()}
    return {letter: (letter, hands, LETTER_WIDTH) for letter, hands in LETTER_STYLES.items()}


def style_drawings(
    part: Part, kind: Literal["digits", "letters"] = "digits", seed: int = 0, draws: int = TRAIN_DRAWS
) -> Iterator[StyleDrawing]:
    """The held-out part on its fixed grid, or the training part in random pens, sizes and slants
    (`draws` of each form)."""
    rng = np.random.default_rng([seed, HANDS[part], kind == "letters"])
    for style, (label, hands, width) in _forms(kind).items():
        strokes = hands[HANDS[part]]
        if part == "held_out":
            grid = [(p, s, t) for p in HELD_OUT_PENS for s in HELD_OUT_SIZES for t in HELD_OUT_SLANTS if p <= s / 4]
            grid = [point for point in grid for _ in range(WRITERS)]
        else:
            grid = [(rng.uniform(6, 40), rng.uniform(90, 260), rng.uniform(-0.25, 0.25)) for _ in range(draws)]
        for pen, size, slant in grid:
            shape = width * rng.uniform(0.85, 1.15)  # narrow and wide hands
            yield StyleDrawing(style, label, pen, size, slant, _draw(strokes, rng, pen, size, slant, shape))


@rendered_once
def style_inputs(
    part: Part = "train", seed: int = 0, draws: int = TRAIN_DRAWS
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The digits of a part as MNIST-style uint8 inputs (as the app preprocesses a canvas), their
    labels and their styles."""
    images, labels, styles = [], [], []
    for drawing in style_drawings(part, "digits", seed, draws):
        x = preprocess(drawing.image)
        if x is not None:
            images.append(np.round(x * 255).astype(np.uint8))
            labels.append(drawing.label)
            styles.append(drawing.style)
    return np.stack(images), np.array(labels, np.uint8), styles


@rendered_once
def letter_inputs(part: Part = "train", seed: int = 0, draws: int = TRAIN_DRAWS) -> dict[str, np.ndarray]:
    """Each drawn capital's (n, 28, 28) float32 inputs, preprocessed as the app does."""
    inputs: dict[str, list[np.ndarray]] = {}
    for drawing in style_drawings(part, "letters", seed, draws):
        x = preprocess(drawing.image)
        if x is not None:
            inputs.setdefault(str(drawing.label), []).append(x)
    return {letter: np.stack(images) for letter, images in inputs.items()}
