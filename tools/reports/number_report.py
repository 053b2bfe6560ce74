"""Whole-number accuracy on a larger sample than the tests use: `python -m tools.reports.number_report`.

Numbers of 2-8 MNIST *test* digits pasted apart (gaps 0-16 px), and numbers whose neighbours touch
(gaps -4 to 2 px at MNIST's scale), on a canvas and as paper photos, read by the shipped CNN and
string reader as the app reads them: whole numbers exact, and for touching ones per-digit accuracy and digits dropped or added. Writes
benchmarks/numbers.json.
"""

from __future__ import annotations

import json
import sys

from tools.inputs.number_images import exact_rate, touching_rates
from tools.reports.report import NUMBERS as OUT
from tools.reports.report import numbers_table, write_section

NUMBERS = 400  # per kind; numbers whose digits happen to touch are left out of the rate
TOUCHING = 100  # per kind and length band


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
