"""The ANN's and the CNN's networks as the browser runs them, and the same in NumPy (the reference).

`model_networks` reads a Keras model into a list of plain layers per network, as the server folds them
(`serving.array_networks`: batch normalisation folded into the convolution or dense layer before it,
dropout left out), and refuses what the browser cannot run. `forward` runs such networks in float32
NumPy: the browser's probabilities must equal it (the live-reading tests), and the export measures
MNIST accuracy with it (`mnist_app.training.browser_weights`).
"""

from __future__ import annotations

import keras
import numpy as np

from mnist_app.reading.model_input import model_batch
from mnist_app.serving.array_networks import Layer, average, fold
from mnist_app.serving.calibration import apply_temperature
from mnist_app.serving.keras_file import StoredLayer
from mnist_app.serving.model_files import ModelLoadError
from mnist_app.serving.networks import ensemble_members

BROWSER_OPS = ("conv2d", "dense", "maxpool", "flatten")

__all__ = ["ExportError", "Layer", "forward", "model_networks", "network_layers"]


class ExportError(RuntimeError):
    """The models cannot be exported, or the export would read worse than the shipped models."""


def network_layers(network: keras.Model) -> list[Layer]:
    """A Sequential-like network as folded layers; refuses any layer the browser cannot run."""
    stored = [
        StoredLayer(type(layer).__name__, layer.name, layer.get_config(), [np.asarray(w) for w in layer.get_weights()])
        for layer in network.layers
    ]
    try:
        layers = fold(stored)
    except ModelLoadError as error:
        raise ExportError(str(error)) from error
    for layer in layers:
        if layer.op not in BROWSER_OPS or (layer.op == "maxpool" and layer.shape != (2, 2)):
            raise ExportError(f"{layer.op} {layer.shape or ''} is not exported for the browser".replace("  ", " "))
        if layer.activation not in ("relu", "softmax", "linear"):
            raise ExportError(f"activation {layer.activation} is not exported for the browser")
    return layers


def model_networks(model: keras.Model) -> list[list[Layer]]:
    """The networks whose softmax outputs the browser averages for ordinary ink."""
    return [network_layers(network) for network in ensemble_members(model)]


def forward(networks: list[list[Layer]], images: np.ndarray, temperature: float = 1.0, chunk: int = 32) -> np.ndarray:
    """Calibrated probabilities (n, 10): the networks' softmax outputs averaged, in float32 NumPy."""
    x = model_batch(images)
    out = np.zeros((len(x), 10), np.float32)
    for start in range(0, len(x), chunk):
        out[start : start + chunk] = average(networks, x[start : start + chunk])
    return out if temperature == 1.0 else apply_temperature(out, temperature)
