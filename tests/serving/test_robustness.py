"""Degraded MNIST *test* digits (low resolution, blur, marker photos) are read well, and confidence is calibrated."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mnist_app.training.calibration import expected_calibration_error
from tools.reports.robustness import TARGETS, TARGETS_OUT, degraded_inputs, model_sha256, target_answers

SAMPLES = 500  # per set: enough for a 1-point resolution, quick enough for every `make test`


# Regression guards about a point under what the shipped CNN reads on these 500 images (seed 11;
# docs/results.md has 1,000 per set). The issue's tightest targets, 8-px digits and blur, are checked on
# every test digit below instead.
@pytest.mark.slow
@pytest.mark.parametrize(
    "name, bound",
    [
        ("low12", 0.98),
        ("low16", 0.98),
        ("blur3", 0.95),
        ("marker", 0.97),
        ("small_scan", 0.97),
    ],
)
def test_cnn_reads_degraded_digits(shipped, test_set, name, bound):
    images, labels = degraded_inputs(name, *test_set, samples=SAMPLES, seed=11)
    accuracy = float(np.mean(shipped["cnn"].predict_batch(images).argmax(1) == labels))
    print(f"CNN on {SAMPLES} test digits, {name}: {accuracy:.1%}")
    assert accuracy >= bound


RECHECKED = 300  # test digits per target set degraded and read again, to check the recorded answers


@pytest.mark.slow
@pytest.mark.parametrize("name", ["low8", "blur"])
def test_the_issue_targets_on_every_test_digit(shipped, test_set, name):
    """Issue 11: 97 % on 8-px digits, 98 % on blur of sigma 0.5-3, on all 10,000 test digits (docs/results.md).
    These two have margins under a point; the 12- and 16-px guards above already sit over 97 %."""
    x_test, y_test = test_set
    answers = recorded_answers(shipped["cnn"], x_test, name)
    if answers is None:
        answers = target_answers(shipped["cnn"], name, x_test, np.arange(len(y_test))).argmax(1)
    accuracy = float(np.mean(answers == y_test))
    print(f"CNN on every test digit, {name}: {accuracy:.2%}")
    assert accuracy >= TARGETS[name], accuracy


@pytest.mark.parametrize("model", ["cnn", "ann"])
def test_calibrated_confidence_on_the_test_set(shipped, test_set, test_predictions, model):
    _, y_test = test_set
    probabilities = test_predictions[model]
    ece = expected_calibration_error(probabilities, y_test)
    print(f"{model}: ECE {ece:.2%} with temperature {shipped[model].temperature:.3f}")
    assert shipped[model].card["calibration"]["temperature"] == pytest.approx(shipped[model].temperature)
    assert ece <= 0.01


def recorded_answers(cnn, x_test: np.ndarray, name: str, path: Path = TARGETS_OUT) -> np.ndarray | None:
    """The CNN's answers to every test digit of set `name`, as `python -m tools.reports.robustness` recorded them,
    if the record is of this CNN and a random sample, degraded and read again, gives the same answers;
    else None, and the test reads all 10,000 itself."""
    record = json.loads(path.read_text()) if path.exists() else {}
    if record.get("cnn_sha256") != model_sha256(cnn.path) or name not in record:
        print(f"{path.name} is not of this CNN: reading every test digit")
        return None
    answers = np.array([int(digit) for digit in record[name]["cnn_answers"]])
    sample = np.random.default_rng().choice(len(answers), RECHECKED, replace=False)
    probabilities = target_answers(cnn, name, x_test, sample)
    top_two = np.sort(probabilities, axis=1)[:, -2:]
    near_tie = top_two[:, 1] - top_two[:, 0] < 1e-4  # may flip with the batch's arithmetic
    changed = sample[(probabilities.argmax(1) != answers[sample]) & ~near_tie]
    if len(changed):
        print(f"test digits {sorted(changed)} are read otherwise than {path.name} says: re-record it")
        return None
    return answers


@pytest.mark.slow
def test_a_record_that_the_cnn_does_not_give_is_not_trusted(shipped, test_set, tmp_path):
    record = json.loads(TARGETS_OUT.read_text())
    assert recorded_answers(shipped["cnn"], test_set[0], "low8") is not None
    record["low8"]["cnn_answers"] = "".join(str((int(d) + 1) % 10) for d in record["low8"]["cnn_answers"])
    tampered = tmp_path / "targets.json"
    tampered.write_text(json.dumps(record))
    assert recorded_answers(shipped["cnn"], test_set[0], "low8", tampered) is None
    tampered.write_text(json.dumps(record | {"cnn_sha256": "0" * 64}))
    assert recorded_answers(shipped["cnn"], test_set[0], "blur", tampered) is None
