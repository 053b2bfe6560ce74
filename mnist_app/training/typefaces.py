"""Digits and capitals in the outline typefaces that Debian's font packages ship: families of forms.

A family is one typeface (DejaVu Sans, Nimbus Roman, Z003's script...), with its weights and
italics. Each glyph is drawn as a canvas drawing (white on black, 280 px, like the app's canvas
sends): a random size and place, a slant, a small turn, and a pen (an outline added to the glyph,
a fine pen to a marker). Families are what leave-one-family-out measurement leaves out
(tools/reports/family_report.py): fitted on all but one, measured on the one left out.
`make fonts` installs the packages; a family whose files are missing is left out, never faked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mnist_app.reading.preprocess import preprocess
from mnist_app.training.rendered_once import rendered_once
from mnist_app.training.strokes import CANVAS

FONT_ROOT = Path("/usr/share/fonts")
DEBIAN_PACKAGES = (
    "fonts-dejavu-core",
    "fonts-dejavu-extra",
    "fonts-liberation2",
    "fonts-urw-base35",
    "fonts-noto-core",
    "fonts-freefont-ttf",
)
# family -> its font files (weights and italics), relative to FONT_ROOT.
_DEJAVU, _LIBERATION, _URW, _NOTO, _FREE = (
    "truetype/dejavu/",
    "truetype/liberation2/",
    "opentype/urw-base35/",
    "truetype/noto/",
    "truetype/freefont/",
)
FAMILIES: dict[str, tuple[str, ...]] = {
    "DejaVu Sans": tuple(_DEJAVU + f"DejaVuSans{s}.ttf" for s in ("", "-Bold", "-Oblique", "-BoldOblique")),
    "DejaVu Serif": tuple(_DEJAVU + f"DejaVuSerif{s}.ttf" for s in ("", "-Bold", "-Italic", "-BoldItalic")),
    "DejaVu Sans Mono": tuple(_DEJAVU + f"DejaVuSansMono{s}.ttf" for s in ("", "-Bold", "-Oblique")),
    "Liberation Sans": tuple(_LIBERATION + f"LiberationSans-{s}.ttf" for s in ("Regular", "Bold", "Italic")),
    "Liberation Serif": tuple(_LIBERATION + f"LiberationSerif-{s}.ttf" for s in ("Regular", "Bold", "Italic")),
    "Liberation Mono": tuple(_LIBERATION + f"LiberationMono-{s}.ttf" for s in ("Regular", "Bold", "Italic")),
    "Nimbus Roman": tuple(_URW + f"NimbusRoman-{s}.otf" for s in ("Regular", "Bold", "Italic")),
    "Nimbus Sans Narrow": tuple(_URW + f"NimbusSansNarrow-{s}.otf" for s in ("Regular", "Bold", "Oblique")),
    "Nimbus Mono": tuple(_URW + f"NimbusMonoPS-{s}.otf" for s in ("Regular", "Bold", "Italic")),
    "C059 (Century)": tuple(_URW + f"C059-{s}.otf" for s in ("Roman", "Bold", "Italic")),
    "P052 (Palatino)": tuple(_URW + f"P052-{s}.otf" for s in ("Roman", "Bold", "Italic")),
    "URW Bookman": tuple(_URW + f"URWBookman-{s}.otf" for s in ("Light", "Demi", "LightItalic")),
    "URW Gothic": tuple(_URW + f"URWGothic-{s}.otf" for s in ("Book", "Demi", "BookOblique")),
    "Z003 (chancery script)": (_URW + "Z003-MediumItalic.otf",),
    "Noto Sans": tuple(_NOTO + f"NotoSans-{s}.ttf" for s in ("Regular", "Bold", "Italic")),
    "Noto Serif": tuple(_NOTO + f"NotoSerif-{s}.ttf" for s in ("Regular", "Bold", "Italic")),
    "FreeSans": tuple(_FREE + f"FreeSans{s}.ttf" for s in ("", "Bold", "Oblique")),
    "FreeSerif": tuple(_FREE + f"FreeSerif{s}.ttf" for s in ("", "Bold", "Italic")),
}
DIGITS = "0123456789"
PENS = (0, 3, 7, 12)  # outline added to the glyph, in canvas pixels: a fine pen to a marker
HEIGHTS = (90, 230)  # glyph height on the 280-px canvas
MAX_SLANT = 0.2
MAX_TURN = 8.0  # degrees
# Families the string reader never trains on (mnist_app.training.strings): touching numbers written in them
# measure writing it never saw (tools/reports/number_report.py).
STRINGS_HELD_OUT = ("DejaVu Sans", "Nimbus Roman", "URW Gothic", "Z003 (chancery script)")


@dataclass(frozen=True)
class GlyphDrawing:
    """One glyph of a family drawn as a canvas drawing."""

    family: str
    label: int | str  # the digit, or the capital letter
    image: np.ndarray  # (280, 280, 4) RGBA, white on opaque black


def installed_families() -> dict[str, tuple[Path, ...]]:
    """The families whose every font file is on this machine, with their paths."""
    found = {}
    for family, files in FAMILIES.items():
        paths = tuple(FONT_ROOT / file for file in files)
        if all(path.is_file() for path in paths):
            found[family] = paths
    return found


def glyph_drawings(family: str, characters: str, per_character: int, seed: int = 0) -> Iterator[GlyphDrawing]:
    """`per_character` random drawings of each character in `family` (its fonts taken in turn)."""
    paths = installed_families()[family]
    rng = np.random.default_rng([seed, *family.encode()])
    for character in characters:
        for index in range(per_character):
            path = paths[index % len(paths)]
            label: int | str = int(character) if character.isdigit() else character
            yield GlyphDrawing(family, label, _draw(character, path, rng))


def _draw(character: str, path: Path, rng: np.random.Generator) -> np.ndarray:
    height = rng.uniform(*HEIGHTS)
    pen = int(rng.choice(PENS)) * height / HEIGHTS[1]  # a pen in proportion: a marker on a small glyph is a blot
    side = 2 * CANVAS
    ink = Image.new("L", (side, side), 0)
    font = _font(path, round(height * 1.35))  # a capital's or a digit's height is ~0.72 of the em
    ImageDraw.Draw(ink).text(
        (side / 2, side / 2), character, fill=255, font=font, anchor="mm", stroke_width=round(pen), stroke_fill=255
    )
    slant = rng.uniform(-MAX_SLANT, MAX_SLANT)
    ink = ink.transform(
        (side, side), Image.Transform.AFFINE, (1, slant, -slant * side / 2, 0, 1, 0), Image.Resampling.BILINEAR
    )
    ink = ink.rotate(rng.uniform(-MAX_TURN, MAX_TURN), resample=Image.Resampling.BILINEAR)
    box = ink.getbbox() or (0, 0, side, side)
    glyph = ink.crop(box)
    if max(glyph.size) > CANVAS - 8:  # keep it on the canvas, as a person would
        glyph.thumbnail((CANVAS - 8, CANVAS - 8))
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    left = int(rng.integers(0, CANVAS - glyph.width + 1))
    top = int(rng.integers(0, CANVAS - glyph.height + 1))
    canvas.paste(glyph, (left, top))
    grey = np.asarray(canvas)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


@cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


@rendered_once
def typeface_inputs(
    families: tuple[str, ...] | list[str], characters: str, per_character: int, seed: int = 0
) -> dict[int | str, np.ndarray]:
    """Each character's (n, 28, 28) float32 model inputs over `families`, preprocessed as the app does a canvas."""
    inputs: dict[int | str, list[np.ndarray]] = {}
    for family in families:
        for drawing in glyph_drawings(family, characters, per_character, seed):
            x = preprocess(drawing.image)
            if x is not None:
                inputs.setdefault(drawing.label, []).append(x)
    return {label: np.stack(images) for label, images in inputs.items()}


def typeface_digits(families: tuple[str, ...], draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`draws` canvas drawings of each digit per family, as uint8 28x28 model inputs (MNIST's form), and their labels."""
    if not families or draws < 1:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8)
    inputs = typeface_inputs(families, DIGITS, draws, seed=seed)
    images = np.concatenate([inputs[digit] for digit in range(10)])
    labels = np.concatenate([np.full(len(inputs[digit]), digit, np.uint8) for digit in range(10)])
    return np.round(np.clip(images, 0, 1) * 255).astype(np.uint8), labels
