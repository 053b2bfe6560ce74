"""Training-time augmentation: what users send that MNIST's clean scans do not show.

Two parts, used only by training (never at inference):
- `augment_batch`, TensorFlow ops on each batch: random affine warps (rotation, shear, zoom,
  shift) and stroke-weight changes make scanned pen digits look like mouse and finger drawings;
- `degraded_copies`, NumPy once before training: each training digit blurred, or digitised at
  7-20 px and enlarged, or faded on a noisy background, and then passed through the app's own
  `preprocess`, so the models learn exactly what the pipeline makes of soft, low-resolution ink;
  `soft_copies` makes only the two soft kinds, harder, for the soft-ink experts.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from PIL import Image, ImageFilter

from mnist_app.reading.preprocess import preprocess

MAX_ROTATION = math.radians(15)  # people slant their digits
MAX_SHEAR = 0.3  # italic-like slant, as a fraction of height
ZOOM_RANGE = (0.85, 1.15)  # the preprocessing fits digits to 20 px, so keep this mild
MAX_SHIFT = 2.5  # pixels; centring by mass is never exact for unusual shapes
THIN_PROBABILITY = 0.15  # erode: fine pens
THICK_PROBABILITY = 0.3  # dilate: brushes and fingers
BLUR_SIGMA = (0.6, 3.0)  # Gaussian blur, in pixels at 28-px scale: out-of-focus photos
LOW_RESOLUTION = (7, 20)  # sides a digit is digitised at before being enlarged again
FADED_CONTRAST = (0.25, 0.7)  # ink strength of faded pencil, on a background with noise
# The soft-ink experts see only these: sides skewed small, where low-resolution digits are misread
# most (the robustness tables in docs/results.md say how far each side is read).
SOFT_BLUR_SIGMA = (0.5, 3.5)
SOFT_LOW_RESOLUTION = (7, 12)


def augment_batch(images: tf.Tensor) -> tf.Tensor:
    """A randomly warped and re-weighted copy of a batch of images."""
    warped = _random_affine(images)
    return _random_stroke_weight(warped)


def _random_affine(images: tf.Tensor) -> tf.Tensor:
    """Warp each image by its own random rotation, shear, zoom and shift about the centre."""
    n = tf.shape(images)[0]

    def uniform(low: float, high: float) -> tf.Tensor:
        return tf.random.uniform([n], low, high)

    angle = uniform(-MAX_ROTATION, MAX_ROTATION)
    shear = uniform(-MAX_SHEAR, MAX_SHEAR)
    zoom_x = uniform(*ZOOM_RANGE)
    zoom_y = zoom_x * uniform(0.9, 1.1)  # slight aspect change
    shift_x = uniform(-MAX_SHIFT, MAX_SHIFT)
    shift_y = uniform(-MAX_SHIFT, MAX_SHIFT)
    # The transform maps output pixel (x, y) to input pixel: inverse of zoom * shear * rotation.
    cos, sin = tf.cos(angle), tf.sin(angle)
    a0 = (cos + shear * sin) / zoom_x
    a1 = (-sin + shear * cos) / zoom_x
    b0 = sin / zoom_y
    b1 = cos / zoom_y
    centre = 13.5
    a2 = centre - a0 * (centre + shift_x) - a1 * (centre + shift_y)
    b2 = centre - b0 * (centre + shift_x) - b1 * (centre + shift_y)
    zeros = tf.zeros([n])
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    # Keras's op gives TensorFlow's projective transform pixel for pixel (the same kernel underneath).
    return keras.ops.image.affine_transform(
        images, transforms, interpolation="bilinear", fill_mode="constant", fill_value=0
    )


def _random_stroke_weight(images: tf.Tensor) -> tf.Tensor:
    """Thin some digits (grey erosion), thicken others (grey dilation), keep the rest."""
    dilated = tf.nn.max_pool2d(images, ksize=2, strides=1, padding="SAME")
    eroded = -tf.nn.max_pool2d(-images, ksize=2, strides=1, padding="SAME")
    choice = tf.random.uniform([tf.shape(images)[0], 1, 1, 1])
    thin = choice < THIN_PROBABILITY
    thick = choice > 1.0 - THICK_PROBABILITY
    return tf.where(thin, eroded, tf.where(thick, dilated, images))


def degraded_copies(images: np.ndarray, seed: int) -> np.ndarray:
    """One degraded copy of each uint8 (n, 28, 28) digit, as the app's preprocessing outputs it."""
    rng = np.random.default_rng(seed)
    kinds = [
        lambda image: _blurred(image, rng, BLUR_SIGMA),
        lambda image: _low_resolution(image, rng, LOW_RESOLUTION),
        lambda image: _faded(image, rng),
    ]
    return _preprocessed_copies(images, rng, kinds)


def soft_copies(images: np.ndarray, seed: int) -> np.ndarray:
    """One blurred or low-resolution copy of each digit, as preprocessed: what the soft-ink experts learn."""
    rng = np.random.default_rng(seed)
    kinds = [
        lambda image: _blurred(image, rng, SOFT_BLUR_SIGMA),
        lambda image: _low_resolution(image, rng, SOFT_LOW_RESOLUTION),
    ]
    return _preprocessed_copies(images, rng, kinds)


def _preprocessed_copies(images: np.ndarray, rng: np.random.Generator, kinds: list) -> np.ndarray:
    choices = rng.integers(0, len(kinds), size=len(images))
    out = np.empty_like(images)
    for index, (image, kind) in enumerate(zip(images, choices, strict=True)):
        model_input = preprocess(kinds[kind](image), "light")
        out[index] = image if model_input is None else np.rint(model_input * 255).astype(np.uint8)
    return out


def _blurred(image: np.ndarray, rng: np.random.Generator, sigma: tuple[float, float]) -> np.ndarray:
    return np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(rng.uniform(*sigma))))


def _low_resolution(image: np.ndarray, rng: np.random.Generator, sides: tuple[int, int]) -> np.ndarray:
    side = int(rng.integers(sides[0], sides[1] + 1))
    method = (Image.Resampling.BOX, Image.Resampling.BILINEAR)[int(rng.integers(2))]
    small = Image.fromarray(image).resize((side, side), method)
    return np.asarray(small.resize((28, 28), Image.Resampling.BICUBIC))


def _faded(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    strength = rng.uniform(*FADED_CONTRAST)
    noisy = 30 + strength * image.astype(np.float32) + rng.normal(0, 6, image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)
