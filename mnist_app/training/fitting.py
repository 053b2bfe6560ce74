"""Fit one network: its optimizer and schedule, the device strategy, and the best epoch's weights."""

from __future__ import annotations

import contextlib
import datetime
import time

import keras
import numpy as np
import tensorflow as tf

from mnist_app.serving.networks import BUILDERS
from mnist_app.training.data import TrainingError, batches
from mnist_app.training.recipes import ModelSpec, TrainConfig
from mnist_app.training.starting_points import plain_copy


def fit_network(
    name: str,
    config: TrainConfig,
    data: dict[str, np.ndarray],
    spec: ModelSpec,
    seed: int,
    start: keras.Model | None,
    degraded: np.ndarray | None = None,
    validation: np.ndarray | None = None,
    label: str = "",
) -> tuple[keras.Model, dict]:
    """Train one network with its own seed (initialisation, shuffling, augmentation), from `start`
    if given. `degraded` holds one copy per training image for `spec.degraded_share` of each batch;
    `validation` replaces the validation images that choose the best epoch; `label` names it in the log."""
    keras.utils.set_random_seed(seed)
    label = label or f"{name} (seed {seed})"
    train_ds = batches(data["x_train"], data["y_train"], spec, seed, train=True, degraded=degraded)
    val_ds = batches(data["x_val"] if validation is None else validation, data["y_val"], spec, seed, train=False)
    steps = int(np.ceil(len(data["x_train"]) / spec.batch_size))
    strategy = _strategy(config)
    print(f"{label}: training on {strategy.num_replicas_in_sync} replica(s) ({config.strategy} strategy)")
    with strategy.scope():
        model = BUILDERS[name]()
        if start is not None:
            model.set_weights(start.get_weights())
        _compile(model, spec, steps, eager=config.quick)
    best = _BestWeights()
    started = time.perf_counter()
    # shuffle=False: `batches` shuffles the dataset itself (Keras ignores, and warns about, shuffle=True here)
    history = model.fit(
        train_ds, validation_data=val_ds, epochs=spec.epochs, callbacks=[best], verbose=2, shuffle=False
    )
    train_seconds = time.perf_counter() - started
    print(
        f"{label}: trained in {train_seconds:.0f} s, best validation accuracy "
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


def _compile(model: keras.Model, spec: ModelSpec, steps_per_epoch: int, eager: bool = False) -> None:
    """Adam with weight decay, one warm-up epoch, then cosine decay of the learning rate. `eager`: for a
    quick run's handful of steps, which take less time than tracing the training step would."""
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
        run_eagerly=eager,
    )


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
