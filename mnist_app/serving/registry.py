"""Load the shipped models: every one that loads, and a message for each that does not."""

from __future__ import annotations

import logging
from pathlib import Path

from mnist_app.config import MODEL_NAMES, MODELS_DIR
from mnist_app.serving.model_files import REBUILD_HINT, ModelLoadError, load_model, read_card
from mnist_app.serving.predictor import Predictor

log = logging.getLogger(__name__)


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
