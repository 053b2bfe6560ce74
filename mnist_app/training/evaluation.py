"""How good a trained model is: test-set metrics for its card, single-image latency, a comparison table."""

from __future__ import annotations

import contextlib
import io
import time

import keras
import numpy as np

from mnist_app.config import CONFIDENCE_THRESHOLD
from mnist_app.reading.model_input import model_batch
from mnist_app.serving.predictor import Predictor


def evaluate(predictor: Predictor, images: np.ndarray, labels: np.ndarray) -> dict:
    """Test accuracy and loss, per-class metrics, confusion matrix, mistakes, confidence statistics."""
    probabilities = predictor.predict_batch(model_batch(images))
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (labels, predicted), 1)
    true_positive = np.diag(confusion).astype(float)
    precision = true_positive / np.maximum(confusion.sum(axis=0), 1)
    recall = true_positive / np.maximum(confusion.sum(axis=1), 1)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities.max(axis=1)
    loss = -np.mean(np.log(np.maximum(probabilities[np.arange(len(labels)), labels], 1e-12)))
    right_confidence, wrong_confidence = confidence[predicted == labels], confidence[wrong]
    return {
        "test_accuracy": float(np.mean(predicted == labels)),
        "test_loss": float(loss),
        "per_class": {
            "precision": precision.round(5).tolist(),
            "recall": recall.round(5).tolist(),
            "f1": f1.round(5).tolist(),
        },
        "confusion_matrix": confusion.tolist(),
        "misclassified": {"index": wrong.tolist(), "predicted": predicted[wrong].tolist()},
        "confidence": {
            "threshold": CONFIDENCE_THRESHOLD,
            "right_below_threshold": float(np.mean(right_confidence < CONFIDENCE_THRESHOLD)),
            "wrong_below_threshold": float(np.mean(wrong_confidence < CONFIDENCE_THRESHOLD)) if len(wrong) else 0.0,
            "wrong_median": float(np.median(wrong_confidence)) if len(wrong) else None,
            "right_p01": float(np.quantile(right_confidence, 0.01)) if len(right_confidence) else None,
        },
    }


def measure_latency_ms(predictor: Predictor, repeats: int = 200) -> float:
    """Median milliseconds of one single-image prediction on the fast path, after warm-up."""
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    for _ in range(20):
        predictor.predict(image)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        predictor.predict(image)
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000)


def model_summary(model: keras.Model) -> str:
    lines: list[str] = []
    with contextlib.redirect_stdout(io.StringIO()):
        model.summary(print_fn=lambda line, **_: lines.append(line))
    return "\n".join(lines)


def comparison_table(cards: list[dict]) -> str:
    """A plain-text table of the trained models, for the terminal."""
    header = f"{'model':<8} {'test acc':>9} {'params':>10} {'size MB':>8} {'train s':>8} {'latency ms':>11}"
    rows = [
        f"{c['name']:<8} {c['test_accuracy'] * 100:>8.2f}% {c['parameters']:>10,} "
        f"{c['file_bytes'] / 1e6:>8.2f} {c['train_seconds']:>8.0f} {c['latency_ms']:>11.2f}"
        for c in cards
    ]
    return "\n".join(["", header, "-" * len(header), *rows])
