"""How the shipped models read the style set's held-out hand: `python -m tools.reports.style_report [--record]`.

Every held-out drawing (mnist_app/training/handwriting.py: hand 1 of each style, pens 8-36, two sizes,
three slants, two wobbles) is read as the Draw tab reads a canvas (`Reader.read_digit`, with
the digit check). Per style: how often the CNN and the ANN answer right and sure, how often the
page calls the digit a letter, and how often it says the drawing does not look like a digit.
Then the held-out hand's capital letters: how often the page flags each one; and the price of the flags,
MNIST's 10,000 test digits flagged by the check against the CNN's answers. Writes benchmarks/styles.json;
with --record, its table in docs/styles.md too.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from mnist_app.config import MODELS_DIR, ROOT
from mnist_app.dataset.mnist import load_mnist
from mnist_app.serving.reader import Reader, load_reader
from mnist_app.training.handwriting import FLAGGED_LETTERS, style_drawings
from tools.reports.report import measured_report_main

OUT = ROOT / "benchmarks" / "styles.json"
MODELS = ("cnn", "ann")


def measure(models_dir: Path = MODELS_DIR) -> dict:
    """Counts per style and per letter, read by the models and digit check in `models_dir`."""
    reader = load_reader(models_dir, MODELS, numbers=False)
    if reader.problems:
        raise SystemExit("\n".join(reader.problems))
    styles: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for drawing in style_drawings("held_out", "digits"):
        reading = reader.read_digit(drawing.image)
        counts = styles[drawing.style]
        counts["drawings"] += 1
        for name in MODELS:
            prediction = reading.predictions[name]
            counts[f"{name}_right_sure"] += int(prediction.digit == drawing.label and prediction.sure)
            counts[f"{name}_right"] += int(prediction.digit == drawing.label)
        counts["called_letter"] += int(reading.letter is not None and not reading.twin)
        counts["not_like_a_digit"] += int(not reading.looks_like_a_digit)
    letters: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for drawing in style_drawings("held_out", "letters"):
        reading = reader.read_digit(drawing.image)
        counts = letters[str(drawing.label)]
        counts["drawings"] += 1
        counts["flagged"] += int(not reading.typical)
        counts["named"] += int(reading.letter == drawing.label)
    return {
        "styles": {k: dict(v) for k, v in styles.items()},
        "letters": {k: dict(v) for k, v in letters.items()},
        "mnist_test": mnist_flagged(reader),
    }


def mnist_flagged(reader: Reader) -> dict[str, int]:
    """MNIST's test digits that the reader's check flags (a letter, a twin letter, or unusual), judged against the CNN's
    answers: the feature check where the reader has one, as a drawing is judged, else the pixel check."""
    _, (x_test, _) = load_mnist()
    images = x_test.astype(np.float32) / 255
    answers = reader.predictors["cnn"].predict_batch(images).argmax(1)
    verdicts = reader.digit_judge.verdicts(images, answers)
    return {
        "digits": len(verdicts),
        "flagged": sum(not verdict.typical for verdict in verdicts),
        "not_like_a_digit": sum(not verdict.looks_like_a_digit for verdict in verdicts),
        "called_letter": sum(verdict.letter is not None and not verdict.twin for verdict in verdicts),
    }


def totals(report: dict) -> dict[str, float]:
    """The issue's figures: right and sure, digits called letters, capitals flagged."""
    rows = report["styles"].values()
    drawings = sum(row["drawings"] for row in rows)
    capitals = [report["letters"][letter] for letter in FLAGGED_LETTERS]
    return {
        "drawings": drawings,
        **{f"{name}_right_sure": sum(row[f"{name}_right_sure"] for row in rows) / drawings for name in MODELS},
        "called_letter": sum(row["called_letter"] for row in rows) / drawings,
        "not_like_a_digit": sum(row["not_like_a_digit"] for row in rows) / drawings,
        "capitals_flagged": sum(row["flagged"] for row in capitals) / sum(row["drawings"] for row in capitals),
        **_mnist_shares(report.get("mnist_test")),
    }


def _mnist_shares(counts: dict[str, int] | None) -> dict[str, float]:
    if counts is None:  # a record from before the MNIST figures were measured
        return {}
    return {f"mnist_{key}": counts[key] / counts["digits"] for key in ("flagged", "called_letter", "not_like_a_digit")}


def table(report: dict) -> str:
    """The styles table: one row per style, then the letters."""
    percent = "{:.0%}".format
    lines = [
        "| style (held-out hand) | drawings | CNN right and sure | ANN right and sure | called a letter "
        '| "does not look like a digit" |',
        "|---|---|---|---|---|---|",
    ]
    for style, row in report["styles"].items():
        n = row["drawings"]
        lines.append(
            f"| {style} | {n} | {percent(row['cnn_right_sure'] / n)} | {percent(row['ann_right_sure'] / n)} "
            f"| {row['called_letter']} | {row['not_like_a_digit']} |"
        )
    overall = totals(report)
    lines.append(
        f"| **all styles** | {overall['drawings']} | **{overall['cnn_right_sure']:.1%}** "
        f"| **{overall['ann_right_sure']:.1%}** | **{overall['called_letter']:.1%}** "
        f"| **{overall['not_like_a_digit']:.1%}** |"
    )
    lines += [
        "",
        "| capital (held-out hand) | drawings | flagged as not a digit | named as that letter |",
        "|---|---|---|---|",
    ]
    for letter, row in report["letters"].items():
        lines.append(f"| {letter} | {row['drawings']} | {row['flagged']} | {row['named']} |")
    lines.append(f"| **{', '.join(FLAGGED_LETTERS)}** | | **{overall['capitals_flagged']:.1%}** | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return measured_report_main(argv, __name__, "styles", OUT, measure, table, totals)


if __name__ == "__main__":
    sys.exit(main())
