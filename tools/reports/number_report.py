"""Whole-number accuracy on a larger sample than the tests use: `python -m tools.reports.number_report`.

Numbers of 2-8 MNIST *test* digits pasted apart (gaps 0-16 px), and numbers whose neighbours touch
(gaps -4 to 2 px at MNIST's scale), on a canvas and as paper photos, read by the shipped CNN and
string reader as the app reads them: whole numbers exact, and for touching ones per-digit accuracy and digits dropped or added. Writes
benchmarks/numbers.json.
"""

from __future__ import annotations

import json
import sys

from mnist_app.config import ROOT
from tools.inputs.number_images import exact_rate, touching_rates
from tools.reports.report import write_section

NUMBERS = 400  # per kind; numbers whose digits happen to touch are left out of the rate
TOUCHING = 100  # per kind and length band
OUT = ROOT / "benchmarks" / "numbers.json"
PREVIOUS = ROOT / "benchmarks" / "numbers_previous_releases.json"  # the same numbers, read by earlier releases
ROWS = {
    "canvas": "on a canvas, digits apart",
    "paper_photo": "photographed on paper (uneven light, JPEG 75), digits apart",
    "canvas_touching_2_4": "on a canvas, touching, 2-4 digits",
    "canvas_touching_5_8": "on a canvas, touching, 5-8 digits",
    "paper_photo_touching_2_4": "on paper, touching, 2-4 digits",
    "paper_photo_touching_5_8": "on paper, touching, 5-8 digits",
}
EARLIER = ("first_string_reader", "over_segmentation", "before_cutting")


def numbers_table(results: dict | None = None, previous: dict | None = None) -> str:
    """docs/numbers.md's table: this release's figures (benchmarks/numbers.json) beside earlier releases'."""
    results = json.loads(OUT.read_text()) if results is None else results
    previous = json.loads(PREVIOUS.read_text()) if previous is None else previous
    lines = [
        "| input | whole number read exactly | previous release (first string reader) | over-segmentation "
        "| before cutting | per digit, this release (dropped / added) | numbers |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, title in ROWS.items():
        row = results[key]
        count = row.get("numbers", row.get("numbers_apart"))
        decimals = 0 if count == 100 else 1  # a hundred numbers: whole points
        earlier = [_percent(previous.get(key, {}).get(column), decimals) for column in EARLIER]
        per_digit = (
            f"{_percent(row['digit_accuracy'], 1)} ({row['dropped']} / {row['added']} of {row['digits']})"
            if "digits" in row
            else ""
        )
        exact = _percent(row["exact"], decimals)
        lines.append(f"| {title} | **{exact}** | {' | '.join(earlier)} | {per_digit} | {count} |")
    return "\n".join(lines) + "\n"


def _percent(share: float | None, decimals: int) -> str:
    return "" if share is None else f"{100 * share:.{decimals}f} %"


def main() -> int:
    from mnist_app.dataset.mnist import load_mnist
    from mnist_app.serving.reader import load_reader

    reader = load_reader(names=("cnn",))  # as the app reads numbers, with the digit check and the string reader
    if reader.problems:
        print("\n".join(reader.problems), file=sys.stderr)
        return 2
    (_, _), (x_test, y_test) = load_mnist()
    results = {}
    for kind, photo in (("canvas", False), ("paper_photo", True)):
        apart, _, count, _ = exact_rate(reader, x_test, y_test, 500 + photo, photo, NUMBERS, ((3, 16), (0, 3)))
        results[kind] = {"numbers_apart": count, "exact": round(apart, 4)}
        print(kind, results[kind], flush=True)
        for lengths in ((2, 4), (5, 8)):
            key = f"{kind}_touching_{lengths[0]}_{lengths[1]}"
            results[key] = touching_rates(reader, x_test, y_test, 200 + photo, photo, TOUCHING, lengths)
            print(key, results[key], flush=True)
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    print(numbers_table(results))
    write_section("numbers", numbers_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
