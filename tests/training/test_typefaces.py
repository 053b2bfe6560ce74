"""Typeface families: digits and capitals of Debian's outline fonts, read by the shipped reader as canvases and photos.

No shipped model or digit check was fitted on these fonts: every family here is a left-out family.
The floors sit below what tools/reports/family_report.py measured on all families (docs/families.md),
so that a sample of one drawing per digit and family fails only when the reading really got worse.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from mnist_app.training.handwriting import FLAGGED_LETTERS
from mnist_app.training.typefaces import DIGITS, FAMILIES, glyph_drawings, installed_families
from tools.reports.family_report import paper_photo

NEEDS_FONTS = "needs Debian's font packages (the Makefile installs them for make test)"


@pytest.fixture(scope="module")
def families():
    found = installed_families()
    if len(found) < len(FAMILIES):
        missing = sorted(set(FAMILIES) - set(found))
        if os.environ.get("CI"):
            pytest.fail(f"{NEEDS_FONTS}; missing: {missing}")  # CI installs them: a broken setup, not a skip
        pytest.skip(NEEDS_FONTS)
    return found


def test_every_family_draws_each_character_as_a_canvas_drawing(families):
    for family in families:
        drawings = list(glyph_drawings(family, "6B", per_character=2))
        assert [d.label for d in drawings] == [6, 6, "B", "B"]
        for drawing in drawings:
            assert drawing.image.shape == (280, 280, 4) and drawing.image.dtype == np.uint8
            assert (drawing.image[:, :, 3] == 255).all()  # opaque, as the canvas sends a drawing
            assert 200 < (drawing.image[:, :, 0] > 128).sum() < 280 * 280 / 2  # ink, and on the canvas
    again = next(glyph_drawings("Nimbus Roman", "6", 1))
    assert np.array_equal(again.image, next(glyph_drawings("Nimbus Roman", "6", 1)).image), (
        "the same seed, the same drawing"
    )


@pytest.mark.slow
def test_the_shipped_reader_reads_unseen_typefaces_on_canvas_and_in_photos(families, reader):
    rng = np.random.default_rng(0)
    right = {"canvas": 0, "photo": 0}
    flagged_digits = flagged_capitals = 0
    drawings = [d for family in families for d in glyph_drawings(family, DIGITS, 1, seed=1)]
    for drawing in drawings:
        canvas = reader.read_digit(drawing.image, ("cnn",))
        photo = reader.read_digit(paper_photo(drawing.image, rng), ("cnn",))
        right["canvas"] += canvas.predictions["cnn"].digit == drawing.label
        right["photo"] += photo.predictions["cnn"].digit == drawing.label
        flagged_digits += not canvas.typical
    capitals = [d for family in families for d in glyph_drawings(family, FLAGGED_LETTERS, 1, seed=1)]
    for drawing in capitals:
        flagged_capitals += not reader.read_digit(drawing.image, ("cnn",)).typical
    # Measured on 12 drawings of each digit per family: 99.6 % and 99.2 % right, 3.4 % of digits flagged.
    assert right["canvas"] / len(drawings) >= 0.97 and right["photo"] / len(drawings) >= 0.95, right
    assert flagged_digits / len(drawings) <= 0.08, f"{flagged_digits} of {len(drawings)} digits flagged"
    # Measured: 92.2 % of capitals flagged.
    assert flagged_capitals / len(capitals) >= 0.8, f"{flagged_capitals} of {len(capitals)} capitals flagged"
