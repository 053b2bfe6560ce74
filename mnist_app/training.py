"""Train, evaluate and save the models: `run(config)` writes models/<name>.keras and <name>.json."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mnist_app import calibration, inference, typicality
from mnist_app.config import ModelSpec, TrainConfig, TuneConfig
from mnist_app.evaluation import comparison_table, evaluate, measure_latency_ms, model_summary, to_model_input
from mnist_app.models import BUILDERS, ensemble
from mnist_app.starting_points import continued_card, kept_members, plain_copy, previous_card, starting_members
from mnist_app.training_data import (
    TrainingError,
    add_extra_drawings,
    batches,
    data_card,
    degraded_training_copies,
    prepare_data,
)

__all__ = ["TrainingError", "run", "write_json_atomic"]  # TrainingError: what train.py catches


def run(config: TrainConfig) -> list[dict]:
    """Train every model named in `config`, write it and its card, and return the cards."""
    unknown = [name for name in config.models if name not in (*BUILDERS, "forest")]
    if unknown:
        raise TrainingError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(BUILDERS)}, forest")
    if config.fine_tuning and "forest" in config.models:
        raise TrainingError(
            "fine-tuning applies to networks; the forest is retrained from scratch with --models forest"
        )
    if config.fine_tuning and config.keep_members:
        raise TrainingError("--keep-members trains missing networks from scratch; fine-tuning continues all of them")
    out_dir = _writable_dir(Path(config.out_dir))
    if config.strategy == "mirrored":
        use_two_logical_cpus()
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    networks = [name for name in config.models if name != "forest"]
    kept = {name: kept_members(name, config, config.spec(name), out_dir) for name in networks}  # checked early
    data = prepare_data(config)
    if config.tune:
        from mnist_app.tuning import search  # KerasTuner: imported only for a search

        report = search(
            data, TuneConfig(train_subset=1000, max_epochs=2, iterations=1) if config.quick else TuneConfig(), out_dir
        )
        print(f"{len(report['trials'])} trials in {report['search_seconds']:.0f} s; best {report['best']}; "
              f"{report['verdict']}")  # fmt: skip
        return []
    if config.extra_data:
        add_extra_drawings(data, config)
    if not config.fine_tuning:  # fine-tuning: the shipped digit space stays as it is
        space = typicality.fit(data["x_train"], data["x_val"], data["y_train"], data["y_val"], seed=config.seed)
        print(f"digit space: threshold {space.threshold:.2f}, written to {typicality.save(space, out_dir)}")
    cards = []
    for name in config.models:
        cards.append(
            train_forest_card(config, data, out_dir)
            if name == "forest"
            else train_model(name, config, data, out_dir, kept[name])
        )
    print(comparison_table(cards))
    return cards


def use_two_logical_cpus() -> None:
    """Split the CPU into two logical devices, so MirroredStrategy has two replicas to mirror."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    # RuntimeError: devices were initialised already (a second run in one process); keep them.
    with contextlib.suppress(RuntimeError):
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
        )


def _strategy(config: TrainConfig) -> tf.distribute.Strategy:
    if config.strategy == "mirrored":
        cpus = [device.name for device in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=cpus[:2])
    if config.strategy == "default":
        return tf.distribute.get_strategy()
    raise TrainingError(f"unknown strategy {config.strategy!r}; use 'default' or 'mirrored'")


def _writable_dir(path: Path) -> Path:
    """The output directory, created if needed; fail early (before training) if it is not writable."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as error:
        raise TrainingError(f"cannot write to the output directory {path}: {error}") from error
    return path


class _BestWeights(keras.callbacks.Callback):
    """Keep the weights of the epoch with the best validation accuracy (later epochs win ties)."""

    def __init__(self) -> None:
        super().__init__()
        self.best_accuracy, self.best_epoch, self.best_weights = -1.0, -1, None
        self.epoch_seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch_seconds.append(time.perf_counter() - self._started)
        accuracy = float((logs or {}).get("val_accuracy", 0.0))
        if accuracy >= self.best_accuracy:
            self.best_accuracy, self.best_epoch = accuracy, epoch
            self.best_weights = self.model.get_weights()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def _compile(model: keras.Model, spec: ModelSpec, steps_per_epoch: int) -> None:
    """Adam with weight decay, one warm-up epoch, then cosine decay of the learning rate."""
    total = max(1, spec.epochs * steps_per_epoch)
    warmup = min(steps_per_epoch, total // 2)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=spec.learning_rate / 10,
        decay_steps=max(1, total - warmup),
        alpha=0.01,
        warmup_target=spec.learning_rate,
        warmup_steps=warmup,
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def train_model(
    name: str, config: TrainConfig, data: dict[str, np.ndarray], out_dir: Path, kept: tuple[list, list[dict]]
) -> dict:
    """Train one model (each member of an ensemble not `kept`), evaluate it once on the test set, write it and its card."""
    spec = config.spec(name)
    print(f"\n=== {name}: {spec.epochs} epochs, batch {spec.batch_size}, augment={spec.augment}, "
          f"{spec.members} member(s) ===", flush=True)  # fmt: skip
    members, records = kept
    starts = starting_members(name, config, out_dir, spec.members)
    previous = previous_card(out_dir / f"{name}.json") if config.fine_tuning else None
    for index in range(len(members), spec.members):
        member, record = _train_member(name, config, data, spec, config.seed + index, starts[index])
        members.append(member)
        records.append(record)
    shipped = ensemble(members, name)
    path = out_dir / f"{name}.keras"
    with _atomic_path(path) as tmp:
        shipped.save(tmp)
    predictor = inference.Predictor(name, shipped, path=path)
    first = records[0]
    card = {
        "name": name,
        "architecture": model_summary(members[0]),
        "parameters": shipped.count_params(),
        "file_bytes": path.stat().st_size,
        "hyperparameters": {**asdict(spec), "optimizer": "AdamW, weight decay 1e-4, cosine schedule"},
        "seed": config.seed,
        "quick": config.quick,
        "strategy": config.strategy,
        "replicas": first["replicas"],
        "data": data_card(data),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "history": first["history"],
        "epoch_seconds": first["epoch_seconds"],
        "best_epoch": first["best_epoch"],
        "train_seconds": sum(record["train_seconds"] for record in records),
        **({"members": _member_cards(name, members, records, data)} if len(members) > 1 else {}),
        **evaluate(predictor, data["x_test"], data["y_test"]),
        "latency_ms": measure_latency_ms(predictor),
        "calibration": calibration.calibrate_card(
            predictor, to_model_input(data["x_val"]), data["y_val"], to_model_input(data["x_test"]), data["y_test"]
        ),
    }
    if previous is not None:
        card = continued_card(card, previous, data.get("extra", {}))
    write_json_atomic(path.with_suffix(".json"), card)
    return card


def _train_member(
    name: str, config: TrainConfig, data: dict[str, np.ndarray], spec: ModelSpec, seed: int, start: keras.Model | None
) -> tuple[keras.Model, dict]:
    """Train one network with its own seed (initialisation, shuffling, augmentation, degraded copies)."""
    keras.utils.set_random_seed(seed)
    degraded = degraded_training_copies(data, seed) if spec.degraded_share > 0 else None
    train_ds = batches(data["x_train"], data["y_train"], spec, seed, train=True, degraded=degraded)
    val_ds = batches(data["x_val"], data["y_val"], spec, seed, train=False)
    steps = int(np.ceil(len(data["x_train"]) / spec.batch_size))
    strategy = _strategy(config)
    print(f"{name} (seed {seed}): training on {strategy.num_replicas_in_sync} replica(s) ({config.strategy} strategy)")
    with strategy.scope():
        model = BUILDERS[name]()
        if start is not None:
            model.set_weights(start.get_weights())
        _compile(model, spec, steps)
    best = _BestWeights()
    started = time.perf_counter()
    history = model.fit(train_ds, validation_data=val_ds, epochs=spec.epochs, callbacks=[best], verbose=2)
    train_seconds = time.perf_counter() - started
    print(
        f"{name} (seed {seed}): trained in {train_seconds:.0f} s, best validation accuracy "
        f"{best.best_accuracy:.4f} (epoch {best.best_epoch + 1})",
        flush=True,
    )
    return plain_copy(name, model), {
        "seed": seed,
        "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "history": {key: [float(v) for v in values] for key, values in history.history.items()},
        "epoch_seconds": best.epoch_seconds,
        "best_epoch": best.best_epoch + 1,
        "train_seconds": train_seconds,
        "replicas": strategy.num_replicas_in_sync,
    }


def _member_cards(name: str, members: list[keras.Model], records: list[dict], data: dict[str, np.ndarray]) -> list:
    """Each member's record with its own test accuracy, to show what averaging gains."""
    cards = []
    for member, record in zip(members, records, strict=True):
        alone = inference.Predictor(name, member).predict_batch(to_model_input(data["x_test"]), calibrated=False)
        cards.append({**record, "test_accuracy": float(np.mean(alone.argmax(1) == data["y_test"]))})
    return cards


def train_forest_card(config: TrainConfig, data: dict[str, np.ndarray], out_dir: Path) -> dict:
    """The random forest, with a card holding the same fields as the networks' cards."""
    from mnist_app.forest import train_forest  # YDF: imported only when the forest is trained

    print("\n=== forest: YDF random forest ===", flush=True)
    predictor, trained = train_forest(data, config.seed, out_dir, quick=config.quick)
    print(f"forest: trained in {trained['train_seconds']:.0f} s, {trained['file_bytes'] / 1e6:.1f} MB", flush=True)
    card = {
        "name": "forest",
        "architecture": f"YDF random forest: {trained['hyperparameters']['trees']} trees, depth <= "
        f"{trained['hyperparameters']['max_depth']}, {trained['nodes']:,} nodes",
        **trained,
        "seed": config.seed,
        "quick": config.quick,
        "data": data_card(data),
        "versions": {"ydf": trained["hyperparameters"]["library"].split()[-1]},
        "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "epoch_seconds": [],
        **evaluate(predictor, data["x_test"], data["y_test"]),
        "latency_ms": measure_latency_ms(predictor),
        "calibration": calibration.calibrate_card(
            predictor, to_model_input(data["x_val"]), data["y_val"], to_model_input(data["x_test"]), data["y_test"]
        ),
    }
    write_json_atomic(out_dir / "forest.json", card)
    return card


@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` that replaces it only if the block finishes."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(fd)
    os.unlink(tmp)  # Keras wants to create the file itself
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json_atomic(path: Path, content: dict) -> None:
    """Write JSON so that readers see the old file or the new one, never half of one."""
    with _atomic_path(path) as tmp:
        tmp.write_text(json.dumps(content, indent=1) + "\n")
