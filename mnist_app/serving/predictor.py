"""A Keras model behind the readers' interface (`Predicts`): what training and the tools measure with.
A server answers with the same models in NumPy instead (`serving.array_predictor`).

Single images never go through `model.predict` (tens of milliseconds of overhead per call):
each model (each of its two branches, with soft-ink experts) is traced once into a `tf.function`
with a fixed input signature and warmed up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mnist_app.config import IMAGE_SIDE, NUM_CLASSES
from mnist_app.reading.model_input import model_batch
from mnist_app.reading.preprocess import is_soft, soft_rows
from mnist_app.serving.array_predictor import weights_checksum
from mnist_app.serving.calibration import apply_temperature, card_temperature
from mnist_app.serving.networks import (  # registers SoftInkRouter too
    answering_networks,
    averaged_forward,
    ensemble_members,
    soft_experts,
)
from mnist_app.serving.prediction import Prediction

SINGLE = tf.TensorSpec((1, IMAGE_SIDE, IMAGE_SIDE, 1), tf.float32)
BATCH = tf.TensorSpec((None, IMAGE_SIDE, IMAGE_SIDE, 1), tf.float32)


@dataclass
class Predictor:
    """A loaded model with its card and traced prediction functions."""

    name: str
    model: keras.Model
    card: dict = field(default_factory=dict)
    path: Path | None = None
    # Trace and run every single-image function now, so that the first user waits no longer; a training
    # run that only measures the model says False, and each is traced when first used.
    warm: bool = True

    def __post_init__(self) -> None:
        model = self.model
        # Fitted by `mnist_app.training.calibration` on the validation split; 1.0 = as trained.
        self.temperature = card_temperature(self.card)
        # A model with soft-ink experts gets traced functions per branch (members, experts), chosen on
        # the host by the rule of `is_soft`: the in-graph router runs every network on every image, and
        # an in-graph `cond` costs a single image more than the host's choice.
        self._routes_soft = bool(soft_experts(model))
        routes = (False, True) if self._routes_soft else (False,)
        self._forwards = {soft: averaged_forward(answering_networks(model, soft)) for soft in routes}
        self._single: dict[tuple[bool, bool], Callable] = {}
        self._batch = {soft: _traced_batch(forward) for soft, forward in self._forwards.items()}
        for soft in routes if self.warm else ():
            warm_up = np.full((IMAGE_SIDE, IMAGE_SIDE), 0.5 if soft else 0.0, np.float32)
            self.predict(warm_up)
            self.predict(warm_up, saliency=True)

    def predict(self, image: np.ndarray, saliency: bool = False) -> Prediction:
        """Class probabilities of one 28x28 float image in [0, 1] (white digit on black)."""
        x = model_batch(image)[:1]
        function = self._single_function(self._routes_soft and is_soft(x[0, :, :, 0]), saliency)
        if saliency:
            probabilities, grad = function(tf.constant(x))
            return Prediction(self.name, self._calibrate(probabilities.numpy())[0], grad.numpy()[0, :, :, 0])
        return Prediction(self.name, self._calibrate(function(tf.constant(x)).numpy())[0])

    def _single_function(self, soft: bool, saliency: bool) -> Callable:
        if (soft, saliency) not in self._single:
            self._single[soft, saliency] = _traced_single(self._forwards[soft], saliency)
        return self._single[soft, saliency]

    def predict_batch(self, images: np.ndarray, batch_size: int = 1000, calibrated: bool = True) -> np.ndarray:
        """Probabilities (n, 10) for n images, (n, 28, 28) or (n, 28, 28, 1): floats in [0, 1] or uint8."""
        x = model_batch(images)
        soft = soft_rows(x) if self._routes_soft else np.zeros(len(x), bool)
        probabilities = np.zeros((len(x), NUM_CLASSES), np.float32)
        for branch, forward in self._batch.items():
            rows = np.flatnonzero(soft == branch)
            for start in range(0, len(rows), batch_size):
                chosen = rows[start : start + batch_size]
                probabilities[chosen] = forward(tf.constant(x[chosen])).numpy()
        return self._calibrate(probabilities) if calibrated else probabilities

    def features(self, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """The members' penultimate features (after the last hidden ReLU), side by side, as float64 rows."""
        x = model_batch(images)
        parts = [self._features(tf.constant(x[i : i + batch_size])).numpy() for i in range(0, len(x), batch_size)]
        return np.concatenate(parts).astype(np.float64) if parts else np.zeros((0, 0))

    def members_checksum(self) -> str:
        """A short hash of the members' weights: the features a feature check was fitted on."""
        return weights_checksum(w for member in ensemble_members(self.model) for w in member.get_weights())

    @cached_property
    def _features(self) -> Callable:
        extractor = feature_model(self.model)
        return _traced_batch(lambda x: extractor(x, training=False))

    def _calibrate(self, probabilities: np.ndarray) -> np.ndarray:
        return probabilities if self.temperature == 1.0 else apply_temperature(probabilities, self.temperature)


def feature_model(model: keras.Model) -> keras.Model:
    """The penultimate features of every member of the CNN (`model`), side by side."""
    inputs = keras.Input(model.inputs[0].shape[1:])
    parts = []
    for member in ensemble_members(model):
        hidden = [layer for layer in member.layers if isinstance(layer, keras.layers.ReLU)][-1]
        parts.append(keras.Model(member.inputs, hidden.output)(inputs))
    return keras.Model(inputs, keras.layers.Concatenate()(parts) if len(parts) > 1 else parts[0])


def _traced_single(forward: Callable[[tf.Tensor], tf.Tensor], saliency: bool) -> Callable:
    """One image's probabilities, or the same with its saliency, traced once."""

    @tf.function(input_signature=[SINGLE])
    def plain(x: tf.Tensor) -> tf.Tensor:
        return forward(x)

    @tf.function(input_signature=[SINGLE])
    def with_saliency(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        # Gradient x input of the winning class's log-probability: which pixels drove it.
        with tf.GradientTape() as tape:
            tape.watch(x)
            probabilities = forward(x)
            top = tf.math.log(tf.reduce_max(probabilities, axis=1) + 1e-12)
        return probabilities, tape.gradient(top, x) * x

    function = with_saliency if saliency else plain
    _trace_now(function)
    return function


def _traced_batch(forward: Callable[[tf.Tensor], tf.Tensor]) -> Callable:
    """A batch's probabilities, traced once for any batch size."""

    @tf.function(input_signature=[BATCH])
    def batch(x: tf.Tensor) -> tf.Tensor:
        return forward(x)

    _trace_now(batch)
    return batch


def _trace_now(*functions: tf.types.experimental.PolymorphicFunction) -> None:
    """Trace each function for its input signature now. Traced on first call instead, every model's
    functions share code, so TensorFlow would log a false "frequent retracing" warning."""
    for function in functions:
        function.get_concrete_function()
