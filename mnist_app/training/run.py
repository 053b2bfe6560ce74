"""Train, evaluate and save the models: `run(config)` writes models/<name>.keras and <name>.json."""

from __future__ import annotations

import datetime
import tempfile
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mnist_app.atomic_files import atomic_path, write_json
from mnist_app.config import STRING_READERS
from mnist_app.reading.model_input import model_batch
from mnist_app.serving.model_files import model_path
from mnist_app.serving.networks import BUILDERS, ensemble
from mnist_app.serving.predictor import Predictor
from mnist_app.serving.reader import JUDGE
from mnist_app.training import browser_weights, calibration, digit_check, feature_check
from mnist_app.training.data import (
    TrainingError,
    add_extra_drawings,
    add_style_drawings,
    data_card,
    prepare_data,
    training_copies,
)
from mnist_app.training.evaluation import comparison_table, evaluate, measure_latency_ms, model_summary
from mnist_app.training.fitting import fit_network, use_two_logical_cpus
from mnist_app.training.provenance import provenance
from mnist_app.training.recipes import ModelSpec, TrainConfig, TuneConfig
from mnist_app.training.soft_experts import train_soft_experts
from mnist_app.training.starting_points import (
    continued_card,
    kept_experts,
    kept_members,
    plain_copy,
    previous_card,
    starting_members,
)
from mnist_app.training.strings import train_strings

__all__ = ["TrainingError", "run"]  # TrainingError: what train.py catches


def run(config: TrainConfig) -> list[dict]:
    """Train every model named in `config`, write it and its card, and return the cards."""
    unknown = [name for name in config.models if name not in (*BUILDERS, "forest", *STRING_READERS)]
    if unknown:
        raise TrainingError(
            f"unknown model(s) {', '.join(unknown)}; choose from {', '.join((*BUILDERS, 'forest', *STRING_READERS))}"
        )
    if config.fine_tuning and "forest" in config.models:
        raise TrainingError(
            "fine-tuning applies to networks; the forest is retrained from scratch with --models forest"
        )
    if config.fine_tuning and config.keep_members:
        raise TrainingError("--keep-members trains missing networks from scratch; fine-tuning continues all of them")
    if config.experts_only and (
        config.fine_tuning or config.keep_members or {"forest", *STRING_READERS} & set(config.models)
    ):
        raise TrainingError(
            "--experts-only keeps every network of the models as it is: use it alone, without the forest"
        )
    if config.keep_experts and not config.fine_tuning:
        raise TrainingError("--keep-experts keeps the experts of fine-tuned members: use it with --fine-tune")
    without = [name for name in config.models if config.experts_only and not config.spec(name).soft_experts]
    if without:
        raise TrainingError(f"--experts-only: the recipe of {', '.join(without)} has no soft-ink experts")
    out_dir = _writable_dir(Path(config.out_dir))
    if config.feature_check_only:
        return _feature_check_only(config, out_dir)
    if config.strategy == "mirrored":
        use_two_logical_cpus()
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    networks = [name for name in config.models if name not in ("forest", *STRING_READERS)]
    kept = {name: kept_members(name, config, config.spec(name), out_dir) for name in networks}  # checked early
    data = prepare_data(config)
    if config.tune:
        from mnist_app.training.tuning import search  # KerasTuner: imported only for a search

        report = search(
            data, TuneConfig(train_subset=1000, max_epochs=2, iterations=1) if config.quick else TuneConfig(), out_dir
        )
        print(
            f"{len(report['trials'])} trials in {report['search_seconds']:.0f} s; best {report['best']}; "
            f"{report['verdict']}"
        )
        return []
    if config.extra_data:
        add_extra_drawings(data, config)
    if config.styles and not config.experts_only:
        add_style_drawings(data, config)
    cards = []
    for name in config.models:
        if name in STRING_READERS:
            train_strings(config, data, out_dir, name)  # not a digit classifier: left out of the comparison
        elif name == "forest":
            cards.append(train_forest_card(config, data, out_dir))
        else:
            cards.append(train_model(name, config, data, out_dir, kept[name]))
    if not cards:
        return cards
    # After the networks: training starts at once, and the check (its many letter renders) comes last.
    # It is refitted with the CNN, whose answers it judges; other models leave it as it is. Fine-tuning
    # on the room's drawings alone keeps the shipped digit check; the style set refits it.
    refit = not (config.fine_tuning or config.experts_only) or "style_images" in data
    if refit and JUDGE in config.models:
        renders = config.quick_letter_renders if config.quick else digit_check.LETTER_RENDERS
        check = digit_check.fit(
            data["x_train"],
            data["x_val"],
            data["y_train"],
            data["y_val"],
            seed=config.seed,
            letter_renders=renders,
            styles=(data["style_images"], data["style_labels"]) if "style_images" in data else None,
            style_draws=config.quick_style_draws if config.quick else config.style_draws,
            typeface_draws=config.quick_typeface_draws if config.quick else config.typeface_draws,
            typeface_families=config.quick_typeface_families if config.quick else None,
        )
        print(f"digit check: threshold {check.threshold:.2f}, written to {digit_check.save(check, out_dir)}")
        feature_check.fit_in(config, out_dir)
    export_for_browser(out_dir, data, config.models)
    print(comparison_table(cards))
    return cards


def _feature_check_only(config: TrainConfig, out_dir: Path) -> list[dict]:
    """--feature-check-only: the CNN in `out_dir` stays as it is; its feature check is fitted anew."""
    if config.models != (JUDGE,) or config.fine_tuning or config.keep_members or config.experts_only:
        raise TrainingError(
            f"--feature-check-only fits the check of the trained CNN: use it alone, with --models {JUDGE}"
        )
    cnn = model_path(out_dir, JUDGE)
    if not cnn.is_file():
        raise TrainingError(f"--feature-check-only: no {cnn.name} in {out_dir} to fit its check on")
    feature_check.fit_in(config, out_dir)
    return []


def export_for_browser(out_dir: Path, data: dict[str, np.ndarray], trained: tuple[str, ...]) -> Path | None:
    """After the ANN or the CNN is trained, their weights for live reading in the browser (static/live
    for models/); returns the folder, or None when not written (the reason is printed: the browser then
    turns live reading off, since the old weights no longer match the models)."""
    if not set(browser_weights.LIVE_MODELS) & set(trained):
        return None
    paths = [model_path(out_dir, name) for name in browser_weights.LIVE_MODELS]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        print(f"live reading: weights not exported ({', '.join(missing)} not in {out_dir})")
        return None
    folder = browser_weights.live_dir_for(out_dir)
    try:
        browser_weights.export(out_dir, folder, data["x_test"], data["y_test"])
    except browser_weights.ExportError as error:
        print(f"live reading: weights not exported: {error}")
        return None
    print(f"live reading: the ANN's and the CNN's weights for the browser written to {folder}")
    return folder


def _writable_dir(path: Path) -> Path:
    """The output directory, created if needed; fail early (before training) if it is not writable."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as error:
        raise TrainingError(f"cannot write to the output directory {path}: {error}") from error
    return path


def train_model(
    name: str, config: TrainConfig, data: dict[str, np.ndarray], out_dir: Path, kept: tuple[list, list[dict]]
) -> dict:
    """Train one model (each member of an ensemble not `kept`, then its soft-ink experts), evaluate
    it once on the test set, write it and its card."""
    spec = config.spec(name)
    path = model_path(out_dir, name)
    if config.experts_only:
        return _with_new_soft_experts(name, config, data, path, spec)
    print(
        f"\n=== {name}: {spec.epochs} epochs, batch {spec.batch_size}, augment={spec.augment}, "
        f"{spec.members} member(s), {spec.soft_experts} soft-ink expert(s) ===",
        flush=True,
    )
    members, records = kept
    starts = starting_members(name, config, out_dir, spec.members)
    previous = previous_card(path.with_suffix(".json")) if config.fine_tuning else None
    for index in range(len(members), spec.members):
        seed = config.seed + index
        degraded = training_copies(data, config.copies_seed(seed)) if spec.degraded_share > 0 else None
        member, record = fit_network(name, config, data, spec, seed, starts[index], degraded)
        members.append(member)
        records.append(record)
    experts, experts_card = _soft_experts(name, config, data, spec, members, out_dir)
    first = records[0]
    card = {
        "name": name,
        "architecture": model_summary(members[0]),
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
        # kept experts' time is already in the previous card, which a fine-tuning's card continues
        "train_seconds": sum(record["train_seconds"] for record in records)
        + (0.0 if config.keep_experts else experts_card.get("train_seconds", 0.0)),
        **({"members": _member_cards(name, members, records, data)} if len(members) > 1 else {}),
        **({"soft_experts": experts_card} if experts else {}),
        **_save_and_measure(name, ensemble(members, name, experts), path, data, config),
    }
    if previous is not None:
        card = continued_card(card, previous, data.get("extra", {}))
    card["provenance"] = provenance(previous, "fine-tuned" if previous is not None else "trained")
    write_json(path.with_suffix(".json"), card)
    return card


def _soft_experts(
    name: str, config: TrainConfig, data: dict[str, np.ndarray], spec: ModelSpec, members: list, out_dir: Path
) -> tuple[list[keras.Model], dict]:
    """The model's soft-ink experts: trained from its members, or with --keep-experts the ones in out_dir."""
    if not spec.soft_experts:
        return [], {}
    if not config.keep_experts:
        return train_soft_experts(name, config, data, spec, members)
    kept = kept_experts(name, out_dir, spec.soft_experts)
    print(f"{name}: keeping its {len(kept)} soft-ink expert(s) from {out_dir}")
    return [plain_copy(name, expert) for expert in kept], previous_card(out_dir / f"{name}.json").get(
        "soft_experts", {}
    )


def _with_new_soft_experts(
    name: str, config: TrainConfig, data: dict[str, np.ndarray], path: Path, spec: ModelSpec
) -> dict:
    """--experts-only: the model in out_dir keeps its members and card; its soft-ink experts are trained anew."""
    print(f"\n=== {name}: {spec.soft_experts} soft-ink expert(s) for the members in {path} ===", flush=True)
    members = [plain_copy(name, member) for member in starting_members(name, config, path.parent, spec.members)]
    experts, experts_card = train_soft_experts(name, config, data, spec, members)
    previous = previous_card(path.with_suffix(".json"))
    replaced = previous.get("soft_experts", {}).get("train_seconds", 0.0)
    card = previous | {
        "soft_experts": experts_card,
        "train_seconds": previous.get("train_seconds", 0.0) - replaced + experts_card["train_seconds"],
    }
    card |= _save_and_measure(name, ensemble(members, name, experts), path, data, config)
    card["provenance"] = provenance(previous, "soft-ink experts trained")
    write_json(path.with_suffix(".json"), card)
    return card


def _save_and_measure(
    name: str, shipped: keras.Model, path: Path, data: dict[str, np.ndarray], config: TrainConfig
) -> dict:
    """Write the model; its card's measured part: size, test-set evaluation, latency and calibration."""
    with atomic_path(path) as tmp:
        shipped.save(tmp)
    predictor = Predictor(name, shipped, path=path, warm=False)
    return {
        "parameters": shipped.count_params(),
        "file_bytes": path.stat().st_size,
        **evaluate(predictor, data["x_test"], data["y_test"]),
        "latency_ms": latency_ms(predictor, config),
        "calibration": calibration.calibrate_card(
            predictor, model_batch(data["x_val"]), data["y_val"], model_batch(data["x_test"]), data["y_test"]
        ),
    }


def latency_ms(predictor: Predictor, config: TrainConfig) -> float:
    """The card's single-image latency: fewer timed predictions in a quick run (a smoke test)."""
    return measure_latency_ms(predictor, config.quick_latency_repeats if config.quick else 200)


def _member_cards(name: str, members: list[keras.Model], records: list[dict], data: dict[str, np.ndarray]) -> list:
    """Each member's record with its own test accuracy, to show what averaging gains."""
    cards = []
    for member, record in zip(members, records, strict=True):
        alone = Predictor(name, member, warm=False).predict_batch(model_batch(data["x_test"]), calibrated=False)
        cards.append({**record, "test_accuracy": float(np.mean(alone.argmax(1) == data["y_test"]))})
    return cards


def train_forest_card(config: TrainConfig, data: dict[str, np.ndarray], out_dir: Path) -> dict:
    """The random forest, with a card holding the same fields as the networks' cards."""
    from mnist_app.training.forest import train_forest  # YDF: imported only when the forest is trained

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
        "latency_ms": latency_ms(predictor, config),
        "calibration": calibration.calibrate_card(
            predictor, model_batch(data["x_val"]), data["y_val"], model_batch(data["x_test"]), data["y_test"]
        ),
        "provenance": provenance(),
    }
    write_json(out_dir / "forest.json", card)
    return card
