"""A digit check on the CNN's own features, chosen against the shipped pixel check with whole families left out.

`python -m tools.reports.feature_check [--record]`. The candidate is a class-conditional Mahalanobis distance on
the penultimate features of the CNN's members (Lee et al., NeurIPS 2018): one mean per digit and per capital,
one shared covariance. An input is unusual when its distance to the answered digit's mean is above what 99.5 %
of held-out digits reach; it is a letter when it is nearer a capital's mean than the answered digit's, by a
ratio that 99.5 % of held-out digits stay under (the shipped pixel check's two rules, on features); and it is
unusual when its pixels lie further from every digit than 99.9 % of MNIST's validation digits do.

It is fitted as train.py fits it (mnist_app.training.feature_check): MNIST's training digits, the style set's hand 0, printed
capitals, and 20 drawings of each digit and capital of the typeface families fitted. Each of the 18 families is
left out in turn and measured on its own drawings (the same as tools.reports.family_check's); the full fit is
measured on the style set's held-out hand 1 and on MNIST's 10,000 test digits. The pixel check's figures on the
same drawings stand beside it, from the check in --models-dir. Writes benchmarks/feature_check.json; with
--record, its table in docs/families.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from mnist_app.config import MODELS_DIR, ROOT
from mnist_app.dataset.mnist import load_mnist
from mnist_app.serving import digit_check as pixel_check
from mnist_app.serving.feature_check import FeatureCheck
from mnist_app.training.data import prepare_data
from mnist_app.training.feature_check import MNIST_FITTED, QUANTILE, far_from_digits, sources
from mnist_app.training.handwriting import FLAGGED_LETTERS, letter_inputs, style_inputs
from mnist_app.training.recipes import TrainConfig
from mnist_app.training.typefaces import DIGITS, typeface_inputs
from tools.reports.family_check import FIT_SEED, cnn_and_check
from tools.reports.family_check import OUT as FAMILY_CHECK
from tools.reports.family_report import DIGIT_DRAWINGS, LETTER_DRAWINGS, SEED
from tools.reports.report import measured_report_main

OUT = ROOT / "benchmarks" / "feature_check.json"


def counts(verdicts: list[pixel_check.Verdict], is_letter: bool) -> dict[str, int]:
    """As tools.reports.family_check counts: digits called a letter or "not a digit"; capitals flagged."""
    if is_letter:
        return {"capitals": len(verdicts), "capitals_flagged": sum(not v.typical for v in verdicts)}
    return {
        "digits": len(verdicts),
        "called_letter": sum(v.letter is not None and not v.twin for v in verdicts),
        "not_like_a_digit": sum(not v.looks_like_a_digit for v in verdicts),
    }


def measure(models_dir: Path = MODELS_DIR) -> dict:
    cnn, shipped = cnn_and_check(models_dir)

    def described(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Float inputs, their features and the CNN's answers."""
        x = np.asarray(images, np.float32)
        x = x / 255 if x.max() > 1 else x
        return x, cnn.features(x), cnn.predict_batch(x).argmax(1)

    config = TrainConfig(seed=FIT_SEED)
    data = prepare_data(config)  # train.py's split: the CNN never trained on x_val
    fitted = sources(cnn, config, data)
    far = far_from_digits(shipped, data["x_val"])  # as train.py measures it, beside the shipped pixel check
    print("features of every source ready", file=sys.stderr)
    families = list(fitted.families)
    tested = {}
    for family in families:
        test = typeface_inputs([family], DIGITS, DIGIT_DRAWINGS, seed=SEED)
        test |= typeface_inputs([family], FLAGGED_LETTERS, LETTER_DRAWINGS, seed=SEED)
        tested[family] = {label: described(images) for label, images in test.items()}

    def judged(check: FeatureCheck | pixel_check.DigitCheck, images: dict) -> dict[str, int]:
        total: dict[str, int] = {}
        for label, (x, f, answers) in images.items():
            if isinstance(check, FeatureCheck):
                verdicts = [
                    pixel_check.Verdict(False, v.letter) if shipped.error(image) > far else v
                    for image, v in zip(x, check.verdicts(f, answers), strict=True)
                ]
            else:
                verdicts = check.verdicts(x, answers)
            for key, value in counts(verdicts, isinstance(label, str)).items():
                total[key] = total.get(key, 0) + value
        return total

    rows = {}
    for family in families:
        rows[family] = {
            "features": judged(fitted.fit_without(family), tested[family]),
            "pooled": judged(fitted.fit_without(family, pooled=True), tested[family]),
            "pixels": judged(shipped, tested[family]),
        }
        print(family, rows[family], file=sys.stderr)
    full, full_pooled = fitted.fit_without(None), fitted.fit_without(None, pooled=True)
    hand1, hand1_labels, _ = style_inputs("held_out")
    hand1_images = {int(d): described(hand1[hand1_labels == d]) for d in range(10)}
    hand1_images |= {k: described(v) for k, v in letter_inputs("held_out").items() if k in FLAGGED_LETTERS}
    _, (x_test, _) = load_mnist()
    mnist_images = {0: described(x_test)}  # one group of digits: each judged against the CNN's answer
    return {
        "families": rows,
        "hand_1": {
            "features": judged(full, hand1_images),
            "pooled": judged(full_pooled, hand1_images),
            "pixels": judged(shipped, hand1_images),
        },
        "mnist_test": {
            "features": judged(full, mnist_images),
            "pooled": judged(full_pooled, mnist_images),
            "pixels": judged(shipped, mnist_images),
        },
        "fitted_mnist_digits": MNIST_FITTED,
        "quantile": QUANTILE,
    }


ROWS = (("not_like_a_digit", "digits"), ("capitals_flagged", "capitals"))


def _share(row: dict[str, int], key: str, of: str) -> str:
    return f"{row[key]} of {row[of]} ({100 * row[key] / row[of]:.1f} %)"


def table(report: dict, pixel_record: Path = FAMILY_CHECK) -> str:
    """Per family left out, digits called a letter or "not a digit" and capitals flagged: the pixel check refitted
    without the family (`pixel_record`, tools.reports.family_check's, on the same drawings) beside the feature
    check fitted without it, with the families' digits pooled (its first fit) and each family a group of its own
    (shipped). Then the checks fitted on every family, on hand 1 and MNIST's test digits."""
    pixels = json.loads(pixel_record.read_text())["families"]
    rows = {
        family: (pixels[family]["left_out"], row["pooled"], row["features"])
        for family, row in report["families"].items()
    }
    first = next(iter(rows.values()))
    rows |= {"all": tuple({k: sum(r[i][k] for r in rows.values()) for k in first[i]} for i in range(3))}
    checks = ("pixel check", "feature check, families pooled", "feature check, each family its own group")
    header = [f"{what}, {check}" for what in ("digits flagged", "capitals flagged") for check in checks]
    lines = ["| left out | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|"]
    for family, checked in rows.items():
        cells = [_share(row, key, of) for key, of in ROWS for row in checked]
        name = f"**all {len(rows) - 1} families**" if family == "all" else family
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for name, title in (
        ("hand_1", "the style set's hand 1 (every family fitted)"),
        ("mnist_test", "MNIST's test digits"),
    ):
        checked = [report[name][key] for key in ("pixels", "pooled", "features")]
        cells = [_share(row, key, of) if of in row else "" for key, of in ROWS for row in checked]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return measured_report_main(argv, __name__, "feature-check", OUT, measure, table)


if __name__ == "__main__":
    sys.exit(main())
