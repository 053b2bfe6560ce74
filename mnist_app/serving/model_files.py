"""The shipped model files: a Keras model loaded without running stored code, and its card (JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_app.config import IMAGE_SIDE, MODEL_NAMES, NUM_CLASSES

if TYPE_CHECKING:
    import keras

REBUILD_HINT = "rebuild it with `make train`"


class ModelLoadError(RuntimeError):
    """A model file exists but cannot be used; the message names the file and the fix."""


def model_path(models_dir: Path, name: str) -> Path:
    """A trained model's Keras file in `models_dir`, by its name ("cnn", "ann", "strings", ...)."""
    return Path(models_dir) / f"{name}.keras"


def load_keras_file(path: Path) -> keras.Model:
    """A Keras file, loaded without running any code stored in it; ModelLoadError when it is damaged."""
    import keras  # TensorFlow: only where a Keras model is needed (training, the tools, the inside view)

    import mnist_app.serving.networks  # noqa: F401  (registers the layers the CNN's file names, e.g. its soft-ink router)

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many kinds for a damaged file
        raise ModelLoadError(f"{path} could not be loaded ({type(error).__name__}: {error}); {REBUILD_HINT}") from error


def load_model(path: Path) -> keras.Model:
    """A digit model's file, loaded without running any code stored in it, with its shapes checked."""
    model = load_keras_file(path)
    if tuple(model.input_shape) != (None, IMAGE_SIDE, IMAGE_SIDE, 1) or tuple(model.output_shape) != (
        None,
        NUM_CLASSES,
    ):
        raise ModelLoadError(
            f"{path} takes {model.input_shape} and gives {model.output_shape}, expected "
            f"(None, 28, 28, 1) -> (None, 10); {REBUILD_HINT}"
        )
    return model


def read_card(path: Path) -> dict:
    """A model card (JSON); an empty dict when there is none."""
    if not path.is_file():
        return {}
    try:
        card = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{path} is not a valid model card ({error}); {REBUILD_HINT}") from error
    if not isinstance(card, dict):
        raise ModelLoadError(f"{path} is not a valid model card; {REBUILD_HINT}")
    return card


def read_cards(models_dir: Path, names: tuple[str, ...] = MODEL_NAMES) -> dict[str, dict]:
    """The cards of the named models found in `models_dir`, in the order named; unreadable ones are left out."""
    cards = {}
    for name in names:
        try:
            card = read_card(Path(models_dir) / f"{name}.json")
        except ModelLoadError:
            continue
        if card:
            cards[name] = card
    return cards
