"""train.py's other options: reproducible runs, two logical CPUs, the string reader, the search, interruptions, and bad input refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from mnist_app.serving.registry import load_predictor
from mnist_app.training.recipes import TrainConfig
from mnist_app.training.run import run
from tests.support import TRAIN, train_cli

pytestmark = pytest.mark.slow  # trains through train.py (make check leaves these to make test)


def test_fine_tune_refuses_keep_members(tmp_path, capsys):
    result = train_cli(["--quick", "--models", "cnn", "--fine-tune", "--keep-members", "--out", str(tmp_path)], capsys)
    assert result.returncode == 2 and "--keep-members" in result.stderr and "Traceback" not in result.stderr


def test_same_seed_same_weights(tmp_path):
    first = run(TrainConfig(models=("ann",), quick=True, out_dir=tmp_path / "a", seed=7))
    second = run(TrainConfig(models=("ann",), quick=True, out_dir=tmp_path / "b", seed=7))
    weights_a = load_predictor("ann", tmp_path / "a").model.get_weights()
    weights_b = load_predictor("ann", tmp_path / "b").model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(weights_a, weights_b, strict=True))
    assert first[0]["history"] == second[0]["history"]


def test_mirrored_strategy_trains_on_two_logical_cpus(tmp_path):
    result = subprocess.run(
        [*TRAIN, "--quick", "--models", "logreg", "--strategy", "mirrored", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    card = json.loads((tmp_path / "logreg.json").read_text())
    assert card["strategy"] == "mirrored" and card["replicas"] == 2
    assert "training on 2 replica(s)" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--models", "svm"], "--models takes names"),
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--batch-size", "-3"], "--batch-size must be at least 1"),
        (["--degraded-share", "1.5"], "--degraded-share must be between 0 and 1"),
        (["--strategy", "tpu"], "invalid choice"),
        (["--quick", "--models", "cnn", "--keep-experts"], "use it with --fine-tune"),
        (["--quick", "--models", "forest", "--fine-tune"], "the forest is retrained from scratch"),
        (["--quick", "--models", "cnn,ann", "--feature-check-only"], "use it alone, with --models cnn"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(args, message, capsys):
    result = train_cli(args, capsys)
    assert result.returncode == 2 and message in result.stderr


def test_quick_string_reader_run_writes_both_loadable_readers_and_their_cards(tmp_path):
    from mnist_app.serving.string_reader import (
        CARD_FILE,
        MODEL_FILE,
        TYPEFACE_CARD_FILE,
        TYPEFACE_MODEL_FILE,
        load_string_reader,
    )

    run(TrainConfig(models=("strings", "strings_typefaces"), quick=True, out_dir=tmp_path))
    first, second = (json.loads((tmp_path / name).read_text()) for name in (CARD_FILE, TYPEFACE_CARD_FILE))
    for card, file in ((first, MODEL_FILE), (second, TYPEFACE_MODEL_FILE)):
        assert card["parameters"] == load_string_reader(tmp_path, file).count_params() and len(card["epochs"]) == 1
        assert 0 <= card["test_strips_exact"] <= 1 and card["validation_strips"] > 0
    assert first["typefaces"]["digits"] == 0 and first["gaps"] == [-4, 2]
    assert second["typefaces"]["digits"] > 0 and second["gaps"] == [-6, 2]
    assert not set(second["typefaces"]["families"]) & set(second["typefaces"]["held_out"])

    run(TrainConfig(models=("strings_typefaces",), quick=True, out_dir=tmp_path, fine_tune=True))
    tuned = json.loads((tmp_path / TYPEFACE_CARD_FILE).read_text())
    assert tuned["fine_tuned"]["from"]["trained_at"] == second["trained_at"] and len(tuned["epochs"]) == 2
    assert load_string_reader(tmp_path, TYPEFACE_MODEL_FILE).count_params() == second["parameters"]
    assert json.loads((tmp_path / CARD_FILE).read_text()) == first  # the other reader is left as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [CARD_FILE, MODEL_FILE, TYPEFACE_CARD_FILE, TYPEFACE_MODEL_FILE]
    )  # no digit check, no browser export


def test_unwritable_output_directory(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    result = train_cli(["--quick", "--out", str(blocker / "models")], capsys)
    assert result.returncode == 2 and "cannot write to the output directory" in result.stderr


def test_interrupted_training_leaves_no_half_written_model(tmp_path):
    out = tmp_path / "models"
    process = subprocess.Popen(
        [*TRAIN, "--models", "cnn", "--epochs", "3", "--no-styles", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # A shell that starts a job in the background ignores SIGINT for it, and the ignore is
        # inherited: give the child the default, so Ctrl-C works as it does in a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    for line in process.stdout:  # the CNN's turn has come: its training data is being made, then fitted
        if "=== cnn" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # as a user would: press Ctrl-C once more
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=180)
    assert process.returncode == 130, output[-2000:]
    assert "interrupted" in output
    leftovers = [p.name for p in Path(out).iterdir()] if out.exists() else []
    assert not [name for name in leftovers if name.startswith((".", "cnn"))], leftovers  # no model, no temp file


@pytest.mark.parametrize("content", [b"junk", None], ids=["not an npz", "no such file"])
def test_fine_tune_refuses_bad_extra_data(tmp_path, content, capsys):
    path = tmp_path / "room.npz"
    if content is not None:
        path.write_bytes(content)
    result = train_cli(["--quick", "--models", "logreg", "--out", str(tmp_path), "--extra-data", str(path)], capsys)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "room.npz" in result.stderr


def test_quick_hyperparameter_search_records_every_trial(tmp_path, capsys):
    """`train.py --tune ann --quick`: a tiny KerasTuner search; every trial recorded, the shipped settings scored too."""
    result = train_cli(["--tune", "ann", "--quick", "--out", str(tmp_path)], capsys)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "tuning.json").read_text())
    assert report["trials"] and report["best"] in report["trials"]
    for trial in report["trials"]:
        settings = trial["hyperparameters"]
        assert 1 <= len(settings["units"]) <= 3 and all(64 <= u <= 1024 for u in settings["units"])
        assert 0 <= settings["dropout"] <= 0.5 and settings["batch_size"] in (64, 128, 256)
        assert 0 < trial["val_accuracy"] <= 1 and trial["parameters"] > 0 and trial["epochs"] >= 1
        assert trial["seconds"] > 0
    assert set(report["head_to_head"]) == {"best", "shipped"} and report["verdict"]
    assert not list(tmp_path.glob("*.keras")), "a search ships no model by itself"


@pytest.mark.parametrize(
    "options, message",
    [
        (["--models", "cnn", "--experts-only", "--fine-tune"], "--experts-only keeps every network"),
        (["--models", "logreg", "--experts-only"], "recipe of logreg has no soft-ink experts"),
    ],
)
def test_experts_only_refuses_what_it_cannot_do(tmp_path, options, message, capsys):
    result = train_cli(["--quick", *options, "--out", str(tmp_path)], capsys)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
