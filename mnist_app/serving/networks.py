"""The model architectures: one function per family, all (batch, 28, 28, 1) -> (batch, 10) softmax."""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers, ops

from mnist_app.config import INK_LEVELS, SOFT_INK

INPUT_SHAPE = (28, 28, 1)  # float32 in [0, 1], white digit on black


def build_cnn() -> keras.Model:
    """Two conv blocks with batch norm, a third conv, then a small dense head (~20 M multiply-adds)."""

    def conv(filters: int, padding: str = "same") -> list[keras.Layer]:
        # Bias is redundant before batch norm.
        return [
            layers.Conv2D(filters, 3, padding=padding, use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
        ]

    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            *conv(32),
            *conv(32),
            layers.MaxPooling2D(),  # 14x14x32
            layers.Dropout(0.1),
            *conv(64),
            *conv(64),
            layers.MaxPooling2D(),  # 7x7x64
            layers.Dropout(0.1),
            *conv(128, padding="valid"),  # 5x5x128
            layers.Flatten(),
            layers.Dropout(0.4),
            layers.Dense(128, use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Dropout(0.4),
            layers.Dense(10, activation="softmax"),
        ],
        name="cnn",
    )


ANN_UNITS = (768, 512)  # hidden layers of the shipped ANN (hand-chosen; see models/tuning.json)
ANN_DROPOUT = 0.3


def build_ann(units: tuple[int, ...] = ANN_UNITS, dropout: float = ANN_DROPOUT) -> keras.Model:
    """A dense feed-forward network: 784 -> 768 -> 512 -> 10, with dropout (the search varies both)."""
    hidden = []
    for width in units:
        hidden += [layers.Dense(width, activation="relu"), layers.Dropout(dropout)]
    return keras.Sequential(
        [keras.Input(INPUT_SHAPE), layers.Flatten(), *hidden, layers.Dense(10, activation="softmax")], name="ann"
    )


def build_rnn() -> keras.Model:
    """An LSTM that reads the image one row (28 pixels) at a time."""
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            layers.Reshape((28, 28)),  # 28 time steps of 28 features
            layers.LSTM(128),
            layers.Dense(10, activation="softmax"),
        ],
        name="rnn",
    )


def build_logreg() -> keras.Model:
    """Multinomial logistic regression: one softmax layer on the 784 pixels."""
    return keras.Sequential(
        [keras.Input(INPUT_SHAPE), layers.Flatten(), layers.Dense(10, activation="softmax")],
        name="logreg",
    )


def ensemble(members: list[keras.Model], name: str, soft_experts: list[keras.Model] = ()) -> keras.Model:
    """One model that averages its members' probabilities (a single member is returned as it is).

    With soft experts, images whose ink is mostly mid-grey (blurred, low-resolution) get the
    experts' average instead: `SoftInkRouter` picks per image, so one file holds both."""
    if len(members) == 1 and not soft_experts:
        return members[0]
    inputs = keras.Input(INPUT_SHAPE)
    general = _average(inputs, members, f"{name}_member")
    if not soft_experts:
        return keras.Model(inputs, general, name=name)
    experts = _average(inputs, soft_experts, f"{name}_soft_expert")
    return keras.Model(inputs, SoftInkRouter(name="soft_ink_router")([inputs, general, experts]), name=name)


def _average(inputs: keras.KerasTensor, networks: list[keras.Model], prefix: str) -> keras.KerasTensor:
    named = [keras.Model(n.inputs, n.outputs[0], name=f"{prefix}_{i}") for i, n in enumerate(networks)]
    outputs = [network(inputs) for network in named]
    return outputs[0] if len(outputs) == 1 else layers.Average()(outputs)


def ensemble_members(model: keras.Model) -> list[keras.Model]:
    """The networks an ensemble averages for ordinary ink; a plain network is its own only member."""
    networks = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return [n for n in networks if "_soft_expert_" not in n.name] or [model]


def soft_experts(model: keras.Model) -> list[keras.Model]:
    """The networks that read soft ink instead of the members ([] when the model has none)."""
    return [layer for layer in model.layers if isinstance(layer, keras.Model) and "_soft_expert_" in layer.name]


def answering_networks(model: keras.Model, soft: bool) -> list[keras.Model]:
    """The networks whose average answers an image. With soft-ink experts: the experts for soft ink,
    else the members, so that one image runs one branch only (as `serving.predictor` does); without: the model."""
    experts = soft_experts(model)
    if not experts:
        return [model]
    return experts if soft else ensemble_members(model)


def averaged_forward(networks: list[keras.Model]) -> Callable[[keras.KerasTensor], keras.KerasTensor]:
    """Probabilities: the mean of the networks' outputs (a single network's own)."""
    if len(networks) == 1:
        return lambda x: networks[0](x, training=False)
    return lambda x: ops.mean(ops.stack([network(x, training=False) for network in networks]), axis=0)


def _soft_share_exceeded(flat: keras.KerasTensor) -> keras.KerasTensor:
    """Per row of (n, pixels) ink in [0, 1]: is more than SOFT_INK of its ink mid-grey? (as `reading.preprocess.soft_rows`)"""
    low, high = INK_LEVELS
    inked = ops.sum(ops.cast(flat > low, "float32"), axis=1)
    mid = ops.sum(ops.cast((flat > low) & (flat < high), "float32"), axis=1)
    return (inked > 0) & (mid > SOFT_INK * inked)


@keras.saving.register_keras_serializable(package="mnist_app")
class SoftInkRouter(layers.Layer):
    """[images, general probabilities, expert probabilities] -> the experts' row where the image's ink is soft."""

    def call(self, inputs: list) -> keras.KerasTensor:
        images, general, experts = inputs
        soft = _soft_share_exceeded(ops.reshape(images, (ops.shape(images)[0], -1)))
        return ops.where(soft[:, None], experts, general)

    def compute_output_shape(self, input_shape: list) -> tuple:
        return input_shape[1]


BUILDERS: dict[str, Callable[[], keras.Model]] = {
    "cnn": build_cnn,
    "ann": build_ann,
    "rnn": build_rnn,
    "logreg": build_logreg,
}
