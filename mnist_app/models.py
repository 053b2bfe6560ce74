"""The model architectures: one function per family, all (batch, 28, 28, 1) -> (batch, 10) softmax."""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers

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
    return keras.Sequential([keras.Input(INPUT_SHAPE), layers.Flatten(), *hidden, layers.Dense(10, activation="softmax")],
                            name="ann")  # fmt: skip


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


def ensemble(members: list[keras.Model], name: str) -> keras.Model:
    """One model that averages its members' probabilities (a single member is returned as it is)."""
    if len(members) == 1:
        return members[0]
    inputs = keras.Input(INPUT_SHAPE)
    named = [keras.Model(m.inputs, m.outputs[0], name=f"{name}_member_{i}") for i, m in enumerate(members)]
    return keras.Model(inputs, layers.Average()([member(inputs) for member in named]), name=name)


def ensemble_members(model: keras.Model) -> list[keras.Model]:
    """The networks an ensemble averages; a plain network is its own only member."""
    return [layer for layer in model.layers if isinstance(layer, keras.Model)] or [model]


BUILDERS: dict[str, Callable[[], keras.Model]] = {
    "cnn": build_cnn,
    "ann": build_ann,
    "rnn": build_rnn,
    "logreg": build_logreg,
}
