"""What fine-tuning on a room's drawings changes: `python -m tools.reports.finetune_report [--models ann]`.

The "room" is synthetic pen drawings (tools/inputs/synthetic_drawings.py, seed 21) exported as the drawings CLI
exports them; the held-out drawings are a different draw of positions, sizes and pens (seed 5)
plus MNIST's test set. The shipped model is copied, fine-tuned with `train.py --extra-data`, and
both are scored on the same held-out images. Writes benchmarks/finetune.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from mnist_app.config import MODELS_DIR, ROOT
from mnist_app.reading.preprocess import preprocess
from mnist_app.serving.reader import load_reader
from tools.inputs.synthetic_drawings import pen_drawing_set


def drawings(seed: int) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(digit, preprocess(image, "light")) for digit, _, _, _, image in pen_drawing_set(seed=seed)]
    images = np.stack([np.round(image * 255).astype(np.uint8) for _, image in pairs])
    return images, np.array([digit for digit, _ in pairs], dtype=np.uint8)


def accuracy(models_dir: Path, name: str, images: np.ndarray, labels: np.ndarray) -> float:
    predictor = load_reader(models_dir, (name,), numbers=False).predictors[name]
    probabilities = predictor.predict_batch((images.astype(np.float32) / 255)[..., None])
    return float(np.mean(probabilities.argmax(1) == labels))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="ann")
    name = parser.parse_args().models
    from mnist_app.dataset.mnist import load_mnist

    (_, _), (x_test, y_test) = load_mnist()
    held_out = drawings(seed=5)
    with tempfile.TemporaryDirectory() as tmp:
        room, work = Path(tmp) / "room.npz", Path(tmp) / "models"
        np.savez_compressed(room, **dict(zip(("images", "labels"), drawings(seed=21), strict=True)))
        work.mkdir()
        for suffix in (".keras", ".json"):
            shutil.copy(MODELS_DIR / f"{name}{suffix}", work)
        before = {"drawings": accuracy(work, name, *held_out), "mnist_test": accuracy(work, name, x_test, y_test)}
        subprocess.run(
            [sys.executable, "train.py", "--models", name, "--out", str(work), "--extra-data", str(room)],
            cwd=ROOT,
            check=True,
        )
        after = {"drawings": accuracy(work, name, *held_out), "mnist_test": accuracy(work, name, x_test, y_test)}
        card = json.loads((work / f"{name}.json").read_text())
    report = {
        "model": name,
        "room_drawings": card["fine_tuned"]["drawings"],
        "held_out_drawings": len(held_out[1]),
        "epochs": card["hyperparameters"]["epochs"],
        "before": before,
        "after": after,
    }
    path = ROOT / "benchmarks" / "finetune.json"
    path.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
