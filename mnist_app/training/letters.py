"""Printed capital letters, the counter-examples the "is this a digit?" check learns from.

Rendered from the font Pillow bundles (so every machine makes the same images), then slanted,
rotated, stretched and thickened at random and passed through the app's own preprocessing, so
they look like what a user's drawn letter becomes. Letters that are also digit shapes (I, O, Z)
are left out. Used when fitting the digit check (`training.digit_check`, run by train.py), never at inference.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mnist_app.reading.preprocess import preprocess
from mnist_app.training.rendered_once import rendered_once

LETTERS = "ABCDEFGHJKLMNPQRSTUVWXY"
SIDE = 200  # pixels of the square each letter is rendered in
FONT_SIZE = 120
STROKE_WIDTHS = (0, 2, 4, 7)  # extra outline in pixels: a fine pen to a marker
MAX_SHEAR = 0.3
MAX_ROTATION = 12.0  # degrees
STRETCH = (0.75, 1.25)  # horizontal scale: narrow to wide hands


@rendered_once
def letter_images(per_letter: int = 300, seed: int = 0) -> dict[str, np.ndarray]:
    """For each letter, (n, 28, 28) float32 model inputs of randomly varied renderings."""
    rng = np.random.default_rng(seed)
    font = ImageFont.load_default(size=FONT_SIZE)
    images = {}
    for letter in LETTERS:
        rendered = (preprocess(_render(letter, font, rng), "light") for _ in range(per_letter))
        images[letter] = np.stack([x for x in rendered if x is not None])
    return images


def _render(letter: str, font: ImageFont.FreeTypeFont, rng: np.random.Generator) -> np.ndarray:
    image = Image.new("L", (SIDE, SIDE), 0)
    centre = SIDE / 2
    ImageDraw.Draw(image).text(
        (centre, centre),
        letter,
        fill=255,
        font=font,
        anchor="mm",
        stroke_width=int(rng.choice(STROKE_WIDTHS)),
        stroke_fill=255,
    )
    image = image.rotate(rng.uniform(-MAX_ROTATION, MAX_ROTATION), resample=Image.Resampling.BILINEAR)
    shear, stretch = rng.uniform(-MAX_SHEAR, MAX_SHEAR), rng.uniform(*STRETCH)
    # Affine: output (x, y) samples input (stretch * x + shear * y + offset, y), about the centre.
    offset = centre - stretch * centre - shear * centre
    warp = (stretch, shear, offset, 0, 1, 0)
    return np.asarray(image.transform((SIDE, SIDE), Image.Transform.AFFINE, warp, Image.Resampling.BILINEAR))
