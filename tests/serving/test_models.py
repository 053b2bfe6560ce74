"""The shipped models: targets met on the full MNIST test set, and cards that tell the truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnist_app.config import MODELS_DIR

TARGETS = {"cnn": 0.9960, "ann": 0.9860, "rnn": 0.9880, "logreg": 0.92}
CARD_FIELDS = {
    "architecture",
    "parameters",
    "file_bytes",
    "hyperparameters",
    "seed",
    "data",
    "versions",
    "trained_at",
    "history",
    "train_seconds",
    "test_accuracy",
    "test_loss",
    "per_class",
    "confusion_matrix",
    "latency_ms",
    "misclassified",
    "epoch_seconds",
}


@pytest.mark.slow  # every MNIST test image
@pytest.mark.parametrize("name", list(TARGETS))
def test_accuracy_target_on_the_full_test_set(test_predictions, test_set, name):
    accuracy = np.mean(test_predictions[name].argmax(1) == test_set[1])
    print(f"{name}: {accuracy:.2%} on the 10,000 MNIST test images")
    assert accuracy >= TARGETS[name]


def trained_epochs(card: dict) -> int:
    """Epochs behind a card's curves: a fine-tuned model's continue the ones it started from."""
    start = card.get("fine_tuned", {}).get("from", {})
    return card["hyperparameters"]["epochs"] + (trained_epochs(start) if "hyperparameters" in start else 0)


@pytest.mark.slow  # every MNIST test image
@pytest.mark.parametrize("name", list(TARGETS))
def test_card_agrees_with_what_is_measured(test_predictions, test_set, shipped, name):
    card = json.loads((MODELS_DIR / f"{name}.json").read_text())
    assert set(card) >= CARD_FIELDS
    assert not card["quick"]
    predicted = test_predictions[name].argmax(1)
    labels = test_set[1]
    assert card["test_accuracy"] == pytest.approx(np.mean(predicted == labels), abs=1e-4)
    wrong = np.flatnonzero(predicted != labels)
    assert len(card["misclassified"]["index"]) == pytest.approx(len(wrong), abs=1)
    confusion = np.array(card["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10000
    assert np.array_equal(confusion.sum(axis=1), np.bincount(labels, minlength=10))
    assert card["parameters"] == shipped[name].model.count_params()
    path = MODELS_DIR / f"{name}.keras"
    # The CNN is four 2.2 MB networks (two members, two soft-ink experts); the others are smaller.
    assert card["file_bytes"] == path.stat().st_size < 10_000_000
    assert len(card["history"]["val_accuracy"]) == trained_epochs(card)
