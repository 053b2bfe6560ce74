"""The versions of a model input that the "Why the CNN wins" panel reads: each change does what it says."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from mnist_app.reading.variations import FAMILIES, naive_input, resized, restroked, shifted, turned


def bar(rows: slice, columns: slice) -> np.ndarray:
    image = np.zeros((28, 28), np.float32)
    image[rows, columns] = 1.0
    return image


def test_shifted_moves_the_ink_by_whole_pixels_and_lets_nothing_wrap_round():
    image = bar(slice(10, 18), slice(12, 15))
    moved = shifted(image, dx=5, dy=-3)
    assert np.array_equal(moved[7:15, 17:20], np.ones((8, 3)))
    assert moved.sum() == pytest.approx(image.sum())
    assert shifted(image, dx=20).sum() == 0  # moved off the edge: gone, not wrapped round


def test_turned_is_clockwise_as_the_image_is_shown():
    dot = bar(slice(4, 5), slice(13, 15))  # at the top
    row, column = np.unravel_index(turned(dot, 90).argmax(), (28, 28))
    assert 12 <= row <= 15 and column >= 22  # a quarter turn clockwise takes the top to the right


def test_resized_scales_about_the_centre():
    image = bar(slice(8, 20), slice(8, 20))  # a 12-px square, centred
    for factor in (0.5, 1.4):
        ink = resized(image, factor) > 0.5
        rows = np.flatnonzero(ink.any(axis=1))
        assert rows[-1] - rows[0] + 1 == pytest.approx(12 * factor, abs=1)
        assert ndimage.center_of_mass(ink)[0] == pytest.approx(13.5, abs=1)
    assert np.array_equal(resized(image, 1.0), image)


def test_restroked_thickens_and_thins_by_a_pixel_a_side_per_two_pixels():
    line = bar(slice(5, 23), slice(12, 16))  # a stroke 4 px wide
    width = lambda image: int((image[14] > 0.5).sum())  # noqa: E731
    assert [width(restroked(line, change)) for change in (-2, 0, 2, 4)] == [2, 4, 6, 8]
    assert restroked(line, 1).sum() == pytest.approx((restroked(line, 0).sum() + restroked(line, 2).sum()) / 2)


def test_every_family_leaves_the_input_as_it_is_at_its_unchanged_value(test_set):
    image = test_set[0][0].astype(np.float32) / 255
    for family in FAMILIES:
        versions = family.versions(image)
        assert versions.shape == (len(family.values), 28, 28) and versions.dtype == np.float32
        assert np.allclose(versions[family.values.index(family.unchanged)], image, atol=1e-6), family.key
        assert versions.min() >= 0 and versions.max() <= 1


def test_labels_and_phrases_say_which_way():
    side, _, turn, size, stroke = FAMILIES
    assert [side.label(v) for v in (-4, 0, 3)] == ["−4 px", "0 px", "+3 px"]
    assert (turn.label(-30), size.label(0.5)) == ("−30°", "0.5×")
    assert side.phrase(4) == "moved 4 px right" and turn.phrase(-10) == "turned 10° anticlockwise"
    assert size.phrase(1.3) == "enlarged to 130%" and stroke.phrase(-1.5) == "with strokes 1.5 px thinner"


def test_naive_input_keeps_the_drawing_where_it_was_drawn():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[20:100, 180:200, :3] = 255  # a short bar, top right
    naive = naive_input(canvas, "light")
    rows, columns = np.nonzero(naive > 0.5)
    assert rows.max() < 11 and columns.min() >= 17  # still in the top-right corner, 10x smaller
    assert naive_input(np.zeros((280, 280, 4), np.uint8), "light") is None
    wide = np.zeros((100, 300), np.uint8)
    wide[40:60, 140:160] = 255
    assert naive_input(wide, "light").shape == (28, 28)  # padded to a square, not stretched
