"""The ANN's hyper-parameter search (KerasTuner, Hyperband): `make tune`, i.e. `python train.py --tune ann`.

1. The space: 1-3 hidden layers of 64-1024 units, dropout, learning rate and batch size.
2. Hyperband trains many candidates for a few epochs and gives the best ones more, on a subset of
   the training split, scored on the validation split only (the test set is never looked at).
3. The shipped settings are trained the same way, so that "better than today's" is a fair comparison.
4. Every trial goes to models/tuning.json: its settings, validation accuracy, parameters, epochs
   and seconds; then the best trial and the shipped settings' score.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import keras_tuner
import numpy as np

from mnist_app.atomic_files import write_json
from mnist_app.reading.model_input import model_batch
from mnist_app.serving.model_files import read_card
from mnist_app.serving.networks import ANN_DROPOUT, ANN_UNITS, build_ann
from mnist_app.training.recipes import MODEL_SPECS, TuneConfig


@dataclass(frozen=True)
class AnnSettings:
    units: tuple[int, ...]
    dropout: float
    learning_rate: float
    batch_size: int

    @classmethod
    def from_hp(cls, hp: keras_tuner.HyperParameters) -> AnnSettings:
        layers = hp.Int("layers", 1, 3)
        units = tuple(hp.Choice(f"units_{i}", [64, 128, 256, 512, 768, 1024]) for i in range(layers))
        return cls(
            units=units,
            dropout=round(hp.Float("dropout", 0.0, 0.5, step=0.1), 2),
            learning_rate=float(f"{hp.Float('learning_rate', 1e-4, 3e-3, sampling='log'):.3g}"),
            batch_size=hp.Choice("batch_size", [64, 128, 256]),
        )

    def build(self) -> keras.Model:
        model = build_ann(self.units, self.dropout)
        model.compile(
            optimizer=keras.optimizers.Adam(self.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model


SHIPPED = AnnSettings(ANN_UNITS, ANN_DROPOUT, MODEL_SPECS["ann"].learning_rate, MODEL_SPECS["ann"].batch_size)


class AnnHyperModel(keras_tuner.HyperModel):
    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        return AnnSettings.from_hp(hp).build()

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return model.fit(*args, batch_size=AnnSettings.from_hp(hp).batch_size, **kwargs)


class TimedHyperband(keras_tuner.Hyperband):
    """Hyperband that records each trial's seconds and epochs, and stops starting trials after the budget."""

    def __init__(self, *args, budget_s: float, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.budget_s, self.started = budget_s, time.monotonic()
        self.costs: dict[str, dict] = {}

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0) -> None:  # noqa: ANN001
        """No TensorBoard here: KerasTuner imports it for every trial, and it is not installed (nor needed)."""

    def run_trial(self, trial, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
        if time.monotonic() - self.started > self.budget_s:
            self.oracle.max_trials = len(self.oracle.trials)  # the oracle stops at max_trials: none after this one
        began = time.perf_counter()
        result = super().run_trial(trial, *args, **kwargs)
        values = trial.hyperparameters.values  # Hyperband's budget for this trial
        epochs = values.get("tuner/epochs", kwargs.get("epochs", 0)) - values.get("tuner/initial_epoch", 0)
        self.costs[trial.trial_id] = {"seconds": round(time.perf_counter() - began, 1), "epochs": int(epochs)}
        return result


def search(data: dict[str, np.ndarray], config: TuneConfig, out_dir: Path) -> dict:
    """Run the search, score the shipped settings the same way, write tuning.json; returns its content."""
    rng = np.random.default_rng(config.seed)
    subset = rng.permutation(len(data["x_train"]))[: config.train_subset]
    x_train, y_train = model_batch(data["x_train"][subset]), data["y_train"][subset]
    x_val, y_val = model_batch(data["x_val"]), data["y_val"]
    keras.utils.set_random_seed(config.seed)
    workdir = Path(tempfile.mkdtemp(prefix="ann-tuning-"))
    started = time.monotonic()
    try:
        tuner = TimedHyperband(
            AnnHyperModel(),
            objective="val_accuracy",
            max_epochs=config.max_epochs,
            factor=3,
            hyperband_iterations=config.iterations,
            seed=config.seed,
            directory=str(workdir),
            project_name="ann",
            budget_s=config.budget_s,
        )
        tuner.search(x_train, y_train, validation_data=(x_val, y_val), verbose=0)
        trials = [_trial_record(trial, tuner.costs) for trial in tuner.oracle.trials.values()]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    search_seconds = time.monotonic() - started
    trials = [t for t in trials if t["val_accuracy"] is not None]
    best = max(trials, key=lambda t: (t["val_accuracy"], -t["parameters"]))
    shipped = _score_settings(SHIPPED, x_train, y_train, x_val, y_val, config)
    challenger = _score_settings(_settings(best["hyperparameters"]), x_train, y_train, x_val, y_val, config)
    report = {
        "method": f"KerasTuner Hyperband ({config.iterations} iterations, max {config.max_epochs} epochs, factor 3)",
        "train_subset": int(config.train_subset),
        "validation_images": int(len(y_val)),
        "search_seconds": round(search_seconds, 1),
        "trials": sorted(trials, key=lambda t: -t["val_accuracy"]),
        "best": best,
        # The best trial's settings and the shipped ones, each trained the same way (max epochs, same subset).
        "head_to_head": {"best": challenger, "shipped": shipped},
        "shipped_settings": {**asdict(SHIPPED), "units": list(SHIPPED.units)},
        "verdict": _verdict(challenger, shipped, config.margin),
    }
    write_json(out_dir / "tuning.json", report)
    cite_in_card(out_dir)
    return report


def cite_in_card(models_dir: Path) -> None:
    """The ANN's card says where its settings stand in the search (tuning.json's head-to-head)."""
    card_path, report_path = models_dir / "ann.json", models_dir / "tuning.json"
    if not (card_path.is_file() and report_path.is_file()):
        return
    report, card = json.loads(report_path.read_text()), read_card(card_path)
    card["tuning"] = {
        "file": "tuning.json",
        "settings_from": "hand-chosen; scored in the search's head-to-head as 'shipped'",
        "shipped_val_accuracy": report["head_to_head"]["shipped"]["val_accuracy"],
        "best_trial": report["best"]["trial"],
        "best_val_accuracy": report["head_to_head"]["best"]["val_accuracy"],
        "verdict": report["verdict"],
    }
    write_json(card_path, card)


def _trial_record(trial: keras_tuner.engine.trial.Trial, costs: dict[str, dict]) -> dict:
    settings = AnnSettings.from_hp(trial.hyperparameters.copy())  # fills in what a trial never set
    score = trial.score
    return {
        "trial": trial.trial_id,
        "hyperparameters": {**asdict(settings), "units": list(settings.units)},
        "val_accuracy": None if score is None else round(float(score), 5),
        "parameters": build_ann(settings.units, settings.dropout).count_params(),
        **costs.get(trial.trial_id, {"seconds": None, "epochs": None}),
    }


def _settings(record: dict) -> AnnSettings:
    """A trial's settings as `_trial_record` wrote them."""
    return AnnSettings(**{**record, "units": tuple(record["units"])})


def _score_settings(settings: AnnSettings, x_train, y_train, x_val, y_val, config: TuneConfig) -> dict:  # noqa: ANN001
    keras.utils.set_random_seed(config.seed)
    model = settings.build()
    began = time.perf_counter()
    history = model.fit(
        x_train,
        y_train,
        batch_size=settings.batch_size,
        epochs=config.max_epochs,
        validation_data=(x_val, y_val),
        verbose=0,
    )
    return {
        "val_accuracy": round(max(history.history["val_accuracy"]), 5),
        "parameters": model.count_params(),
        "epochs": config.max_epochs,
        "seconds": round(time.perf_counter() - began, 1),
    }


def _verdict(best: dict, shipped: dict, margin: float) -> str:
    gain = best["val_accuracy"] - shipped["val_accuracy"]
    if gain > margin:
        return f"the best trial beats the shipped settings by {gain:.2%} on validation: retrain the ANN with it"
    return f"the shipped settings hold (the best trial differs by {gain:+.2%}, within the {margin:.2%} margin)"
