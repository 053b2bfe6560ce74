"""Why the CNN wins, on data: both networks' confidence in the right digit as MNIST test digits are moved,
turned, resized and restroked (mnist_app.reading.variations, the Draw tab's "Why the CNN wins" panel).

`python -m tools.reports.invariance_report` prints the table; `--record` also writes benchmarks/invariance.json
and its table in docs/why-cnn.md. The digits are the first 1,000 of MNIST's test set, already centred as
MNIST made them: the unchanged row is the models' own test accuracy on them.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from mnist_app.config import MODEL_TITLES, MODELS_DIR, ROOT, SHOWN_MODELS
from mnist_app.dataset.mnist import load_mnist
from mnist_app.reading.model_input import model_batch
from mnist_app.reading.variations import FAMILIES
from mnist_app.serving.model_files import read_cards
from tools.reports.report import write_section

DIGITS = 1000
OUT = ROOT / "benchmarks" / "invariance.json"
SHOWN_VALUES = {  # the rows of the table, per family
    "side": (2, 4, 6, 8, -6),
    "height": (4, 6, -4, -6),
    "turn": (15, 30, 45, -30),
    "size": (0.5, 0.75, 1.25, 1.4),
    "stroke": (-2, 2, 4),
}


def measure(digits: int = DIGITS) -> dict:
    """Each shown network's mean confidence in the true digit, and its accuracy, for every row's change."""
    from mnist_app.serving.reader import load_reader

    reader = load_reader(MODELS_DIR, SHOWN_MODELS, numbers=False)
    _, (x_test, y_test) = load_mnist()
    images, labels = model_batch(x_test[:digits])[..., 0], y_test[:digits]
    rows = [{"family": "none", "value": None, "change": "as MNIST centred them", "images": images}]
    for family in FAMILIES:
        for value in SHOWN_VALUES[family.key]:
            changed = np.stack([family.change(image, float(value)) for image in images])
            rows.append({"family": family.key, "value": value, "change": family.phrase(value), "images": changed})
    for row in rows:
        batch = row.pop("images")
        for name, predictor in reader.chosen(SHOWN_MODELS).items():
            probabilities = predictor.predict_batch(batch)
            row[name] = {
                "confidence": round(float(probabilities[np.arange(len(labels)), labels].mean()), 4),
                "accuracy": round(float((probabilities.argmax(1) == labels).mean()), 4),
            }
    cards = read_cards(MODELS_DIR)
    trained = {name: cards.get(name, {}).get("trained_at") for name in SHOWN_MODELS}
    return {"digits": digits, "models_trained_at": trained, "rows": rows}


def markdown(results: dict) -> str:
    names = [name for name in SHOWN_MODELS if name in results["rows"][0]]
    head = " | ".join(f"{MODEL_TITLES[n]} confidence | {MODEL_TITLES[n]} accuracy" for n in names)
    lines = [f"| change to {results['digits']:,} MNIST test digits | {head} |", "|---" * (1 + 2 * len(names)) + "|"]
    for row in results["rows"]:
        cells = " | ".join(f"{row[n]['confidence']:.1%} | {row[n]['accuracy']:.1%}" for n in names)
        lines.append(f"| {row['change']} | {cells} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write benchmarks/invariance.json and docs/why-cnn.md")
    args = parser.parse_args(argv)
    results = measure()
    table = markdown(results)
    print(table)
    if args.record:
        OUT.write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {OUT} and", ", ".join(str(page) for page in write_section("invariance", table)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
