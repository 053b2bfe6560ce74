"""train.py: a quick run writes loadable models and honest cards; members, fine-tuning, experts and the browser's weights build on it (the other options: test_training_options.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnist_app.config import MODELS_DIR
from mnist_app.reading.preprocess import is_soft
from mnist_app.serving.model_files import load_model
from mnist_app.serving.networks import BUILDERS, ensemble_members, soft_experts
from mnist_app.serving.registry import load_predictor
from mnist_app.training.recipes import TrainConfig
from mnist_app.training.run import run
from tests.support import train_cli

pytestmark = pytest.mark.slow  # trains through train.py (make check leaves these to make test)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("quick")
    cards = run(TrainConfig(models=("logreg", "cnn"), quick=True, out_dir=out))
    return out, cards


def test_quick_run_writes_loadable_models_and_valid_cards(quick_run, test_set):
    out, cards = quick_run
    assert sorted(p.name for p in out.iterdir()) == [
        "cnn.json",
        "cnn.keras",
        "digit_check.npz",
        "feature_check.npz",
        "logreg.json",
        "logreg.keras",
    ]
    for card in cards:
        saved = json.loads((out / f"{card['name']}.json").read_text())
        assert saved["quick"] is True
        assert saved["data"]["test_images"] == 1000
        assert 0 <= saved["test_accuracy"] <= 1
        assert len(saved["history"]["loss"]) == 1
    # Reloading from disk gives the same predictions as the card measured.
    predictor = load_predictor("cnn", out)
    x_test, y_test = test_set
    accuracy = np.mean(
        predictor.predict_batch(x_test[:1000].astype(np.float32)[..., None] / 255).argmax(1) == y_test[:1000]
    )
    assert accuracy == pytest.approx(cards[1]["test_accuracy"], abs=1e-9)


def test_the_cnn_averages_members_trained_with_their_own_seeds(quick_run, test_set):
    out, cards = quick_run
    assert [member["seed"] for member in cards[1]["members"]] == [42, 43]
    model = load_predictor("cnn", out).model
    members = ensemble_members(model)
    assert len(members) == 2
    assert not np.array_equal(members[0].get_weights()[0], members[1].get_weights()[0])
    x = test_set[0][:64].astype(np.float32)[..., None] / 255
    x = x[[not is_soft(image[:, :, 0]) for image in x]]  # soft ink goes to the experts (the next test)
    assert len(x) >= 60
    averaged = (members[0].predict(x, verbose=0) + members[1].predict(x, verbose=0)) / 2
    assert np.allclose(model.predict(x, verbose=0), averaged, atol=1e-6)


def test_keep_members_trains_only_the_missing_member(quick_run, tmp_path, capsys):
    """A one-network CNN trained by the same recipe becomes member 0; only member 1 (seed 43) is trained."""
    out, cards = quick_run
    first = ensemble_members(load_model(out / "cnn.keras"))[0]
    single = BUILDERS["cnn"]()
    single.set_weights(first.get_weights())
    single.save(tmp_path / "cnn.keras")
    card = {key: value for key, value in cards[1].items() if key != "members"} | {"parameters": single.count_params()}
    (tmp_path / "cnn.json").write_text(json.dumps(card))
    result = train_cli(["--quick", "--models", "cnn", "--keep-members", "--out", str(tmp_path)], capsys)
    assert result.returncode == 0, result.stderr
    assert "keeping 1 trained member(s)" in result.stdout and "cnn (seed 42): training" not in result.stdout
    saved = json.loads((tmp_path / "cnn.json").read_text())
    assert [member["seed"] for member in saved["members"]] == [42, 43]
    assert saved["members"][0]["trained_at"] == card["trained_at"]  # the kept network keeps its record
    kept = ensemble_members(load_model(tmp_path / "cnn.keras"))[0]
    assert all(np.array_equal(a, b) for a, b in zip(kept.get_weights(), first.get_weights(), strict=True))


def test_keep_members_refuses_a_model_trained_otherwise(quick_run, tmp_path, capsys):
    out, _ = quick_run
    for name in ("cnn.keras", "cnn.json"):
        (tmp_path / name).write_bytes((out / name).read_bytes())
    result = train_cli(["--models", "cnn", "--keep-members", "--out", str(tmp_path)], capsys)
    assert result.returncode == 2 and "was trained with other settings" in result.stderr


def test_fine_tune_continues_every_member_and_keeps_the_old_record(quick_run, tmp_path, capsys):
    """--fine-tune: both CNN networks start from their trained weights, and learn the style set's training
    hand with MNIST; the card says what it started from. --keep-experts: the soft-ink experts stay as they were."""
    out, _ = quick_run
    for name in ("cnn.keras", "cnn.json"):
        (tmp_path / name).write_bytes((out / name).read_bytes())
    before = json.loads((tmp_path / "cnn.json").read_text())
    old_model = load_model(tmp_path / "cnn.keras")  # the networks only: no predictor to trace and warm up
    old_members, old_experts = ensemble_members(old_model), soft_experts(old_model)
    args = ["--quick", "--models", "cnn", "--fine-tune", "--keep-experts", "--out", str(tmp_path)]
    result = train_cli(args, capsys)
    assert result.returncode == 0, result.stderr
    assert "style-set drawings (22 forms)" in result.stdout and "keeping its 2 soft-ink expert(s)" in result.stdout
    card = json.loads((tmp_path / "cnn.json").read_text())
    assert card["fine_tuned"]["styles"]["forms"] == 22
    assert card["soft_experts"] == before["soft_experts"]
    members_seconds = sum(member["train_seconds"] for member in card["members"])
    assert card["fine_tuned"]["seconds"] == pytest.approx(members_seconds)  # the kept experts' time counts once
    new_model = load_model(tmp_path / "cnn.keras")
    for old, new in zip(old_experts, soft_experts(new_model), strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(old.get_weights(), new.get_weights(), strict=True))
    assert card["fine_tuned"]["from"]["trained_at"] == before["trained_at"]
    assert card["fine_tuned"]["from"]["test_accuracy"] == before["test_accuracy"]
    assert card["hyperparameters"]["learning_rate"] == pytest.approx(before["hyperparameters"]["learning_rate"] / 10)
    # The curves and the training time continue the old ones.
    assert len(card["history"]["loss"]) == len(before["history"]["loss"]) + 1
    assert card["history"]["loss"][: len(before["history"]["loss"])] == before["history"]["loss"]
    assert card["train_seconds"] > before["train_seconds"]
    new_members = ensemble_members(new_model)
    for old, new in zip(old_members, new_members, strict=True):
        # Moved, but only a little: one quick epoch at a tenth of the rate from the old weights.
        drift = np.abs(new.get_weights()[0] - old.get_weights()[0]).mean() / np.abs(old.get_weights()[0]).mean()
        assert 0 < drift < 0.5


def test_fine_tune_on_exported_drawings_keeps_the_test_set_honest(quick_run, tmp_path, test_set, capsys):
    """--extra-data: start from the trained model, add the drawings to training only, drop leaked test images."""
    from tools.reports.finetune_report import drawings

    out, _ = quick_run
    x_test, y_test = test_set
    drawn_images, drawn_labels = drawings(seed=11)
    images = np.concatenate([drawn_images, x_test[:1]])
    labels = np.concatenate([drawn_labels, y_test[:1].astype(np.uint8)])
    np.savez_compressed(tmp_path / "room.npz", images=images, labels=labels)
    before = json.loads((out / "logreg.json").read_text())
    result = train_cli(
        ["--quick", "--models", "logreg", "--out", str(out), "--extra-data", str(tmp_path / "room.npz")], capsys
    )
    assert result.returncode == 0, result.stderr
    card = json.loads((out / "logreg.json").read_text())
    assert card["fine_tuned"]["drawings"] == len(drawn_labels) and card["fine_tuned"]["dropped_test_images"] == 1
    assert card["data"]["test_images"] == before["data"]["test_images"], "the test set is MNIST's, unchanged"
    assert card["data"]["train_images"] > before["data"]["train_images"]


def test_the_cnn_reads_soft_ink_with_experts_fine_tuned_from_its_members(quick_run):
    out, cards = quick_run
    model = load_predictor("cnn", out).model
    members, experts = ensemble_members(model), soft_experts(model)
    assert len(experts) == 2
    for member, expert in zip(members, experts, strict=True):
        drift = (
            np.abs(expert.get_weights()[0] - member.get_weights()[0]).mean() / np.abs(member.get_weights()[0]).mean()
        )
        assert 0 < drift < 0.5  # moved from its member, not trained from scratch
    section = cards[1]["soft_experts"]
    assert [network["seed"] for network in section["networks"]] == [42, 43]
    assert 0 <= section["soft_validation"]["experts"] <= 1 and 0 <= section["soft_test_images"] <= 1000
    assert cards[1]["train_seconds"] >= section["train_seconds"] > 0


def test_experts_only_keeps_the_members_and_their_card(quick_run, tmp_path, capsys):
    out, _ = quick_run
    for name in ("cnn.keras", "cnn.json"):
        (tmp_path / name).write_bytes((out / name).read_bytes())
    before = json.loads((tmp_path / "cnn.json").read_text())
    old = load_predictor("cnn", tmp_path).model
    result = train_cli(["--quick", "--models", "cnn", "--experts-only", "--out", str(tmp_path)], capsys)
    assert result.returncode == 0, result.stderr
    card = json.loads((tmp_path / "cnn.json").read_text())
    new = load_predictor("cnn", tmp_path).model
    for kept, loaded in zip(ensemble_members(old), ensemble_members(new), strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(kept.get_weights(), loaded.get_weights(), strict=True))
    assert card["trained_at"] == before["trained_at"] and card["history"] == before["history"]
    assert card["soft_experts"]["trained_at"] >= before["soft_experts"]["trained_at"]
    old_seconds, new_seconds = before["soft_experts"]["train_seconds"], card["soft_experts"]["train_seconds"]
    assert card["train_seconds"] == pytest.approx(before["train_seconds"] - old_seconds + new_seconds)
    # the digit checks are the members', kept as they were
    assert not (tmp_path / "digit_check.npz").exists() and not (tmp_path / "feature_check.npz").exists()


def test_training_exports_the_browser_weights_when_both_networks_are_there(quick_run, tmp_path, test_set, capsys):
    from mnist_app.training.run import export_for_browser

    out, _ = quick_run
    data = {"x_test": test_set[0][:200], "y_test": test_set[1][:200]}
    assert export_for_browser(out, data, ("cnn",)) is None  # the quick run trained no ANN
    assert "ann.keras not in" in capsys.readouterr().out
    # The shipped networks: a one-epoch CNN sits so near its decision boundaries that the export's rounding
    # flips some of 200 digits, by how many depending on the thread settings it was trained with.
    for name in ("ann.keras", "ann.json", "cnn.keras", "cnn.json"):
        (tmp_path / name).write_bytes((MODELS_DIR / name).read_bytes())
    assert export_for_browser(tmp_path, data, ("logreg",)) is None  # neither network changed
    folder = export_for_browser(tmp_path, data, ("cnn",))
    assert folder == tmp_path / "live"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["models"]) == {"ann", "cnn"}
    assert all((folder / entry["file"]).is_file() for entry in manifest["models"].values())


def test_feature_check_only_fits_the_check_of_the_cnn_as_it_is(quick_run, tmp_path, capsys):
    from mnist_app.serving import feature_check

    out, _ = quick_run
    from mnist_app.serving import digit_check

    for name in ("cnn.keras", "digit_check.npz"):
        (tmp_path / name).write_bytes((out / name).read_bytes())
    result = train_cli(["--quick", "--models", "cnn", "--feature-check-only", "--out", str(tmp_path)], capsys)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cnn.keras", "digit_check.npz", "feature_check.npz"]
    assert (tmp_path / "cnn.keras").read_bytes() == (out / "cnn.keras").read_bytes()
    check, pixels = feature_check.load(tmp_path), digit_check.load(tmp_path)
    assert feature_check.judge_for(check, load_predictor("cnn", out), pixels) is not None, "fitted on these"
    assert json.loads(check.provenance)["what"] == "feature check fitted on the CNN's members"
