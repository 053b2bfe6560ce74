"""The ANN's and the CNN's networks as the browser runs them, and the same in NumPy (the reference).

`model_networks` reads a shipped Keras model into a list of plain layers per network: batch
normalisation folded into the convolution or dense layer before it, dropout left out. `forward`
runs such networks in float32 NumPy: the browser's probabilities must equal it (the live-reading
tests), and the export measures MNIST accuracy with it (`mnist_app.training.browser_weights`).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from scipy.special import softmax

from mnist_app.reading.model_input import model_batch
from mnist_app.serving.calibration import apply_temperature
from mnist_app.serving.networks import ensemble_members

SKIPPED = (keras.layers.InputLayer, keras.layers.Dropout)


class ExportError(RuntimeError):
    """The models cannot be exported, or the export would read worse than the shipped models."""


@dataclass
class Layer:
    """One step of a network in float32: conv2d, dense, maxpool or flatten."""

    op: str
    kernel: np.ndarray | None = None
    bias: np.ndarray | None = None
    activation: str = "linear"  # relu, softmax or linear
    padding: str = "valid"


def network_layers(network: keras.Model) -> list[Layer]:
    """A Sequential-like network as folded layers; refuses any layer it cannot express."""
    layers: list[Layer] = []
    for layer in network.layers:
        if isinstance(layer, SKIPPED):
            continue
        if isinstance(layer, keras.layers.Conv2D):
            if tuple(layer.strides) != (1, 1) or tuple(layer.dilation_rate) != (1, 1):
                raise ExportError(f"{layer.name}: only stride-1 convolutions are exported")
            layers.append(Layer("conv2d", *_kernel_and_bias(layer), _activation(layer), layer.padding))
        elif isinstance(layer, keras.layers.Dense):
            layers.append(Layer("dense", *_kernel_and_bias(layer), _activation(layer)))
        elif isinstance(layer, keras.layers.BatchNormalization):
            _fold_batch_norm(layers, layer)
        elif isinstance(layer, keras.layers.ReLU):
            if not layers or layers[-1].activation != "linear":
                raise ExportError(f"{layer.name}: a ReLU must follow a layer without activation")
            layers[-1].activation = "relu"
        elif isinstance(layer, keras.layers.MaxPooling2D):
            if tuple(layer.pool_size) != (2, 2) or tuple(layer.strides) != (2, 2) or layer.padding != "valid":
                raise ExportError(f"{layer.name}: only 2x2 max pooling with stride 2 is exported")
            layers.append(Layer("maxpool"))
        elif isinstance(layer, keras.layers.Flatten):
            layers.append(Layer("flatten"))
        else:
            raise ExportError(f"{layer.name}: {type(layer).__name__} layers are not exported for the browser")
    return layers


def _kernel_and_bias(layer: keras.Layer) -> tuple[np.ndarray, np.ndarray]:
    weights = layer.get_weights()
    kernel = np.asarray(weights[0], np.float32)
    bias = np.asarray(weights[1], np.float32) if len(weights) > 1 else np.zeros(kernel.shape[-1], np.float32)
    return kernel, bias


def _activation(layer: keras.Layer) -> str:
    name = layer.activation.__name__
    if name not in ("relu", "softmax", "linear"):
        raise ExportError(f"{layer.name}: activation {name} is not exported")
    return name


def _fold_batch_norm(layers: list[Layer], norm: keras.layers.BatchNormalization) -> None:
    """Scale the previous layer's kernel and shift its bias: y = gamma (x - mean) / sqrt(var + eps) + beta."""
    if not layers or layers[-1].kernel is None or layers[-1].activation != "linear":
        raise ExportError(f"{norm.name}: batch norm is folded only into a conv or dense layer without activation")
    gamma, beta, mean, variance = (np.asarray(w, np.float64) for w in norm.get_weights())
    factor = gamma / np.sqrt(variance + norm.epsilon)
    previous = layers[-1]
    previous.kernel = (previous.kernel * factor).astype(np.float32)
    previous.bias = ((previous.bias - mean) * factor + beta).astype(np.float32)


def model_networks(model: keras.Model) -> list[list[Layer]]:
    """The networks whose softmax outputs the browser averages for ordinary ink."""
    return [network_layers(network) for network in ensemble_members(model)]


# --- the reference forward pass -----------------------------------------------------------------


def forward(networks: list[list[Layer]], images: np.ndarray, temperature: float = 1.0, chunk: int = 500) -> np.ndarray:
    """Calibrated probabilities (n, 10): the networks' softmax outputs averaged, in float32 NumPy."""
    x = model_batch(images)
    out = np.zeros((len(x), 10), np.float32)
    for start in range(0, len(x), chunk):
        batch = x[start : start + chunk]
        out[start : start + chunk] = np.mean([_run(network, batch) for network in networks], axis=0)
    return out if temperature == 1.0 else apply_temperature(out, temperature)


def _run(network: list[Layer], x: np.ndarray) -> np.ndarray:
    for layer in network:
        if layer.op == "conv2d":
            x = _activate(_conv2d(x, layer.kernel, layer.padding) + layer.bias, layer.activation)
        elif layer.op == "dense":
            x = _activate(x @ layer.kernel + layer.bias, layer.activation)
        elif layer.op == "maxpool":
            n, h, w, c = x.shape
            x = x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))
        elif layer.op == "flatten":
            x = x.reshape(len(x), -1)
    return x


def _conv2d(x: np.ndarray, kernel: np.ndarray, padding: str) -> np.ndarray:
    """3x3 (any odd size) stride-1 convolution as one matrix product over the image's patches."""
    size = kernel.shape[0]
    if padding == "same":
        pad = size // 2
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    n, h, w, c = x.shape
    out_h, out_w = h - size + 1, w - size + 1
    patches = np.empty((n, out_h, out_w, size, size, c), np.float32)
    for i in range(size):
        for j in range(size):
            patches[:, :, :, i, j] = x[:, i : i + out_h, j : j + out_w]
    return patches.reshape(n, out_h, out_w, -1) @ kernel.reshape(-1, kernel.shape[-1])


def _activate(x: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(x, 0.0)
    if activation == "softmax":
        return softmax(x, axis=-1)
    return x
