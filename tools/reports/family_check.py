"""Leave one typeface family out: does the digit check's letter part generalise when it learns typefaces' capitals?

`python -m tools.reports.family_check [--record]`. For each family of `mnist_app.training.typefaces`, the
shipped check's letter part is refitted as train.py fits it (`digit_check.letter_set`, `typeface_part` and
`with_letters`: printed capitals, the style set's training hand, and the typefaces' capitals, with their
digits joining the held-out digits that set its ratio), but from every family except that one. The "given
check" columns are the check in --models-dir as it is (docs/families.md gives the previous release's). It is then measured on the family left out: its digits
on canvas (called a letter, or "not a digit") and its capitals A B E H K M R X (flagged). The same figures for
the shipped check stand beside them. Writes benchmarks/family_check.json; with --record, docs/families.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from mnist_app.config import MODELS_DIR, ROOT
from mnist_app.serving import digit_check as shipped_check
from mnist_app.serving.predictor import Predictor
from mnist_app.serving.reader import load_reader
from mnist_app.training.data import prepare_data
from mnist_app.training.digit_check import LETTER_RENDERS, held_out_digits, letter_set, typeface_part, with_letters
from mnist_app.training.handwriting import FLAGGED_LETTERS
from mnist_app.training.recipes import TrainConfig
from mnist_app.training.typefaces import DIGITS, installed_families, typeface_inputs
from tools.reports.family_report import DIGIT_DRAWINGS, LETTER_DRAWINGS, SEED
from tools.reports.report import measured_report_main

OUT = ROOT / "benchmarks" / "family_check.json"
FITTED_PER_CHARACTER = 20  # drawings of each capital (and digit) of each fitted family
FIT_SEED = 42  # train.py's seed: the same held-out digits as the shipped check's


def _measured(check: shipped_check.DigitCheck, images: dict, answers: dict) -> dict[str, int]:
    """Digits flagged (as a letter or unusual) and capitals flagged, by `check`, given the CNN's answers."""
    counts = {"digits": 0, "called_letter": 0, "not_like_a_digit": 0, "capitals": 0, "capitals_flagged": 0}
    for label, batch in images.items():
        for image, answer in zip(batch, answers[label], strict=True):
            verdict = check.verdict(image, int(answer))
            if isinstance(label, str):
                counts["capitals"] += 1
                counts["capitals_flagged"] += int(not verdict.typical)
            else:
                counts["digits"] += 1
                counts["called_letter"] += int(verdict.letter is not None and not verdict.twin)
                counts["not_like_a_digit"] += int(not verdict.looks_like_a_digit)
    return counts


def cnn_and_check(models_dir: Path) -> tuple[Predictor, shipped_check.DigitCheck]:
    """The CNN and the digit check in `models_dir`; exits with the reason when either is missing."""
    reader = load_reader(models_dir, ("cnn",), numbers=False)
    check = shipped_check.load(models_dir)
    if reader.problems or check is None:
        raise SystemExit("\n".join(reader.problems) or "no digit check in models/")
    return reader.predictors["cnn"], check


def measure(models_dir: Path = MODELS_DIR) -> dict:
    cnn, check = cnn_and_check(models_dir)
    config = TrainConfig(seed=FIT_SEED)
    data = prepare_data(config)
    mnist = data["x_val"].reshape(len(data["x_val"]), -1).astype(np.float32) / 255
    base_held_out, base_labels, base_groups = held_out_digits(mnist, data["y_val"], FIT_SEED, config.style_draws)
    base_letters = letter_set(FIT_SEED, LETTER_RENDERS, config.style_draws)
    families = list(installed_families())
    fitted = {
        f: typeface_inputs([f], DIGITS + "".join(base_letters), FITTED_PER_CHARACTER, seed=FIT_SEED) for f in families
    }
    tested = {}
    for family in families:  # the report's own drawings (another seed): never the fitted ones
        images = typeface_inputs([family], DIGITS, DIGIT_DRAWINGS, seed=SEED)
        images |= typeface_inputs([family], FLAGGED_LETTERS, LETTER_DRAWINGS, seed=SEED)
        answers = {label: cnn.predict_batch(batch).argmax(1) for label, batch in images.items()}
        tested[family] = (images, answers)
    rows = {}
    for left_out in families:
        others = tuple(f for f in families if f != left_out)
        faces = {
            label: np.concatenate([fitted[f][label] for f in others if label in fitted[f]])
            for label in {label for f in others for label in fitted[f]}
        }
        letters, held_out, labels, groups = typeface_part(faces, base_letters, base_held_out, base_labels, base_groups)
        refitted = with_letters(check, held_out, labels, groups, letters)
        images, answers = tested[left_out]
        rows[left_out] = {
            "shipped": _measured(check, images, answers),
            "left_out": _measured(refitted, images, answers),
        }
        print(left_out, rows[left_out], file=sys.stderr)
    return {"families": rows, "fitted_per_character": FITTED_PER_CHARACTER}


def _pooled(rows: dict, which: str, key: str, of: str) -> float:
    return sum(r[which][key] for r in rows.values()) / sum(r[which][of] for r in rows.values())


def table(report: dict) -> str:
    rows = report["families"]
    lines = [
        "| family left out | digits flagged, given check | digits flagged, refitted without it "
        "| capitals flagged, given check | capitals flagged, refitted without it |",
        "|---|---|---|---|---|",
    ]
    for family, row in rows.items():
        s, r = row["shipped"], row["left_out"]
        lines.append(
            f"| {family} | {s['not_like_a_digit']} of {s['digits']} | {r['not_like_a_digit']} of {r['digits']} "
            f"| {s['capitals_flagged']} of {s['capitals']} | {r['capitals_flagged']} of {r['capitals']} |"
        )
    lines.append(
        f"| **all {len(rows)}** | **{_pooled(rows, 'shipped', 'not_like_a_digit', 'digits'):.1%}** "
        f"| **{_pooled(rows, 'left_out', 'not_like_a_digit', 'digits'):.1%}** "
        f"| **{_pooled(rows, 'shipped', 'capitals_flagged', 'capitals'):.1%}** "
        f"| **{_pooled(rows, 'left_out', 'capitals_flagged', 'capitals'):.1%}** |"
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return measured_report_main(argv, __name__, "family-check", OUT, measure, table)


if __name__ == "__main__":
    sys.exit(main())
