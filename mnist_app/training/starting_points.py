"""Where each network of a training run starts: from scratch, kept, or from its trained self.

`--keep-members` keeps an ensemble's trained members and trains only the missing ones;
fine-tuning continues every member, and its card continues the old card's curves and time;
`--experts-only` keeps every member and trains only the soft-ink experts (mnist_app.training.soft_experts);
`--keep-experts` fine-tunes the members and keeps the experts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import keras

from mnist_app.serving import model_files
from mnist_app.serving.model_files import model_path
from mnist_app.serving.networks import BUILDERS, ensemble_members, soft_experts
from mnist_app.training.data import TrainingError
from mnist_app.training.recipes import ModelSpec, TrainConfig


def kept_members(name: str, config: TrainConfig, spec: ModelSpec, out_dir: Path) -> tuple[list, list[dict]]:
    """With keep_members: the members (and their records) of the model already in out_dir."""
    if not config.keep_members:
        return [], []
    path = model_path(out_dir, name)
    try:
        model = model_files.load_model(path)
    except model_files.ModelLoadError as error:
        raise TrainingError(f"--keep-members starts from a trained model: {error}") from error
    card = model_files.read_card(path.with_suffix(".json"))
    recipe = {key: value for key, value in asdict(spec).items() if key not in ("members", "soft_experts")}
    trained_by = {key: card.get("hyperparameters", {}).get(key) for key in recipe}
    if trained_by != recipe or card.get("seed") != config.seed or card.get("quick", False) != config.quick:
        raise TrainingError(
            f"--keep-members: {path} was trained with other settings ({trained_by}, seed "
            f"{card.get('seed')}) than this run ({recipe}, seed {config.seed})"
        )
    members = ensemble_members(model)[: spec.members]
    records = card.get("members") or [
        {
            key: card[key]
            for key in ("trained_at", "history", "epoch_seconds", "best_epoch", "train_seconds", "replicas")
        }
        | {"seed": card["seed"]}
    ]
    print(f"{name}: keeping {len(members)} trained member(s) from {path}")
    return [plain_copy(name, member) for member in members], [
        {key: value for key, value in record.items() if key != "test_accuracy"} for record in records[: len(members)]
    ]


def plain_copy(name: str, member: keras.Model) -> keras.Model:
    """A fresh, uncompiled network with these weights: no optimizer state in its file."""
    copy = BUILDERS[name]()
    copy.set_weights(member.get_weights())
    return copy


def starting_members(name: str, config: TrainConfig, out_dir: Path, count: int) -> list[keras.Model | None]:
    """Fine-tuning (and --experts-only): each member starts from its trained self in out_dir; otherwise from scratch."""
    if not (config.fine_tuning or config.experts_only):
        return [None] * count
    return _trained_networks(name, out_dir, ensemble_members, count, "member(s)", "this run")


def kept_experts(name: str, out_dir: Path, count: int) -> list[keras.Model]:
    """--keep-experts: the soft-ink experts of the model in out_dir, as they are."""
    return _trained_networks(name, out_dir, soft_experts, count, "soft-ink expert(s)", "--keep-experts")


def _trained_networks(
    name: str, out_dir: Path, pick: Callable[[keras.Model], list], count: int, kind: str, who: str
) -> list[keras.Model]:
    """The networks `pick` takes from the model in out_dir; `count` of them, or a TrainingError saying why not."""
    try:
        networks = pick(model_files.load_model(model_path(out_dir, name)))
    except model_files.ModelLoadError as error:
        raise TrainingError(f"{who} starts from a trained model: {error}") from error
    if len(networks) != count:
        raise TrainingError(f"{out_dir / name}.keras has {len(networks)} {kind}, the recipe {count}")
    return networks


def previous_card(path: Path) -> dict:
    """The card of the model a fine-tuning starts from ({} if unreadable): it is about to be overwritten."""
    try:
        return model_files.read_card(path)
    except model_files.ModelLoadError:
        return {}


def continued_card(card: dict, previous: dict, extra: dict) -> dict:
    """A fine-tuned model's card: its curves and training time continue the old ones, which it records."""
    history = {key: previous.get("history", {}).get(key, []) + values for key, values in card["history"].items()}
    kept = ("trained_at", "test_accuracy", "hyperparameters", "train_seconds", "fine_tuned")
    return card | {
        "history": history,
        "best_epoch": card["best_epoch"] + len(previous.get("history", {}).get("loss", [])),
        "train_seconds": previous.get("train_seconds", 0.0) + card["train_seconds"],
        "fine_tuned": {
            "from": {key: previous[key] for key in kept if key in previous},
            "epochs": card["hyperparameters"]["epochs"],
            "seconds": card["train_seconds"],
            **extra,
        },
    }
