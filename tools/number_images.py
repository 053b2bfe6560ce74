"""Images of whole numbers for the segmentation tests, made independently of the training data.

- `pasted_number`: MNIST *test* digits pasted side by side with random gaps (down to slight
  overlaps), sizes +-20 % and baselines +-10 %, as a canvas or as a paper photo;
- `drawn_number`: digits drawn from our own pen strokes (tools/synthetic_drawings.py), slanted and uneven.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from mnist_app.serving.reader import read_number
from tools.degrade import _paper
from tools.synthetic_drawings import canvas_points

HEIGHT = 100  # a pasted digit's height in pixels, before the +-20 % size change


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
        digit = _tight(x_test[index])
        height = int(HEIGHT * rng.uniform(0.8, 1.2))
        scaled = Image.fromarray(digit).resize((max(1, digit.shape[1] * height // digit.shape[0]), height))
        top = int(40 + rng.uniform(-0.1, 0.1) * HEIGHT)
        layer = np.zeros((HEIGHT * 2, width), np.uint8)
        layer[top : top + height, x : x + scaled.width] = np.asarray(scaled)
        layers.append(layer)
        x += scaled.width + int(rng.integers(gaps[0], gaps[1]))
    ink = np.max(layers, axis=0)[:, : x + 20]
    touching = any(_touch(a, b) for a, b in zip(layers, layers[1:], strict=False))
    image = _paper(ink, rng, jpeg=75) if photo else ink
    return image, "".join(str(y_test[i]) for i in picks), touching


def _tight(digit: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(digit.max(axis=1))[0], np.nonzero(digit.max(axis=0))[0]
    return digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


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


def exact_rate(
    predictors: dict,
    x_test: np.ndarray,
    y_test: np.ndarray,
    seed: int,
    photo: bool,
    numbers: int,
    gaps: tuple[tuple[int, int], ...] = ((3, 16), (0, 3), (-2, 1)),
) -> tuple[float, float, int, int]:
    """Whole-number exact accuracy of the CNN, for numbers whose digits are apart and those that touch."""
    rng = np.random.default_rng(seed)
    right = {False: 0, True: 0}
    total = {False: 0, True: 0}
    for index in range(numbers):
        image, truth, touching = pasted_number(
            x_test, y_test, rng, int(rng.integers(2, 9)), gaps[index % len(gaps)], photo=photo
        )
        reading = read_number(image, {"cnn": predictors["cnn"]})
        right[touching] += reading is not None and reading.number("cnn") == truth
        total[touching] += 1
    return right[False] / max(total[False], 1), right[True] / max(total[True], 1), total[False], total[True]
