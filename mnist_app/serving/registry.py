"""Load the shipped models: every one that loads, and a message for each that does not."""

from __future__ import annotations

import logging
from pathlib import Path

from mnist_app.config import MODEL_NAMES, MODELS_DIR
from mnist_app.serving.array_predictor import ArrayPredictor, load_array_predictor
from mnist_app.serving.model_files import REBUILD_HINT, ModelLoadError, model_path, read_card
from mnist_app.serving.prediction import Predicts

log = logging.getLogger(__name__)


def load_predictor(name: str, models_dir: Path = MODELS_DIR) -> ArrayPredictor:
    """One model and its card, checked against each other: served in NumPy, without TensorFlow."""
    path = model_path(models_dir, name)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; train it with `make train`")
    card_path = path.with_suffix(".json")
    card = read_card(card_path)
    predictor = load_array_predictor(name, path, card)
    if card and card.get("parameters") != predictor.count_params():
        raise ModelLoadError(
            f"{card_path} describes a model with {card.get('parameters')} parameters but {path} has "
            f"{predictor.count_params()}; {REBUILD_HINT}"
        )
    return predictor


def load_predictors(
    models_dir: Path = MODELS_DIR, names: tuple[str, ...] = MODEL_NAMES
) -> tuple[dict[str, Predicts], list[str]]:
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
