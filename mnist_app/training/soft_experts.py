"""Soft-ink experts: networks fine-tuned from a model's members on blurred and low-resolution copies only.

A model with experts answers an image from them when its ink is soft (`reading.preprocess.is_soft`: most of
it mid-grey), and from its members otherwise (`serving.networks.SoftInkRouter`). Clean digits, pen drawings
and photos are hardly ever soft, so the members' test-set accuracy stays as it was, while the
experts need not trade any of it for blur. What the shipped experts gain is in the CNN's card
(`soft_experts`) and the robustness tables in docs/results.md, measured on degraded test digits.
"""

from __future__ import annotations

import datetime

import keras
import numpy as np

from mnist_app.reading.model_input import model_batch
from mnist_app.reading.preprocess import is_soft
from mnist_app.serving.networks import ensemble
from mnist_app.training.augment import SOFT_BLUR_SIGMA, SOFT_LOW_RESOLUTION, soft_copies
from mnist_app.training.data import training_copies
from mnist_app.training.fitting import fit_network
from mnist_app.training.recipes import ModelSpec, TrainConfig

RECIPE = (
    f"fine-tuned from the members on copies of every training digit, blurred (sigma {SOFT_BLUR_SIGMA[0]}-"
    f"{SOFT_BLUR_SIGMA[1]} px) or digitised at {SOFT_LOW_RESOLUTION[0]}-{SOFT_LOW_RESOLUTION[1]} px, as preprocessed"
)


def train_soft_experts(
    name: str, config: TrainConfig, data: dict[str, np.ndarray], spec: ModelSpec, members: list[keras.Model]
) -> tuple[list[keras.Model], dict]:
    """Each expert starts from the member of its index; returns the experts and their card section."""
    expert_spec = config.soft_expert_spec(name)
    soft_validation = soft_copies(data["x_val"], config.seed)  # chooses each expert's best epoch
    experts, records = [], []
    for index in range(spec.soft_experts):
        seed = config.seed + index
        expert, record = fit_network(
            name,
            config,
            data,
            expert_spec,
            seed,
            members[index % len(members)],
            degraded=training_copies(data, config.copies_seed(seed), soft=True),
            validation=soft_validation,
            label=f"{name} soft-ink expert {index + 1} of {spec.soft_experts} (from member {index % len(members) + 1})",
        )
        experts.append(expert)
        records.append(record)
    return experts, {
        "recipe": RECIPE,
        "hyperparameters": {
            "epochs": expert_spec.epochs,
            "learning_rate": expert_spec.learning_rate,
            "augment": expert_spec.augment,
        },
        "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "train_seconds": sum(record["train_seconds"] for record in records),
        "networks": records,
        "soft_validation": _soft_validation(name, members, experts, soft_validation, data["y_val"]),
        # how many clean test digits the experts answer (the rest go to the members)
        "soft_test_images": int(sum(is_soft(image) for image in model_batch(data["x_test"]))),
    }


def _soft_validation(
    name: str, members: list[keras.Model], experts: list[keras.Model], images: np.ndarray, labels: np.ndarray
) -> dict:
    """What the experts gain: members and experts on the same soft copies of the validation digits."""

    def accuracy(networks: list[keras.Model]) -> float:
        probabilities = ensemble(networks, name).predict(model_batch(images), batch_size=1000, verbose=0)
        return round(float(np.mean(probabilities.argmax(1) == labels)), 5)

    return {"images": len(labels), "members": accuracy(members), "experts": accuracy(experts)}
