"""Confidence that means what it says: temperature scaling, calibration error, the "not sure" line.

A network's top probability is not the chance that it is right; trained networks are usually
over- or under-confident. Temperature scaling (Guo et al., 2017) divides the log-probabilities by
one number T per model, fitted on the validation split, which changes no answer, only how sure
each answer claims to be. `python -m mnist_app.training.calibration` fits T for the shipped models and
writes it, with the calibration errors before and after, into their cards.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar

from mnist_app.atomic_files import write_json
from mnist_app.config import MODELS_DIR, SHOWN_MODELS
from mnist_app.serving.calibration import apply_temperature

BINS = 15  # the usual number of equal-width confidence bins for the expected calibration error
TEMPERATURE_RANGE = (0.05, 20.0)  # searched on a log scale
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)  # candidate "not sure" levels, reported in the card


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    picked = np.asarray(probabilities)[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(picked, 1e-30, 1.0))))


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature with the lowest negative log-likelihood, searched on log T (Brent's bounded method:
    the same minimum as a refined grid, in a tenth of the evaluations)."""
    found = minimize_scalar(
        lambda log_t: negative_log_likelihood(apply_temperature(probabilities, np.exp(log_t)), labels),
        bounds=np.log(TEMPERATURE_RANGE),
        method="bounded",
        options={"xatol": 1e-5},
    )
    return float(np.exp(found.x))


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> dict[str, list]:
    """Per confidence bin: mean confidence, accuracy and count (the reliability diagram's data)."""
    confidence = np.asarray(probabilities).max(axis=1)
    correct = np.asarray(probabilities).argmax(axis=1) == labels
    # Bin i holds confidences in (i/bins, (i+1)/bins]; the top probability is always > 1/10.
    index = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    conf_sum = np.bincount(index, weights=confidence, minlength=bins)
    right_sum = np.bincount(index, weights=correct.astype(float), minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(counts > 0, conf_sum / np.maximum(counts, 1), np.nan)
        accuracy = np.where(counts > 0, right_sum / np.maximum(counts, 1), np.nan)
    return {
        "confidence": [None if np.isnan(v) else round(float(v), 5) for v in mean_conf],
        "accuracy": [None if np.isnan(v) else round(float(v), 5) for v in accuracy],
        "count": counts.astype(int).tolist(),
    }


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """Average gap between confidence and accuracy over the bins, weighted by how full they are."""
    table = reliability(probabilities, labels, bins)
    total = sum(table["count"])
    gaps = [
        count * abs(conf - acc)
        for conf, acc, count in zip(table["confidence"], table["accuracy"], table["count"], strict=True)
        if count
    ]
    return float(sum(gaps) / max(total, 1))


def threshold_effect(probabilities: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """What a "not sure" line at `threshold` does: wrong answers it catches, right ones it flags."""
    confidence = np.asarray(probabilities).max(axis=1)
    correct = np.asarray(probabilities).argmax(axis=1) == labels
    below = confidence < threshold
    return {
        "threshold": threshold,
        "wrong_caught": float(below[~correct].mean()) if (~correct).any() else 0.0,
        "right_flagged": float(below[correct].mean()) if correct.any() else 0.0,
    }


def choose_threshold(effects: list[dict], max_right_flagged: float = 0.01) -> float:
    """The highest "not sure" level that flags at most `max_right_flagged` of the right answers."""
    allowed = [e["threshold"] for e in effects if e["right_flagged"] <= max_right_flagged]
    return max(allowed) if allowed else min(e["threshold"] for e in effects)


def calibrate_card(
    predictor: object, x_val: np.ndarray, y_val: np.ndarray, x_test: np.ndarray, y_test: np.ndarray
) -> dict:
    """Fit one model's temperature on validation data; figures before and after on the test set."""
    raw_val = predictor.predict_batch(x_val, calibrated=False)
    raw_test = predictor.predict_batch(x_test, calibrated=False)
    temperature = fit_temperature(raw_val, y_val)
    calibrated_test = apply_temperature(raw_test, temperature)
    calibrated_val = apply_temperature(raw_val, temperature)
    return {
        "temperature": round(temperature, 5),
        "fitted_on": f"validation split ({len(y_val)} images)",
        "ece_test_before": expected_calibration_error(raw_test, y_test),
        "ece_test_after": expected_calibration_error(calibrated_test, y_test),
        "nll_test_before": negative_log_likelihood(raw_test, y_test),
        "nll_test_after": negative_log_likelihood(calibrated_test, y_test),
        "reliability_test_before": reliability(raw_test, y_test),
        "reliability_test_after": reliability(calibrated_test, y_test),
        # What a "not sure" line would do at each level, with calibrated probabilities.
        "not_sure_validation": [threshold_effect(calibrated_val, y_val, t) for t in THRESHOLDS],
        "not_sure_test": [threshold_effect(calibrated_test, y_test, t) for t in THRESHOLDS],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mnist_app.training.calibration",
        description="Fit a temperature per model and store it in its card.",
    )
    parser.add_argument("--models", default=",".join(SHOWN_MODELS), help="comma-separated model names")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--seed", type=int, default=42, help="the training seed (it fixes the validation split)")
    args = parser.parse_args(argv)

    from mnist_app.reading.model_input import model_batch
    from mnist_app.serving.registry import load_predictors
    from mnist_app.training.data import prepare_data
    from mnist_app.training.recipes import TrainConfig

    names = tuple(name.strip() for name in args.models.split(",") if name.strip())
    predictors, problems = load_predictors(args.models_dir, names)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    data = prepare_data(TrainConfig(seed=args.seed))
    x_val, x_test = model_batch(data["x_val"]), model_batch(data["x_test"])
    for name, predictor in predictors.items():
        card = dict(predictor.card)
        card["calibration"] = calibrate_card(predictor, x_val, data["y_val"], x_test, data["y_test"])
        write_json(Path(args.models_dir) / f"{name}.json", card)
        c = card["calibration"]
        print(
            f"{name}: temperature {c['temperature']:.3f}; test ECE {c['ece_test_before']:.2%} -> "
            f"{c['ece_test_after']:.2%}; test NLL {c['nll_test_before']:.4f} -> {c['nll_test_after']:.4f}"
        )
        for effect in c["not_sure_validation"]:
            print(
                f"  not sure below {effect['threshold']:.0%} (validation): catches {effect['wrong_caught']:.0%} "
                f"of wrong answers, flags {effect['right_flagged']:.2%} of right ones"
            )
        print(f"  highest level flagging <= 1 % of right answers: {choose_threshold(c['not_sure_validation']):.0%}")
    return 0 if predictors else 2


if __name__ == "__main__":
    sys.exit(main())
