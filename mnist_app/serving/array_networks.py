"""The shipped networks run in float32 NumPy: no TensorFlow in a server (docs/performance.md, Memory).

`fold` turns a stored network (`serving.keras_file`) into plain steps: batch normalisation folded into the
convolution or dense layer before it, dropout left out, a ReLU merged into the layer it follows. `run`
runs the steps; `saliency` runs them back for the gradient of the answer's log-probability. The same
steps are what the browser runs for live reading (`training.browser_weights`), so both are checked against
Keras on the shipped models (tests/serving/test_array_networks.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit, softmax
from threadpoolctl import threadpool_limits

from mnist_app.serving.keras_file import StoredLayer
from mnist_app.serving.model_files import REBUILD_HINT, ModelLoadError

SKIPPED = ("Dropout", "InputLayer")
ACTIVATIONS = ("relu", "softmax", "linear", "tanh", "sigmoid")


@dataclass
class Layer:
    """One step of a network: conv2d, dense, maxpool, flatten, reshape, lstm or bigru."""

    op: str
    kernel: np.ndarray | None = None
    bias: np.ndarray | None = None
    activation: str = "linear"
    padding: str = "valid"
    shape: tuple[int, ...] = ()  # maxpool: the pool (rows, columns); reshape: the target shape
    cells: tuple[Cell, ...] = field(default=())  # lstm: its cell; bigru: forward, backward


@dataclass(frozen=True)
class Cell:
    """A Keras recurrent cell: its gates side by side in the kernels (GRU: z, r, h; LSTM: i, f, c, o)."""

    kernel: np.ndarray  # (inputs, gates x units)
    recurrent: np.ndarray  # (units, gates x units)
    bias: np.ndarray  # GRU (reset_after): (2, 3 units), the input's and the recurrent product's; LSTM: (4 units,)


def fold(layers: list[StoredLayer]) -> list[Layer]:
    """A chain of stored layers as steps; ModelLoadError for a layer it cannot express."""
    steps: list[Layer] = []
    for layer in layers:
        kind, config = layer.kind, layer.config
        if kind in SKIPPED:
            continue
        if kind == "Conv2D":
            if tuple(config["strides"]) != (1, 1) or tuple(config["dilation_rate"]) != (1, 1):
                raise _unsupported(layer, "only stride-1 convolutions")
            steps.append(Layer("conv2d", *_kernel_and_bias(layer), _activation(layer), config["padding"]))
        elif kind == "Dense":
            steps.append(Layer("dense", *_kernel_and_bias(layer), _activation(layer)))
        elif kind == "BatchNormalization":
            _fold_batch_norm(steps, layer)
        elif kind in ("ReLU", "Activation"):
            if kind == "Activation" and config["activation"] != "relu":
                raise _unsupported(layer, "only a ReLU activation layer")
            if not steps or steps[-1].activation != "linear":
                raise _unsupported(layer, "a ReLU after a layer that has an activation")
            steps[-1].activation = "relu"
        elif kind == "MaxPooling2D":
            pool = tuple(config["pool_size"])
            if tuple(config["strides"] or pool) != pool or config["padding"] != "valid":
                raise _unsupported(layer, "only max pooling whose stride is its size")
            steps.append(Layer("maxpool", shape=pool))
        elif kind == "Flatten":
            steps.append(Layer("flatten"))
        elif kind == "Reshape":
            steps.append(Layer("reshape", shape=tuple(config["target_shape"])))
        elif kind == "Bidirectional":
            steps.append(_bidirectional_gru(layer))
        elif kind == "LSTM":
            steps.append(_lstm(layer))
        else:
            raise _unsupported(layer, f"no {kind} layers")
    return steps


def _unsupported(layer: StoredLayer, what: str) -> ModelLoadError:
    return ModelLoadError(f"layer {layer.name}: served networks have {what}")


def fold_file(path: object, layers: list[StoredLayer]) -> list[Layer]:
    """`fold`, with the file named in the message when it cannot be served."""
    try:
        return fold(layers)
    except ModelLoadError as error:
        raise ModelLoadError(f"{path} could not be loaded ({error}); {REBUILD_HINT}") from error


def _kernel_and_bias(layer: StoredLayer) -> tuple[np.ndarray, np.ndarray]:
    kernel = np.asarray(layer.weights[0], np.float32)
    bias = layer.weights[1] if len(layer.weights) > 1 else np.zeros(kernel.shape[-1])
    return kernel, np.asarray(bias, np.float32)


def _activation(layer: StoredLayer) -> str:
    name = layer.config.get("activation", "linear")
    if name not in ACTIVATIONS:
        raise _unsupported(layer, f"no {name} activation")
    return name


def _fold_batch_norm(steps: list[Layer], norm: StoredLayer) -> None:
    """Scale the previous step's kernel and shift its bias: y = gamma (x - mean) / sqrt(var + eps) + beta."""
    if not steps or steps[-1].kernel is None or steps[-1].activation != "linear" or len(norm.weights) != 4:
        raise _unsupported(norm, "batch norm only after a convolution or dense layer without activation")
    gamma, beta, mean, variance = (np.asarray(w, np.float64) for w in norm.weights)
    factor = gamma / np.sqrt(variance + norm.config["epsilon"])
    previous = steps[-1]
    previous.kernel = (previous.kernel * factor).astype(np.float32)
    previous.bias = ((previous.bias - mean) * factor + beta).astype(np.float32)


def _bidirectional_gru(layer: StoredLayer) -> Layer:
    inner = layer.config["layer"]["config"]
    plain = inner.get("reset_after", True) and inner.get("activation") == "tanh"
    if layer.config["layer"]["class_name"] != "GRU" or not plain or layer.config.get("merge_mode") != "concat":
        raise _unsupported(layer, "only bidirectional GRUs (tanh, reset after) whose outputs are side by side")
    cells = tuple(
        Cell(*(np.asarray(w, np.float32) for w in layer.groups[side])) for side in ("forward_layer", "backward_layer")
    )
    return Layer("bigru", cells=cells)


def use_one_blas_thread() -> None:
    """Matrix products on one thread, for the whole process: these are small, and OpenBLAS's second
    thread only spins on them (a batch took as long and twice the CPU; one image took 40 % longer).
    A server runs a session per thread anyway."""
    threadpool_limits(limits=1, user_api="blas")


def _lstm(layer: StoredLayer) -> Layer:
    config = layer.config
    plain = config["activation"] == "tanh" and config["recurrent_activation"] == "sigmoid" and config["use_bias"]
    if not plain or config["return_sequences"] or config["go_backwards"]:
        raise _unsupported(layer, "only LSTMs (tanh, sigmoid gates) that give their last state")
    return Layer("lstm", cells=(Cell(*(np.asarray(w, np.float32) for w in layer.weights)),))


# --- running them -----------------------------------------------------------------------------------


def run(network: list[Layer], x: np.ndarray, keep: bool = False) -> np.ndarray | list[np.ndarray]:
    """The network's output for the batch `x`; with `keep`, every step's output, in order."""
    outputs = []
    for layer in network:
        x = _step(layer, x)
        if keep:
            outputs.append(x)
    return outputs if keep else x


def _step(layer: Layer, x: np.ndarray) -> np.ndarray:
    if layer.op == "conv2d":
        return _activate(conv2d(x, layer.kernel, layer.padding) + layer.bias, layer.activation)
    if layer.op == "dense":
        return _activate(x @ layer.kernel + layer.bias, layer.activation)
    if layer.op == "maxpool":
        (rows, columns), (n, h, w, c) = layer.shape, x.shape
        cut = x[:, : h // rows * rows, : w // columns * columns]
        return cut.reshape(n, h // rows, rows, w // columns, columns, c).max(axis=(2, 4))
    if layer.op == "flatten":
        return x.reshape(len(x), -1)
    if layer.op == "reshape":
        return x.reshape(len(x), *layer.shape)
    if layer.op == "lstm":
        return _lstm_last_state(layer.cells[0], x)
    forward, backward = layer.cells
    return np.concatenate([_gru(forward, x), _gru(backward, x[:, ::-1])[:, ::-1]], axis=-1)


def conv2d(x: np.ndarray, kernel: np.ndarray, padding: str) -> np.ndarray:
    """A stride-1 convolution (odd kernel size). One input channel: one product over the image's
    patches; more: one product per kernel position, summed (no patches array, many times faster)."""
    size = kernel.shape[0]
    if padding == "same":
        pad = size // 2
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    n, h, w, c = x.shape
    out_h, out_w = h - size + 1, w - size + 1
    if c == 1:
        patches = np.empty((n, out_h, out_w, size, size), np.float32)
        for i in range(size):
            for j in range(size):
                patches[:, :, :, i, j] = x[:, i : i + out_h, j : j + out_w, 0]
        return patches.reshape(n, out_h, out_w, -1) @ kernel.reshape(-1, kernel.shape[-1])
    out = np.zeros((n, out_h, out_w, kernel.shape[-1]), np.float32)
    for i in range(size):
        for j in range(size):
            out += x[:, i : i + out_h, j : j + out_w] @ kernel[i, j]
    return out


def _gru(cell: Cell, x: np.ndarray) -> np.ndarray:
    """Every step's state of a GRU over the sequences (n, steps, inputs), as Keras's GRU (reset_after)."""
    units = cell.recurrent.shape[0]
    inputs = x @ cell.kernel + cell.bias[0]  # all steps at once
    state = np.zeros((len(x), units), np.float32)
    states = np.empty((len(x), x.shape[1], units), np.float32)
    for t in range(x.shape[1]):
        inner = state @ cell.recurrent + cell.bias[1]
        z = expit(inputs[:, t, :units] + inner[:, :units])
        r = expit(inputs[:, t, units : 2 * units] + inner[:, units : 2 * units])
        candidate = np.tanh(inputs[:, t, 2 * units :] + r * inner[:, 2 * units :])
        state = z * state + (1.0 - z) * candidate
        states[:, t] = state
    return states


def _lstm_last_state(cell: Cell, x: np.ndarray) -> np.ndarray:
    """The last state of an LSTM over the sequences (n, steps, inputs), as Keras's LSTM."""
    units = cell.recurrent.shape[0]
    inputs = x @ cell.kernel + cell.bias
    state = carry = np.zeros((len(x), units), np.float32)
    for t in range(x.shape[1]):
        gates = inputs[:, t] + state @ cell.recurrent
        keep, forget = expit(gates[:, :units]), expit(gates[:, units : 2 * units])
        carry = forget * carry + keep * np.tanh(gates[:, 2 * units : 3 * units])
        state = expit(gates[:, 3 * units :]) * np.tanh(carry)
    return state.astype(np.float32)


def _activate(x: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(x, 0.0)
    if activation == "softmax":
        return softmax(x, axis=-1).astype(np.float32)
    if activation == "tanh":
        return np.tanh(x)
    if activation == "sigmoid":
        return expit(x).astype(np.float32)
    return x


def average(networks: list[list[Layer]], x: np.ndarray) -> np.ndarray:
    """The networks' outputs for the batch `x`, averaged."""
    return np.mean([run(network, x) for network in networks], axis=0)


BACKWARD_OPS = ("conv2d", "dense", "maxpool", "flatten", "reshape")


def runs_backward(network: list[Layer]) -> bool:
    """Whether `saliency` can run the network back: no recurrent steps, ReLUs inside, a softmax at the end."""
    inner_ok = all(step.activation in ("relu", "linear") for step in network[:-1])
    return inner_ok and all(step.op in BACKWARD_OPS for step in network) and network[-1].activation == "softmax"


# --- the saliency map -------------------------------------------------------------------------------


def saliency(networks: list[list[Layer]], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of one image (1, 28, 28, 1) averaged over softmax networks, and gradient x input of
    the winning class's log-probability: which pixels drove the answer."""
    kept = [[x, *run(network, x, keep=True)] for network in networks]
    # The softmax's own gradient in float64 from the logits: a sure answer's 1 - p is lost in float32.
    last = [network[-1] for network in networks]
    exact = [
        softmax(outputs[-2].astype(np.float64) @ layer.kernel + layer.bias, axis=-1)
        for layer, outputs in zip(last, kept, strict=True)
    ]
    probabilities = np.mean(exact, axis=0)
    top = int(probabilities[0].argmax())
    gradient = np.zeros_like(x)
    for network, outputs, p in zip(networks, kept, exact, strict=True):
        # d log(mean p)[top] / d p_member, then through the member's softmax to its logits
        upstream = np.zeros_like(p)
        upstream[0, top] = 1.0 / (len(networks) * probabilities[0, top])
        upstream = (p * (upstream - (upstream * p).sum(axis=-1, keepdims=True))).astype(np.float32)
        for index in range(len(network) - 1, -1, -1):
            upstream = _step_back(
                network[index], outputs[index], outputs[index + 1], upstream, index == len(network) - 1
            )
        gradient += upstream
    return probabilities.astype(np.float32), gradient * x


def _step_back(layer: Layer, x: np.ndarray, y: np.ndarray, upstream: np.ndarray, logits: bool) -> np.ndarray:
    """The gradient at a step's input from the gradient at its output (`logits`: already past its softmax)."""
    if layer.op in ("conv2d", "dense") and not logits:
        if layer.activation == "relu":
            upstream = upstream * (y > 0)
        elif layer.activation != "linear":
            raise ValueError(f"no saliency through {layer.activation} inside a network")
    if layer.op == "dense":
        return upstream @ layer.kernel.T
    if layer.op == "conv2d":
        return _conv2d_back(x.shape, layer.kernel, layer.padding, upstream)
    if layer.op == "maxpool":
        return _maxpool_back(layer.shape, x, upstream)
    if layer.op in ("flatten", "reshape"):
        return upstream.reshape(x.shape)
    raise ValueError(f"no saliency through {layer.op}")


def _maxpool_back(pool: tuple[int, ...], x: np.ndarray, upstream: np.ndarray) -> np.ndarray:
    """Each window's gradient to its first largest input, as TensorFlow's (flat ink ties often)."""
    (rows, columns), (n, h, w, c) = pool, x.shape
    out_h, out_w = h // rows, w // columns
    windows = x[:, : out_h * rows, : out_w * columns].reshape(n, out_h, rows, out_w, columns, c)
    windows = windows.transpose(0, 1, 3, 5, 2, 4).reshape(n, out_h, out_w, c, rows * columns)
    chosen = np.eye(rows * columns, dtype=np.float32)[windows.argmax(-1)] * upstream[..., None]
    back = np.zeros_like(x)
    chosen = chosen.reshape(n, out_h, out_w, c, rows, columns).transpose(0, 1, 4, 2, 5, 3)
    back[:, : out_h * rows, : out_w * columns] = chosen.reshape(n, out_h * rows, out_w * columns, c)
    return back


def _conv2d_back(shape: tuple[int, ...], kernel: np.ndarray, padding: str, upstream: np.ndarray) -> np.ndarray:
    size = kernel.shape[0]
    pad = size // 2 if padding == "same" else 0
    n, h, w, c = shape
    back = np.zeros((n, h + 2 * pad, w + 2 * pad, c), np.float32)
    out_h, out_w = upstream.shape[1:3]
    for i in range(size):
        for j in range(size):
            back[:, i : i + out_h, j : j + out_w] += upstream @ kernel[i, j].T
    return back[:, pad : pad + h, pad : pad + w]
