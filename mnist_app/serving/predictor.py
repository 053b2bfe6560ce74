"""Load the trained models safely and predict digits fast, one image or many.

Single images never go through `model.predict` (tens of milliseconds of overhead per call):
each model (each of its two branches, with soft-ink experts) is traced once into a `tf.function`
with a fixed input signature and warmed up."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mnist_app.config import IMAGE_SIDE, MODEL_NAMES, MODELS_DIR, NUM_CLASSES
from mnist_app.reading.preprocess import is_soft
from mnist_app.serving.calibration import apply_temperature
from mnist_app.serving.networks import answering_networks, averaged_forward, soft_experts  # registers SoftInkRouter too

log = logging.getLogger(__name__)

REBUILD_HINT = "rebuild it with `make train`"
SINGLE = tf.TensorSpec((1, IMAGE_SIDE, IMAGE_SIDE, 1), tf.float32)
BATCH = tf.TensorSpec((None, IMAGE_SIDE, IMAGE_SIDE, 1), tf.float32)


class ModelLoadError(RuntimeError):
    """A model file exists but cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class Prediction:
    """One model's reading of one image."""

    model: str
    probabilities: np.ndarray  # shape (10,), sums to 1
    saliency: np.ndarray | None = None  # (28, 28) gradient x input, when asked for

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        """The k most likely digits with their probabilities, most likely first."""
        order = np.argsort(self.probabilities)[::-1][:k]
        return [(int(d), float(self.probabilities[d])) for d in order]


@dataclass
class Predictor:
    """A loaded model with its card and traced prediction functions."""

    name: str
    model: keras.Model
    card: dict = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        model = self.model
        # Fitted by `python -m mnist_app.serving.calibration` on the validation split; 1.0 = as trained.
        self.temperature = float(self.card.get("calibration", {}).get("temperature", 1.0))
        # A model with soft-ink experts gets one traced pair of functions per branch, chosen on the
        # host by `is_soft`: an in-graph `cond` would cost a single image about 15 % more.
        self._routes_soft = bool(soft_experts(model))
        routes = (False, True) if self._routes_soft else (False,)
        self._single = {soft: _traced_single(averaged_forward(answering_networks(model, soft))) for soft in routes}

        @tf.function(input_signature=[BATCH])
        def batch(x: tf.Tensor) -> tf.Tensor:
            return model(x, training=False)

        _trace_now(batch)
        self._batch = batch
        for soft in routes:  # run each branch once now (already traced): the first user waits no longer
            warm_up = np.full((IMAGE_SIDE, IMAGE_SIDE), 0.5 if soft else 0.0, np.float32)
            self.predict(warm_up)
            self.predict(warm_up, saliency=True)

    def predict(self, image: np.ndarray, saliency: bool = False) -> Prediction:
        """Class probabilities of one 28x28 float image in [0, 1] (white digit on black)."""
        x = _as_batch(image)[:1]
        plain, with_saliency = self._single[self._routes_soft and is_soft(x[0, :, :, 0])]
        if saliency:
            probabilities, grad = with_saliency(tf.constant(x))
            return Prediction(self.name, self._calibrate(probabilities.numpy())[0], grad.numpy()[0, :, :, 0])
        return Prediction(self.name, self._calibrate(plain(tf.constant(x)).numpy())[0])

    def predict_batch(self, images: np.ndarray, batch_size: int = 1000, calibrated: bool = True) -> np.ndarray:
        """Probabilities (n, 10) for n images, given as (n, 28, 28) or (n, 28, 28, 1) floats."""
        x = _as_batch(images)
        parts = [self._batch(tf.constant(x[i : i + batch_size])).numpy() for i in range(0, len(x), batch_size)]
        probabilities = np.concatenate(parts) if parts else np.zeros((0, NUM_CLASSES), np.float32)
        return self._calibrate(probabilities) if calibrated else probabilities

    def _calibrate(self, probabilities: np.ndarray) -> np.ndarray:
        return probabilities if self.temperature == 1.0 else apply_temperature(probabilities, self.temperature)


def _traced_single(forward: Callable[[tf.Tensor], tf.Tensor]) -> tuple[Callable, Callable]:
    """One image's probabilities, and the same with its saliency, each traced once."""

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

    _trace_now(plain, with_saliency)
    return plain, with_saliency


def _trace_now(*functions: tf.types.experimental.PolymorphicFunction) -> None:
    """Trace each function for its input signature now. Traced on first call instead, every model's
    functions share code, so TensorFlow would log a false "frequent retracing" warning."""
    for function in functions:
        function.get_concrete_function()


def _as_batch(images: np.ndarray) -> np.ndarray:
    """(28, 28), (n, 28, 28) or (n, 28, 28, 1) -> float32 (n, 28, 28, 1)."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[..., None]
    if x.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE, 1):
        raise ValueError(f"expected 28x28 images, got shape {np.shape(images)}")
    return x


def load_model(path: Path) -> keras.Model:
    """A model file, loaded without running any code stored in it, with its shapes checked."""
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many kinds for a damaged file
        raise ModelLoadError(f"{path} could not be loaded ({type(error).__name__}: {error}); {REBUILD_HINT}") from error
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


def load_predictor(name: str, models_dir: Path = MODELS_DIR) -> Predictor:
    """One model and its card, checked against each other."""
    path = Path(models_dir) / f"{name}.keras"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; train it with `make train`")
    model = load_model(path)
    card_path = path.with_suffix(".json")
    card = read_card(card_path)
    if card and card.get("parameters") != model.count_params():
        raise ModelLoadError(
            f"{card_path} describes a model with {card.get('parameters')} parameters but {path} has "
            f"{model.count_params()}; {REBUILD_HINT}"
        )
    return Predictor(name, model, card, path)


def load_predictors(
    models_dir: Path = MODELS_DIR, names: tuple[str, ...] = MODEL_NAMES
) -> tuple[dict[str, Predictor], list[str]]:
    """Every model that loads, and one message for each that does not (the others still work)."""
    predictors, problems = {}, []
    for name in names:
        try:
            if name == "forest":
                from mnist_app.serving.forest import load_forest  # YDF: imported only when the forest is asked for

                predictors[name] = load_forest(models_dir)
            else:
                predictors[name] = load_predictor(name, models_dir)
        except (FileNotFoundError, ModelLoadError) as error:
            log.warning("%s", error)
            problems.append(str(error))
    return predictors, problems
