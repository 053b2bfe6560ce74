"""Whole-number accuracy on a larger sample than the tests use: `python -m tools.reports.number_report`.

Numbers of 2-8 MNIST *test* digits pasted apart (gaps 0-16 px), and numbers whose neighbours touch
(gaps -4 to 2 px at MNIST's scale), on a canvas and as paper photos, read by the shipped CNN and
string reader as the app reads them: whole numbers exact, and for touching ones per-digit accuracy and digits dropped or added;
and touching numbers of 2-8 digits written in the typeface families the string reader never trained on
(`STRINGS_HELD_OUT`). Writes benchmarks/numbers.json (`--out` another file, to keep a release's figures apart).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mnist_app.config import MODELS_DIR
from tools.inputs.number_images import exact_rate, touching_rates
from tools.reports.report import NUMBERS as OUT
from tools.reports.report import numbers_table, write_section

NUMBERS = 400  # per kind; numbers whose digits happen to touch are left out of the rate
TOUCHING = 100  # per kind and length band


TYPEFACE_DRAWS = 20  # drawings of each digit per held-out family (seed 0: the family reports' own drawings)


def main(argv: list[str] | None = None) -> int:
    from mnist_app.dataset.mnist import load_mnist
    from mnist_app.serving.reader import load_reader
    from mnist_app.training.typefaces import STRINGS_HELD_OUT, installed_families, typeface_digits

    parser = argparse.ArgumentParser(prog="python -m tools.reports.number_report", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=OUT, help="where the figures go; only the default is written into docs/"
    )
    parser.add_argument(
        "--models-dir", type=Path, default=MODELS_DIR, help="the models read with (a candidate string reader's folder)"
    )
    args = parser.parse_args(argv)

    # as the app reads numbers, with the digit check and the string readers
    reader = load_reader(args.models_dir, names=("cnn",))
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
    families = tuple(family for family in STRINGS_HELD_OUT if family in installed_families())
    x_faces, y_faces = typeface_digits(families, TYPEFACE_DRAWS, seed=0)
    for kind, photo in (("canvas", False), ("paper_photo", True)):
        key = f"typeface_{kind}_touching_2_8"
        results[key] = touching_rates(reader, x_faces, y_faces, 300 + photo, photo, TOUCHING, (2, 8))
        results[key]["families"] = list(families)
        print(key, results[key], flush=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    if args.out == OUT:
        print(numbers_table(results))
        write_section("numbers", numbers_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
