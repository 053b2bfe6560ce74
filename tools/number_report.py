"""Whole-number accuracy on a larger sample than the tests use: `python -m tools.number_report`.

Numbers of 2-8 MNIST *test* digits pasted apart (gaps 0-16 px), on a canvas and as paper photos,
read by the shipped CNN; writes benchmarks/numbers.json. Touching digits are measured by the tests.
"""

from __future__ import annotations

import json
import sys

from mnist_app.config import ROOT
from tools.number_images import exact_rate

NUMBERS = 400  # per kind; numbers whose digits happen to touch are left out of the rate
OUT = ROOT / "benchmarks" / "numbers.json"


def main() -> int:
    from mnist_app.dataset.mnist import load_mnist
    from mnist_app.serving.registry import load_predictors

    predictors, problems = load_predictors(names=("cnn",))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    (_, _), (x_test, y_test) = load_mnist()
    results = {}
    for kind, photo in (("canvas", False), ("paper_photo", True)):
        apart, _, count, _ = exact_rate(predictors, x_test, y_test, 100 + photo, photo, NUMBERS, ((3, 16), (0, 3)))
        results[kind] = {"numbers_apart": count, "exact": round(apart, 4)}
        print(kind, results[kind], flush=True)
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
