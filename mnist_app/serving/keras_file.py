"""A shipped Keras file read without Keras or TensorFlow: its layers' configurations and weights.

A `.keras` file is a zip of `config.json` (the layers, as Keras serialises them) and `model.weights.h5`.
Keras stores each layer's variables under a path named after its class, not its own name: the first
Conv2D of a model is `layers/conv2d`, the second `layers/conv2d_1`, and a nested model's layers sit
under its own path (keras.src.saving.saving_lib, `_save_container_state`). Reading it so lets a server
answer with NumPy alone (`serving.array_networks`), without TensorFlow's 590 MB (docs/performance.md).
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mnist_app.serving.model_files import REBUILD_HINT, ModelLoadError

MODELS = ("Functional", "Sequential")


@dataclass
class StoredLayer:
    """One layer of a stored model: its class, its configuration and its variables in Keras's order."""

    kind: str  # Keras's class name: Conv2D, Dense, Functional, ...
    name: str
    config: dict
    weights: list[np.ndarray] = field(default_factory=list)
    layers: list[StoredLayer] = field(default_factory=list)  # a nested model's own layers, in order
    groups: dict[str, list[np.ndarray]] = field(default_factory=dict)  # nested variables (a wrapped GRU's)

    def all_weights(self) -> list[np.ndarray]:
        """Every variable of this layer and the layers inside it, in Keras's `get_weights()` order."""
        nested = [w for group in self.groups.values() for w in group]
        return [*self.weights, *nested, *(w for layer in self.layers for w in layer.all_weights())]


def read_keras_file(path: Path) -> StoredLayer:
    """The model in `path`, as stored layers; ModelLoadError when the file is missing parts or damaged."""
    import h5py  # a few MB, and only when a model is read

    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            with archive.open("model.weights.h5") as stored, h5py.File(stored, "r") as weights:
                return _stored(config, weights, "")
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as error:
        raise ModelLoadError(f"{path} could not be loaded ({type(error).__name__}: {error}); {REBUILD_HINT}") from error


def _stored(entry: dict, weights: object, path: str) -> StoredLayer:
    kind, config = entry["class_name"], entry["config"]
    layer = StoredLayer(kind, config.get("name", ""), config)
    if kind in MODELS:
        used: dict[str, int] = {}
        for child in config["layers"]:
            if child["class_name"] == "InputLayer":
                continue
            child_path = f"{path}layers/{_unique(_snake_case(child['class_name']), used)}/"
            layer.layers.append(_stored(child, weights, child_path))
        return layer
    group = weights.get(path.rstrip("/")) if path else None
    if group is not None:
        layer.weights = _variables(group.get("cell", group))  # a recurrent layer's are its cell's
        for name in ("forward_layer", "backward_layer"):  # Bidirectional: one recurrent cell per direction
            if name in group:
                layer.groups[name] = _variables(group[name]["cell"])
    return layer


def _variables(group: object) -> list[np.ndarray]:
    if "vars" not in group:
        return []
    stored = group["vars"]
    return [np.asarray(stored[str(i)]) for i in range(len(stored))]


def _snake_case(name: str) -> str:
    """Keras's own (keras.src.utils.naming.to_snake_case): Conv2D -> conv2d, BatchNormalization -> batch_normalization."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique(name: str, used: dict[str, int]) -> str:
    """The first of a class keeps its name, the next ones get _1, _2, ... (as Keras names them)."""
    if name not in used:
        used[name] = 0
        return name
    used[name] += 1
    return f"{name}_{used[name]}"
