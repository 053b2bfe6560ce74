"""Training-time augmentation on batches of (n, 28, 28, 1) float images, in TensorFlow ops.

Random affine warps (rotation, shear, zoom, shift) and stroke-weight changes make scanned pen
digits look like the mouse and finger drawings the app receives. Used only in the tf.data
training pipeline, so it never runs at inference.
"""

from __future__ import annotations

import math

import tensorflow as tf

MAX_ROTATION = math.radians(15)  # people slant their digits
MAX_SHEAR = 0.3  # italic-like slant, as a fraction of height
ZOOM_RANGE = (0.85, 1.15)  # the preprocessing fits digits to 20 px, so keep this mild
MAX_SHIFT = 2.5  # pixels; centring by mass is never exact for unusual shapes
THIN_PROBABILITY = 0.15  # erode: fine pens
THICK_PROBABILITY = 0.3  # dilate: brushes and fingers


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
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )


def _random_stroke_weight(images: tf.Tensor) -> tf.Tensor:
    """Thin some digits (grey erosion), thicken others (grey dilation), keep the rest."""
    dilated = tf.nn.max_pool2d(images, ksize=2, strides=1, padding="SAME")
    eroded = -tf.nn.max_pool2d(-images, ksize=2, strides=1, padding="SAME")
    choice = tf.random.uniform([tf.shape(images)[0], 1, 1, 1])
    thin = choice < THIN_PROBABILITY
    thick = choice > 1.0 - THICK_PROBABILITY
    return tf.where(thin, eroded, tf.where(thick, dilated, images))
