"""The ANN's and the CNN's weights for the browser, where the canvas reads a drawing while the pen moves.

`export` reads the shipped `.keras` files and writes, for each model, one binary file of weights and
a JSON manifest that lists its layers (`components/live_reading` runs them with TensorFlow.js):
- batch normalisation folded into the convolution or dense layer before it;
- the CNN's averaged members only: its soft-ink experts answer blurred photos, and canvas drawings
  are never soft (the synthetic pen drawings never reach them);
- every kernel in 8 bits with one float32 scale per output channel, biases in float32;
- the calibration temperature, so the browser's probabilities are the server's.

`read_networks` reads the files back (dequantised); `web_networks.forward` runs them in NumPy, the
reference the browser must match. The export measures MNIST test accuracy with it and refuses
weights that lose more than `MAX_ACCURACY_LOSS` against the shipped models.

`python -m mnist_app.training.browser_weights` (or `make web`); `train.py` runs it after training.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import keras
import numpy as np

from mnist_app.atomic_files import write_json
from mnist_app.config import CONFIDENCE_THRESHOLD, LIVE_WEIGHTS_DIR, MODELS_DIR
from mnist_app.reading.model_input import model_batch
from mnist_app.serving.model_files import load_model, model_path, read_card
from mnist_app.serving.networks import ensemble_members
from mnist_app.training.web_networks import ExportError, Layer, forward, model_networks

LIVE_MODELS = ("ann", "cnn")
MANIFEST = "manifest.json"
FORMAT = 1
MAX_ACCURACY_LOSS = 0.001  # 0.1 point of MNIST test accuracy


# --- 8-bit kernels -----------------------------------------------------------------------------


def quantise(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 values and one float32 scale per output channel (the last axis): kernel ~ values * scale."""
    peak = np.abs(kernel.reshape(-1, kernel.shape[-1])).max(axis=0)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    values = np.clip(np.rint(kernel / scale), -127, 127).astype(np.int8)
    return values, scale


def dequantise(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return (values.astype(np.float32) * scale).astype(np.float32)


# --- writing and reading the files --------------------------------------------------------------


class _Packer:
    """Tensors laid end to end in one buffer, each at a 4-byte boundary (so JS typed arrays can view them)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, array: np.ndarray) -> list[int]:
        data = np.ascontiguousarray(array).tobytes()
        offset = self.size
        padding = (-len(data)) % 4
        self.parts.append(data + b"\0" * padding)
        self.size += len(data) + padding
        return [offset, int(array.size)]

    def content(self) -> bytes:
        return b"".join(self.parts)


def _pack_networks(networks: list[list[Layer]]) -> tuple[list[list[dict]], bytes]:
    packer = _Packer()
    described = []
    for network in networks:
        steps = []
        for layer in network:
            step: dict = {"op": layer.op}
            if layer.kernel is not None:
                values, scale = quantise(layer.kernel)
                step.update(
                    kernel={"shape": list(layer.kernel.shape), "int8": packer.add(values), "scale": packer.add(scale)},
                    bias={"float32": packer.add(layer.bias.astype(np.float32))},
                    activation=layer.activation,
                )
                if layer.op == "conv2d":
                    step["padding"] = layer.padding
            steps.append(step)
        described.append(steps)
    return described, packer.content()


def read_networks(folder: Path, name: str) -> tuple[list[list[Layer]], float]:
    """The exported networks of one model, dequantised to float32, and its temperature."""
    manifest = json.loads((Path(folder) / MANIFEST).read_text())
    entry = manifest["models"][name]
    data = (Path(folder) / entry["file"]).read_bytes()

    def view(dtype: type, where: list[int]) -> np.ndarray:
        offset, count = where
        return np.frombuffer(data, dtype=dtype, count=count, offset=offset)

    networks = []
    for steps in entry["networks"]:
        layers = []
        for step in steps:
            layer = Layer(step["op"], activation=step.get("activation", "linear"), padding=step.get("padding", "valid"))
            if layer.op == "maxpool":
                layer.shape = (2, 2)  # the browser's only pooling (web_networks.network_layers)
            if "kernel" in step:
                kernel = step["kernel"]
                values = view(np.int8, kernel["int8"]).reshape(kernel["shape"])
                layer.kernel = dequantise(values, view(np.float32, kernel["scale"]))
                layer.bias = view(np.float32, step["bias"]["float32"]).copy()
            layers.append(layer)
        networks.append(layers)
    return networks, float(entry["temperature"])


# --- the export ---------------------------------------------------------------------------------


def export(models_dir: Path, out_dir: Path, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    """Write the browser's weights of the ANN and the CNN and their manifest; return the manifest.

    Refuses (ExportError, nothing written) when an exported model's MNIST test accuracy is more than
    MAX_ACCURACY_LOSS below the shipped model's."""
    models, files = {}, {}
    for name in LIVE_MODELS:
        path = model_path(models_dir, name)
        if not path.is_file():
            raise ExportError(f"{path} is missing: train it first (`make train`)")
        model = load_model(path)
        networks = model_networks(model)
        temperature = float(read_card(path.with_suffix(".json")).get("calibration", {}).get("temperature", 1.0))
        described, content = _pack_networks(networks)
        weights_name = f"{name}-{hashlib.sha256(content).hexdigest()[:12]}.bin"
        exported_networks = [[_dequantised(layer) for layer in network] for network in networks]
        accuracy = _accuracies(model, exported_networks, x_test, y_test)
        if accuracy["shipped"] - accuracy["exported"] > MAX_ACCURACY_LOSS:
            raise ExportError(
                f"{name}: the exported weights read {accuracy['exported']:.2%} of MNIST's test digits, "
                f"{accuracy['shipped']:.2%} shipped: more than {MAX_ACCURACY_LOSS:.1%} lost"
            )
        models[name] = {
            "file": weights_name,
            "bytes": len(content),
            "model_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "temperature": temperature,
            "test_accuracy": accuracy,
            "networks": described,
        }
        files[weights_name] = content
    manifest = {"format": FORMAT, "input": [28, 28, 1], "not_sure_below": CONFIDENCE_THRESHOLD, "models": models}
    _write(Path(out_dir), manifest, files)
    return manifest


def _dequantised(layer: Layer) -> Layer:
    if layer.kernel is None:
        return layer
    return Layer(
        layer.op, dequantise(*quantise(layer.kernel)), layer.bias, layer.activation, layer.padding, layer.shape
    )


def _accuracies(model: keras.Model, exported: list[list[Layer]], x: np.ndarray, y: np.ndarray) -> dict:
    """MNIST test accuracy of the shipped model (as served: members for ordinary ink) and of the export."""
    networks = ensemble_members(model)
    batch = model_batch(x)
    shipped = np.mean([network.predict(batch, batch_size=1000, verbose=0) for network in networks], axis=0)
    return {
        "shipped": float(np.mean(shipped.argmax(axis=1) == y)),
        "exported": float(np.mean(forward(exported, batch).argmax(axis=1) == y)),
    }


def _write(out_dir: Path, manifest: dict, files: dict[str, bytes]) -> None:
    """The weight files first, then the manifest that names them; older weight files are removed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out_dir / name).write_bytes(content)
    write_json(out_dir / MANIFEST, manifest)
    for stale in out_dir.glob("*.bin"):
        if stale.name not in files:
            stale.unlink()


def live_dir_for(models_dir: Path) -> Path:
    """Where the browser's weights of `models_dir` go: the served folder for the shipped models, else beside them."""
    return LIVE_WEIGHTS_DIR if Path(models_dir).resolve() == MODELS_DIR.resolve() else Path(models_dir) / "live"


def main(argv: list[str] | None = None) -> int:
    from mnist_app.dataset.mnist import load_mnist

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=MODELS_DIR, help="folder of ann.keras and cnn.keras")
    parser.add_argument("--out", type=Path, default=None, help="where to write (default: static/live for models/)")
    args = parser.parse_args(argv)
    (_, _), (x_test, y_test) = load_mnist()
    try:
        manifest = export(args.models, args.out or live_dir_for(args.models), x_test, y_test)
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for name, entry in manifest["models"].items():
        accuracy = entry["test_accuracy"]
        print(
            f"{name}: {entry['bytes'] / 1e6:.2f} MB, MNIST test {accuracy['exported']:.2%} exported, "
            f"{accuracy['shipped']:.2%} shipped"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
