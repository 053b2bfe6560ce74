"""Fit the random forest (YDF) and write models/forest/ atomically, with the training part of its card."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import ydf

from mnist_app.serving.forest import PIXELS, ForestPredictor, directory_bytes, flatten
from mnist_app.training.recipes import FOREST


def train_forest(
    data: dict[str, np.ndarray], seed: int, out_dir: Path, quick: bool = False
) -> tuple[ForestPredictor, dict]:
    """Fit the forest, write models/forest/ atomically; returns the predictor and the card's training part."""
    spec = FOREST.quick() if quick else FOREST
    learner = ydf.RandomForestLearner(
        label="label",
        task=ydf.Task.CLASSIFICATION,
        num_trees=spec.trees,
        max_depth=spec.max_depth,
        pure_serving_model=True,
        **({"num_candidate_attributes": spec.candidates} if spec.candidates else {}),
        compute_oob_performances=False,
        random_seed=seed,
        num_threads=os.cpu_count() or 1,
    )
    started = time.perf_counter()
    model = learner.train({"pixels": _flat(data["x_train"]), "label": data["y_train"].astype(np.int64)}, verbose=0)
    seconds = time.perf_counter() - started
    target = out_dir / "forest"
    staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=".forest-"))
    try:
        model.set_node_format(ydf.NodeFormat.BLOB_SEQUENCE_GZIP)  # ~6x smaller files, same trees
        model.save(str(staging / "model"))
        old = out_dir / ".forest-old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        (staging / "model").rename(target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    flat = flatten(model)
    predictor = ForestPredictor("forest", flat, path=target)
    x_val = data["x_val"].astype(np.float32) / 255
    curve = []
    for count in sorted({max(1, spec.trees * k // 10) for k in (1, 2, 3, 5, 7, 10)}):
        subset = flat.first_trees(count)
        accuracy = float(np.mean(subset.predict_proba(x_val).argmax(1) == data["y_val"]))
        curve.append(
            {
                "trees": count,
                "val_accuracy": round(accuracy, 5),
                "megabytes": round(directory_bytes(target) / 1e6 * count / spec.trees, 2),
            }
        )
    trained = {
        "train_seconds": seconds,
        "file_bytes": directory_bytes(target),
        "nodes": int(len(flat.feature) + len(flat.leaf_probabilities)),
        "parameters": int(len(flat.feature) + len(flat.leaf_probabilities)),  # nodes: a forest's size
        "hyperparameters": {
            "trees": spec.trees,
            "max_depth": spec.max_depth,
            "candidates": spec.candidates,
            "library": f"ydf {ydf.__version__}",
        },
        "size_curve": curve,
        "history": {},
    }
    return predictor, trained


def _flat(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), PIXELS).astype(np.float32) / 255
