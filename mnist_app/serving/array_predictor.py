"""The digit models as a server runs them: read from their Keras files, answered in NumPy.

Same interface as the Keras-backed `Predictor` (which training and the tools use), same answers within
float32 rounding (tests/serving/test_array_networks.py), without importing TensorFlow: a replica holds
about 600 MB less (docs/performance.md). The Keras model itself is loaded only when a tool or a test asks
for it (`model`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_app.config import IMAGE_SIDE, NUM_CLASSES
from mnist_app.reading.model_input import model_batch
from mnist_app.reading.preprocess import is_soft, soft_rows
from mnist_app.serving import array_networks
from mnist_app.serving.array_networks import Layer
from mnist_app.serving.calibration import apply_temperature, card_temperature
from mnist_app.serving.keras_file import StoredLayer, read_keras_file
from mnist_app.serving.model_files import REBUILD_HINT, ModelLoadError
from mnist_app.serving.prediction import Prediction

if TYPE_CHECKING:
    import keras

MEMBER, SOFT_EXPERT = "_member_", "_soft_expert_"  # how `serving.networks.ensemble` names its networks
CHUNK = 32  # images per pass: larger ones spill out of the caches (256 read 40 % fewer images a second)


@dataclass
class ArrayPredictor:
    """A stored digit model: its member networks (and soft-ink experts) as NumPy steps, and its card."""

    name: str
    stored: StoredLayer
    card: dict = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        array_networks.use_one_blas_thread()
        self.temperature = card_temperature(self.card)
        members, experts = stored_members(self.stored)
        self._check_input_shape()
        self.members = [array_networks.fold_file(self.path, network) for network in members]
        self.experts = [array_networks.fold_file(self.path, network) for network in experts]
        if any(n[-1].op != "dense" or n[-1].activation != "softmax" for n in (*self.members, *self.experts)):
            raise ModelLoadError(f"{self.path} does not end in a softmax layer; {REBUILD_HINT}")
        self._check_output_shape()

    @property
    def explains(self) -> bool:
        """Whether it gives saliency maps: the backward pass runs through convolutions and dense layers only."""
        return all(array_networks.runs_backward(n) for n in (*self.members, *self.experts))

    def predict(self, image: np.ndarray, saliency: bool = False) -> Prediction:
        """Class probabilities of one 28x28 float image in [0, 1] (white digit on black), with its saliency
        map when asked for and the model `explains` (the recurrent network does not: None)."""
        x = model_batch(image)[:1]
        networks = self._networks(is_soft(x[0, :, :, 0]))
        if saliency and self.explains:
            probabilities, gradient = array_networks.saliency(networks, x)
            return Prediction(self.name, self._calibrate(probabilities)[0], gradient[0, :, :, 0])
        return Prediction(self.name, self._calibrate(array_networks.average(networks, x))[0])

    def predict_batch(self, images: np.ndarray, batch_size: int = CHUNK, calibrated: bool = True) -> np.ndarray:
        """Probabilities (n, 10) for n images, (n, 28, 28) or (n, 28, 28, 1): floats in [0, 1] or uint8."""
        x = model_batch(images)
        soft = soft_rows(x) if self.experts else np.zeros(len(x), bool)
        probabilities = np.zeros((len(x), NUM_CLASSES), np.float32)
        for branch in (False, True):
            rows = np.flatnonzero(soft == branch)
            for start in range(0, len(rows), batch_size):
                chosen = rows[start : start + batch_size]
                probabilities[chosen] = array_networks.average(self._networks(branch), x[chosen])
        return self._calibrate(probabilities) if calibrated else probabilities

    def features(self, images: np.ndarray) -> np.ndarray:
        """The members' penultimate features (the last hidden layer's), side by side, as float64 rows."""
        x = model_batch(images)
        parts = [
            np.concatenate([array_networks.run(member[:-1], x[i : i + CHUNK]) for i in range(0, len(x), CHUNK)])
            for member in self.members
        ]
        return np.concatenate(parts, axis=1).astype(np.float64)

    def members_checksum(self) -> str:
        """A short hash of the members' weights (`serving.feature_check.members_checksum`, the same for Keras)."""
        return weights_checksum(
            weights for member in stored_members(self.stored)[0] for layer in member for weights in layer.all_weights()
        )

    @cached_property
    def model(self) -> keras.Model:
        """The Keras model (imports TensorFlow): for the tools and tests that compare with Keras, never the app."""
        from mnist_app.serving.model_files import load_model

        return load_model(self.path)

    def count_params(self) -> int:
        return sum(int(w.size) for w in self.stored.all_weights())

    def _networks(self, soft: bool) -> list[list[Layer]]:
        return self.experts if soft and self.experts else self.members

    def _calibrate(self, probabilities: np.ndarray) -> np.ndarray:
        return probabilities if self.temperature == 1.0 else apply_temperature(probabilities, self.temperature)

    def _check_input_shape(self) -> None:
        shape = stored_input_shape(self.stored)
        if shape != [None, IMAGE_SIDE, IMAGE_SIDE, 1]:
            raise ModelLoadError(f"{self.path} takes {shape}, expected (None, 28, 28, 1); {REBUILD_HINT}")

    def _check_output_shape(self) -> None:
        try:
            out = self.predict_batch(np.zeros((1, IMAGE_SIDE, IMAGE_SIDE), np.float32), calibrated=False)
        except (ValueError, IndexError, TypeError) as error:
            raise ModelLoadError(f"{self.path} does not read a 28x28 image ({error}); {REBUILD_HINT}") from error
        if out.shape != (1, NUM_CLASSES) or not np.isclose(out.sum(), 1.0, atol=1e-3):
            raise ModelLoadError(f"{self.path} gives {out.shape[1:]}, expected 10 probabilities; {REBUILD_HINT}")


def stored_members(stored: StoredLayer) -> tuple[list[list[StoredLayer]], list[list[StoredLayer]]]:
    """The layer chains of the networks an ensemble averages, and of its soft-ink experts ([] without);
    a plain network is its own only member."""
    nested = [layer for layer in stored.layers if layer.layers]
    if not nested:
        return [stored.layers], []
    members = [n.layers for n in nested if SOFT_EXPERT not in n.name]
    return members, [n.layers for n in nested if SOFT_EXPERT in n.name]


def stored_input_shape(stored: StoredLayer) -> list | None:
    """The batch shape of the model's input, as stored (None when the file does not say)."""
    inputs = [layer for layer in stored.config.get("layers", []) if layer["class_name"] == "InputLayer"]
    if inputs:
        return inputs[0]["config"].get("batch_shape")
    return stored.config.get("build_input_shape")


def weights_checksum(weights: object) -> str:
    """A short hash of arrays, in order."""
    digest = hashlib.sha256()
    for array in weights:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def load_array_predictor(name: str, path: Path, card: dict) -> ArrayPredictor:
    """The model in `path` with its card; ModelLoadError when the file is damaged or its layers are not served."""
    return ArrayPredictor(name, read_keras_file(path), card, path)
