"""Preprocessing: MNIST test digits redrawn as canvases and photos must read as well as the originals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image, ImageDraw

from mnist_app.reading.ink import ink_map
from mnist_app.reading.preprocess import preprocess, preprocess_steps, stroke_width
from tools.inputs.degrade import as_canvas, as_photo, on_paper
from tools.inputs.synthetic_drawings import pen_drawing_set, render

SAMPLES = 1000  # MNIST test images per redrawing test


def accuracy_after(transform, x_test, y_test, predictor, seed: int) -> tuple[float, float]:
    """CNN accuracy on the original images and on their redrawn versions (same images)."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(x_test), SAMPLES, replace=False)
    originals = x_test[picks].astype(np.float32) / 255
    redrawn = np.stack([preprocess(transform(x_test[i], rng)) for i in picks])
    labels = y_test[picks]
    base = np.mean(predictor.predict_batch(originals).argmax(1) == labels)
    after = np.mean(predictor.predict_batch(redrawn).argmax(1) == labels)
    return float(base), float(after)


@pytest.mark.slow
def test_canvas_redrawings_read_as_well_as_mnist(test_set, shipped):
    base, after = accuracy_after(as_canvas, *test_set, shipped["cnn"], seed=1)
    print(f"CNN on {SAMPLES} MNIST test digits: {base:.2%} original, {after:.2%} redrawn as canvases")
    assert after >= base - 0.005


@pytest.mark.slow
def test_photos_read_almost_as_well_as_mnist(test_set, shipped):
    base, after = accuracy_after(as_photo, *test_set, shipped["cnn"], seed=2)
    print(f"CNN on {SAMPLES} MNIST test digits: {base:.2%} original, {after:.2%} as photos")
    assert after >= base - 0.015


@pytest.mark.parametrize("model", ["cnn", "ann"])
def test_independent_drawings_any_pen_size_place_and_slant(shipped, model):
    """Digits drawn from pen strokes (not MNIST): 4-40 px pens, 60-260 px tall, slanted, anywhere."""
    right, total, misses = 0, 0, []
    for digit, pen, size, slant, image in pen_drawing_set():
        answer = shipped[model].predict(preprocess(image, "light")).digit
        right += answer == digit
        total += 1
        if answer != digit:
            misses.append((digit, pen, size, slant, answer))
    print(f"{model}: {right}/{total} independent drawings read right; misses {misses}")
    assert right / total >= 0.97, misses


def test_a_photo_of_a_number_keeps_the_faint_side_of_a_stroke_and_fades_a_faint_mark_alone():
    """A typeface 6 whose right side is thin, so faint (0.35 of full ink), photographed on paper: read as part of a
    number, the side is attached to the heavy stroke and keeps its level; a mark as faint with no stroke in it fades
    as paper grain."""
    image = Image.new("L", (260, 170), 0)
    draw = ImageDraw.Draw(image)
    draw.arc((40, 25, 120, 145), 90, 270, fill=255, width=12)  # the heavy left side
    draw.arc((40, 25, 120, 145), -90, 90, fill=90, width=4)  # the faint right side
    draw.line((190, 40, 190, 130), fill=90, width=4)  # a faint mark on its own
    ink = ink_map(on_paper(np.asarray(image), np.random.default_rng(3), jpeg=75), attached_ink=True)
    faint_side = ink[60:110, 112:124].max(axis=1)  # the side's peak in each row, beside the circle's middle
    mark = ink[40:130, 186:195].max(axis=1)
    assert faint_side.min() > 0.3, faint_side  # drawn at 0.35
    assert np.median(mark) < 0.25, mark


def test_thin_and_thick_pens_give_mnist_like_strokes():
    widths = {}
    for pen in (4, 40):
        x = preprocess(render(3, pen=pen, size=240, left=20, top=20), "light")
        up = np.asarray(Image.fromarray(x).resize((280, 280), Image.Resampling.BILINEAR))
        widths[pen] = stroke_width(up) / 10  # in pixels of the 28x28 image
    assert 1.5 < widths[4] < 3.8 and 1.5 < widths[40] < 3.8, widths  # MNIST: 1.8-3.6 (10th-90th pct)


# --- edge cases --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((280, 280, 4), np.uint8),  # empty transparent canvas
        np.dstack([np.zeros((280, 280, 3), np.uint8), np.full((280, 280), 255, np.uint8)]),  # black canvas
        np.full((50, 80), 255, np.uint8),  # blank white paper
        np.zeros((1, 1), np.uint8),
        np.full((10, 10, 3), 0.5, np.float32),
    ],
)
def test_no_ink_gives_none(image):
    assert preprocess(image) is None


def test_single_dot_is_centred():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[40:52, 200:212] = 255
    x = preprocess(canvas)
    assert x is not None and x.shape == (28, 28) and x.max() == pytest.approx(1.0)
    assert_centred(x)


def test_ink_touching_the_border():
    image = render(7, pen=20, size=260, left=-60, top=-40)
    x = preprocess(image, "light")
    assert x is not None
    assert_centred(x)


def test_wide_dash_keeps_its_aspect_ratio():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[130:150, 20:260] = 255
    x = preprocess(canvas)
    rows = np.flatnonzero(x.max(axis=1) > 0.1)
    cols = np.flatnonzero(x.max(axis=0) > 0.1)
    assert cols.size >= 19 and rows.size <= 6


def test_a_one_stays_thin():
    x = preprocess(render(1, pen=20, size=240, left=20, top=20, slant=0.0), "light")
    cols = np.flatnonzero(x.max(axis=0) > 0.3)
    assert 3 <= cols.size <= 12  # not stretched to 20 px wide
    rows = np.flatnonzero(x.max(axis=1) > 0.3)
    assert rows.size >= 18


@pytest.mark.parametrize("shape", [(5000, 5000), (100, 400), (400, 100), (28, 28)])
def test_any_size(shape):
    image = np.zeros(shape, np.uint8)
    h, w = shape
    image[h // 4 : 3 * h // 4, w // 2 - max(1, w // 20) : w // 2 + max(1, w // 20)] = 255
    x = preprocess(image)
    assert x is not None and x.shape == (28, 28) and x.dtype == np.float32


def test_specks_far_from_the_digit_are_ignored():
    clean = render(4, pen=18, size=180, left=50, top=50)
    specked = clean.copy()
    specked[5:8, 5:8, :3] = 255
    specked[270:273, 10:12, :3] = 255
    assert np.allclose(preprocess(specked, "light"), preprocess(clean, "light"))


def test_steps_are_all_there():
    steps = preprocess_steps(render(5), "light")
    assert steps.ink.shape == (280, 280)
    assert max(steps.scaled.shape) == 20
    assert steps.final.shape == (28, 28)


def test_rejects_arrays_that_are_not_images():
    with pytest.raises(ValueError):
        preprocess(np.zeros((4, 4, 7), np.uint8))
    with pytest.raises(ValueError):
        preprocess(np.zeros((2, 3, 4, 5), np.uint8))


def assert_centred(x: np.ndarray) -> None:
    rows, cols = np.indices(x.shape)
    mass = x.sum()
    assert abs((rows * x).sum() / mass - 14) <= 0.5
    assert abs((cols * x).sum() / mass - 14) <= 0.5


# --- properties --------------------------------------------------------------------------------

image_arrays = st.one_of(
    hnp.arrays(
        dtype=st.sampled_from([np.uint8, np.uint16, np.float32, np.float64, np.bool_, np.int32]),
        shape=st.one_of(
            hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=120),
            st.tuples(st.integers(1, 120), st.integers(1, 120), st.sampled_from([1, 2, 3, 4])),
        ),
    ),
)


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(image_arrays)
def test_any_array_gives_none_or_a_valid_input(image):
    x = preprocess(image)
    if x is not None:
        assert x.shape == (28, 28) and x.dtype == np.float32
        assert np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1


@settings(max_examples=40, deadline=2000)
@given(
    digit=st.integers(0, 9),
    pen=st.integers(6, 36),
    size=st.integers(80, 230),
    slant=st.floats(-0.25, 0.25),
    dx=st.integers(-30, 30),
    dy=st.integers(-30, 30),
)
def test_drawings_are_centred_and_translation_invariant(digit, pen, size, slant, dx, dy):
    left = top = (280 - size) / 2
    drawing = render(digit, pen, size, left, top, slant)
    rows, cols = np.nonzero(drawing[:, :, 0])
    # Move the very same pixels (as far as the canvas allows): the input must not change at all.
    dy = int(np.clip(dy, -rows.min(), 279 - rows.max()))
    dx = int(np.clip(dx, -cols.min(), 279 - cols.max()))
    moved = np.roll(drawing, (dy, dx), axis=(0, 1))
    here, there = preprocess(drawing, "light"), preprocess(moved, "light")
    assert_centred(here)
    assert np.array_equal(here, there)


def test_polarity_is_detected():
    drawing = render(2, pen=16)[:, :, 0]
    light_on_dark = ink_map(drawing)
    dark_on_light = ink_map(255 - drawing)
    assert np.allclose(light_on_dark, dark_on_light, atol=1e-6)
