"""The README's model results table, produced from the model cards: `python -m mnist_app.report`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mnist_app.config import MODEL_NAMES, MODEL_TITLES, MODELS_DIR, ROOT

README = ROOT / "README.md"

PUBLISHED = {  # best published accuracy of the hobby projects we compare against
    "cnn": "95.3-99.12 %",
    "ann": "97.0-97.9 %",
    "rnn": "97.3 %",
    "logreg": "84.4 %",
}


def replace_section(text: str, name: str, content: str) -> str:
    """Replace what stands between `<!-- name:start -->` and `<!-- name:end -->`."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        return text
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{content}{end}{tail}"


def results_table(models_dir: Path = MODELS_DIR) -> str:
    rows = [
        "| model | test accuracy | errors / 10,000 | published hobby results | parameters | file | training time "
        "| latency per image |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in MODEL_NAMES:
        path = models_dir / f"{name}.json"
        if not path.is_file():
            continue
        card = json.loads(path.read_text())
        rows.append(
            f"| {MODEL_TITLES[name]} (`{name}`) | **{card['test_accuracy']:.2%}** | {len(card['misclassified']['index'])} "
            f"| {PUBLISHED[name]} | {card['parameters']:,} | {card['file_bytes'] / 1e6:.2f} MB "
            f"| {card['train_seconds'] / 60:.1f} min ({card['hyperparameters']['epochs']} epochs) "
            f"| {card['latency_ms']:.2f} ms |"
        )
    return "\n".join(rows) + "\n"


def main() -> int:
    table = results_table()
    if README.is_file():
        README.write_text(replace_section(README.read_text(), "models", table))
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
