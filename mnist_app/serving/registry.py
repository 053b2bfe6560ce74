"""Load the shipped models: every one that loads, and a message for each that does not."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from mnist_app.config import MODEL_NAMES, MODELS_DIR
from mnist_app.serving.array_predictor import ArrayPredictor, load_array_predictor
from mnist_app.serving.model_files import REBUILD_HINT, ModelLoadError, read_card

if TYPE_CHECKING:
    from mnist_app.serving.predictor import Predictor

log = logging.getLogger(__name__)

# Served in NumPy (`serving.array_predictor`): no TensorFlow until a visitor opens the recurrent network.
IN_NUMPY = ("ann", "cnn", "logreg")


def load_predictor(name: str, models_dir: Path = MODELS_DIR) -> ArrayPredictor | Predictor:
    """One model and its card, checked against each other."""
    path = Path(models_dir) / f"{name}.keras"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; train it with `make train`")
    card_path = path.with_suffix(".json")
    card = read_card(card_path)
    if name in IN_NUMPY:
        predictor = load_array_predictor(name, path, card)
        parameters = predictor.count_params()
    else:
        from mnist_app.serving.model_files import load_model
        from mnist_app.serving.predictor import Predictor  # TensorFlow: only for the models that need it

        model = load_model(path)
        predictor, parameters = Predictor(name, model, card, path), model.count_params()
    if card and card.get("parameters") != parameters:
        raise ModelLoadError(
            f"{card_path} describes a model with {card.get('parameters')} parameters but {path} has "
            f"{parameters}; {REBUILD_HINT}"
        )
    return predictor


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
