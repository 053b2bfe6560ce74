"""Images of whole numbers for the segmentation tests, made independently of the training data.

- `pasted_number`: MNIST *test* digits pasted side by side with random gaps (down to slight
  overlaps), sizes +-20 % and baselines +-10 %, as a canvas or as a paper photo;
- `drawn_number`: digits drawn from our own pen strokes (tools/inputs/synthetic_drawings.py), slanted and uneven.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from mnist_app.serving.reader import Reader
from mnist_app.training.strings import tight_crop
from tools.inputs.degrade import on_paper
from tools.inputs.synthetic_drawings import canvas_points

HEIGHT = 100  # a pasted digit's height in pixels, before the +-20 % size change
PIXELS_PER_MNIST_PIXEL = HEIGHT / 20  # an MNIST digit is about 20 px tall in its 28x28 field
TOUCHING_GAPS = (-4, 2)  # neighbours' gaps in MNIST pixels for the touching set: overlapping to just apart


def pasted_number(
    x_test: np.ndarray,
    y_test: np.ndarray,
    rng: np.random.Generator,
    count: int,
    gaps: tuple[int, int] = (3, 16),
    photo: bool = False,
) -> tuple[np.ndarray, str, bool]:
    """(image, the number's digits, whether any two neighbours touch)."""
    picks = rng.choice(len(x_test), count, replace=False)
    layers, x = [], 20
    width = 60 + count * int(1.4 * HEIGHT)
    for index in picks:
        digit = tight_crop(x_test[index])
        height = int(HEIGHT * rng.uniform(0.8, 1.2))
        scaled = Image.fromarray(digit).resize((max(1, digit.shape[1] * height // digit.shape[0]), height))
        top = int(40 + rng.uniform(-0.1, 0.1) * HEIGHT)
        layer = np.zeros((HEIGHT * 2, width), np.uint8)
        layer[top : top + height, x : x + scaled.width] = np.asarray(scaled)
        layers.append(layer)
        x += scaled.width + int(rng.integers(gaps[0], gaps[1]))
    ink = np.max(layers, axis=0)[:, : x + 20]
    touching = any(_touch(a, b) for a, b in zip(layers, layers[1:], strict=False))
    image = on_paper(ink, rng, jpeg=75) if photo else ink
    return image, "".join(str(y_test[i]) for i in picks), touching


def touching_number(
    x_test: np.ndarray, y_test: np.ndarray, rng: np.random.Generator, count: int, photo: bool = False, tries: int = 50
) -> tuple[np.ndarray, str]:
    """A number whose neighbours touch or overlap somewhere (gaps -4 to 2 px at MNIST's scale)."""
    low, high = (round(g * PIXELS_PER_MNIST_PIXEL) for g in TOUCHING_GAPS)
    for _ in range(tries):
        image, truth, touching = pasted_number(x_test, y_test, rng, count, (low, high + 1), photo)
        if touching:
            return image, truth
    raise RuntimeError(f"no touching {count}-digit number in {tries} tries")


def digit_errors(truth: str, read: str) -> tuple[int, int, int]:
    """(digits read right, dropped, added) by the best alignment of `read` to `truth` (edit distance)."""
    rows, cols = len(truth) + 1, len(read) + 1
    cost = np.zeros((rows, cols), int)
    cost[:, 0], cost[0, :] = range(rows), range(cols)
    for i in range(1, rows):
        for j in range(1, cols):
            cost[i, j] = min(cost[i - 1, j] + 1, cost[i, j - 1] + 1, cost[i - 1, j - 1] + (truth[i - 1] != read[j - 1]))
    i, j, right, dropped, added = len(truth), len(read), 0, 0, 0
    while i or j:
        if i and j and cost[i, j] == cost[i - 1, j - 1] + (truth[i - 1] != read[j - 1]):
            right += truth[i - 1] == read[j - 1]
            i, j = i - 1, j - 1
        elif i and cost[i, j] == cost[i - 1, j] + 1:
            dropped, i = dropped + 1, i - 1
        else:
            added, j = added + 1, j - 1
    return right, dropped, added


def cnn_reads(image: np.ndarray, reader: Reader) -> str:
    """The number the CNN reads in `image`, as the app reads it ("" when there is no ink)."""
    reading = reader.read_number(image, ("cnn",))
    return reading.number("cnn") if reading else ""


@dataclass
class NumberScore:
    """How the CNN read a set of numbers: whole numbers exact, and digits right, dropped and added."""

    numbers: int = 0
    exact: int = 0
    digits: int = 0
    right: int = 0
    dropped: int = 0
    added: int = 0

    def add(self, truth: str, read: str) -> None:
        right, dropped, added = digit_errors(truth, read)
        self.numbers, self.exact, self.digits = self.numbers + 1, self.exact + (read == truth), self.digits + len(truth)
        self.right, self.dropped, self.added = self.right + right, self.dropped + dropped, self.added + added

    @property
    def exact_rate(self) -> float:
        return self.exact / max(self.numbers, 1)

    def summary(self) -> dict:
        return {
            "numbers": self.numbers,
            "exact": round(self.exact_rate, 4),
            "digits": self.digits,
            "digit_accuracy": round(self.right / max(self.digits, 1), 4),
            "dropped": self.dropped,
            "added": self.added,
        }


def score_numbers(reader: Reader, cases: Iterable[tuple[np.ndarray, str, Hashable]]) -> dict[Hashable, NumberScore]:
    """The CNN's reading of each (image, true number, group) case, scored per group, as the app reads them."""
    scores: dict[Hashable, NumberScore] = defaultdict(NumberScore)
    for image, truth, group in cases:
        scores[group].add(truth, cnn_reads(image, reader))
    return scores


def touching_rates(
    reader: Reader,
    x_test: np.ndarray,
    y_test: np.ndarray,
    seed: int,
    photo: bool,
    numbers: int,
    lengths: tuple[int, int],
) -> dict:
    """The CNN on touching numbers of `lengths` digits: exact numbers, per-digit accuracy, drops and additions."""
    rng = np.random.default_rng(seed)
    cases = (
        (*touching_number(x_test, y_test, rng, int(rng.integers(lengths[0], lengths[1] + 1)), photo), "touching")
        for _ in range(numbers)
    )
    return score_numbers(reader, cases)["touching"].summary()


def _touch(a: np.ndarray, b: np.ndarray) -> bool:
    grown = np.asarray(Image.fromarray(((a > 50) * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(3)))
    return bool(((grown > 0) & (b > 50)).any())


def drawn_number(
    digits: str, rng: np.random.Generator, pen: float = 8, height: float = 70, slant: float = 0.0
) -> np.ndarray:
    """White strokes on a black RGBA canvas, like the app's Number canvas sends."""
    width = int(40 + len(digits) * height * 0.95)
    image = Image.new("RGBA", (width, int(height * 1.6)), (0, 0, 0, 255))
    draw = ImageDraw.Draw(image)
    x = 20.0
    for char in digits:
        size = height * rng.uniform(0.85, 1.15)
        top = height * 0.3 + rng.uniform(-0.08, 0.08) * height
        for stroke in canvas_points(int(char), size=size, left=x, top=top, slant=slant):
            draw.line(stroke, fill=(255, 255, 255, 255), width=round(pen), joint="curve")
        x += size * 0.8 + rng.uniform(0.1, 0.3) * height
    return np.asarray(image)


def touching_drawing(digits: str, advance: float = 0.55, size: float = 90, pen: int = 8) -> np.ndarray:
    """Our own strokes, each digit starting `advance` digit-sizes after the last: at 0.55 neighbours come
    close, at 0.35 most touch (one connected run of strokes)."""
    image = Image.new("RGBA", (int(60 + len(digits) * size * advance + size), 160), (0, 0, 0, 255))
    draw = ImageDraw.Draw(image)
    for index, char in enumerate(digits):
        for stroke in canvas_points(int(char), size=size, left=20 + index * size * advance, top=30):
            draw.line(stroke, fill=(255, 255, 255, 255), width=pen, joint="curve")
    return np.asarray(image)


def exact_rate(
    reader: Reader,
    x_test: np.ndarray,
    y_test: np.ndarray,
    seed: int,
    photo: bool,
    numbers: int,
    gaps: tuple[tuple[int, int], ...] = ((3, 16), (0, 3), (-2, 1)),
) -> tuple[float, float, int, int]:
    """Whole-number exact accuracy of the CNN, for numbers whose digits are apart and those that touch."""
    rng = np.random.default_rng(seed)
    cases = (
        pasted_number(x_test, y_test, rng, int(rng.integers(2, 9)), gaps[index % len(gaps)], photo=photo)
        for index in range(numbers)
    )
    scores = score_numbers(reader, cases)  # grouped by whether the number's digits touch
    apart, touching = scores[False], scores[True]
    return apart.exact_rate, touching.exact_rate, apart.numbers, touching.numbers
