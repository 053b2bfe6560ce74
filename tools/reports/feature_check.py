"""A digit check on the CNN's own features, chosen against the shipped pixel check with whole families left out.

`python -m tools.reports.feature_check [--record]`. The candidate is a class-conditional Mahalanobis distance on
the penultimate features of the CNN's members (Lee et al., NeurIPS 2018): one mean per digit and per capital,
one shared covariance. An input is unusual when its distance to the answered digit's mean is above what 99.5 %
of held-out digits reach; it is a letter when it is nearer a capital's mean than the answered digit's, by a
ratio that 99.5 % of held-out digits stay under (the shipped pixel check's two rules, on features).

It is fitted as train.py fits the pixel check: MNIST's training digits, the style set's hand 0, printed
capitals, and 20 drawings of each digit and capital of the typeface families fitted. Each of the 18 families is
left out in turn and measured on its own drawings (the same as tools.reports.family_check's); the full fit is
measured on the style set's held-out hand 1 and on MNIST's 10,000 test digits. The pixel check's figures on the
same drawings stand beside it, from the check in --models-dir. Writes benchmarks/feature_check.json; with
--record, its table in docs/families.md.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from mnist_app.config import MODELS_DIR, ROOT
from mnist_app.dataset.mnist import load_mnist
from mnist_app.reading.model_input import model_batch
from mnist_app.serving import digit_check as pixel_check
from mnist_app.serving.digit_check import is_twin
from mnist_app.serving.networks import ensemble_members
from mnist_app.training.data import prepare_data
from mnist_app.training.digit_check import LETTER_RENDERS, letter_set
from mnist_app.training.handwriting import FLAGGED_LETTERS, letter_inputs, style_inputs
from mnist_app.training.recipes import TrainConfig
from mnist_app.training.typefaces import DIGITS, installed_families, typeface_inputs
from tools.reports.family_check import FIT_SEED, FITTED_PER_CHARACTER, cnn_and_check
from tools.reports.family_check import OUT as FAMILY_CHECK
from tools.reports.family_report import DIGIT_DRAWINGS, LETTER_DRAWINGS, SEED
from tools.reports.report import measured_report_main

OUT = ROOT / "benchmarks" / "feature_check.json"
MNIST_FITTED = 20000  # training digits the means and covariance are fitted on
QUANTILE = 0.995  # of each group of held-out digits: under the unusual threshold, and under the letter ratio
SHRINK = 0.01  # of the mean variance added to the covariance's diagonal: the features of rare forms vary more


def feature_model(model: keras.Model) -> keras.Model:
    """The penultimate features (after the last hidden ReLU) of every member of the CNN, side by side."""
    inputs = keras.Input(model.inputs[0].shape[1:])
    parts = []
    for member in ensemble_members(model):
        hidden = [layer for layer in member.layers if isinstance(layer, keras.layers.ReLU)][-1]
        parts.append(keras.Model(member.inputs, hidden.output)(inputs))
    return keras.Model(inputs, keras.layers.Concatenate()(parts) if len(parts) > 1 else parts[0])


def features(extractor: keras.Model, images: np.ndarray) -> np.ndarray:
    x = model_batch(images)
    return np.asarray(
        extractor(x, training=False) if len(x) <= 256 else extractor.predict(x, 1000, verbose=0), np.float64
    )


@dataclass
class FeatureCheck:
    """Class-conditional Gaussians with one shared covariance, over the digits and the capitals."""

    digit_means: np.ndarray  # (10, d)
    letter_means: np.ndarray  # (letters, d)
    letters: str
    precision: np.ndarray  # (d, d)
    threshold: float = np.inf
    letter_ratio: float = np.inf

    def distances(self, f: np.ndarray, means: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distance of each row of `f` to each mean: (n, means)."""
        centred = f[:, None, :] - means[None]
        return np.einsum("nkd,de,nke->nk", centred, self.precision, centred)

    def scores(self, f: np.ndarray, answers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The distance to the answered digit, its ratio to the nearest capital's, and that capital's index."""
        to_digit = self.distances(f, self.digit_means)[np.arange(len(f)), answers]
        to_letters = self.distances(f, self.letter_means)
        nearest = to_letters.argmin(1)
        return to_digit, to_digit / np.maximum(to_letters[np.arange(len(f)), nearest], 1e-9), nearest

    def verdicts(self, f: np.ndarray, answers: np.ndarray) -> list[pixel_check.Verdict]:
        to_digit, ratio, nearest = self.scores(f, answers)
        verdicts = []
        for distance, r, index, answer in zip(to_digit, ratio, nearest, answers, strict=True):
            letter = self.letters[index] if r > self.letter_ratio else None
            near = distance <= self.threshold
            verdicts.append(pixel_check.Verdict(near and letter is None, letter, near and is_twin(letter, int(answer))))
        return verdicts


def fit(digits: list[tuple[np.ndarray, np.ndarray]], letters: dict[str, np.ndarray], held_out: list) -> FeatureCheck:
    """Means and shared covariance from `digits` (features, labels) and `letters` (letter -> features); the
    threshold and ratio from `held_out`, groups of (features, labels, answers), each group under its own quantile."""
    f = np.concatenate([x for x, _ in digits])
    y = np.concatenate([labels for _, labels in digits])
    digit_means = np.stack([f[y == d].mean(0) for d in range(10)])
    letter_means = np.stack([x.mean(0) for x in letters.values()])
    centred = np.concatenate([f - digit_means[y], *(x - x.mean(0) for x in letters.values())])
    covariance = centred.T @ centred / len(centred)
    covariance += SHRINK * np.trace(covariance) / len(covariance) * np.eye(len(covariance))
    check = FeatureCheck(digit_means, letter_means, "".join(letters), np.linalg.inv(covariance))
    distances, ratios = [], []
    for features_, _, answers in held_out:
        to_digit, ratio, _ = check.scores(features_, answers)
        distances.append(float(np.quantile(to_digit, QUANTILE)))
        ratios.append(float(np.quantile(ratio, QUANTILE)))
    check.threshold, check.letter_ratio = max(distances), max(ratios)
    return check


def counts(verdicts: list[pixel_check.Verdict], is_letter: bool) -> dict[str, int]:
    """As tools.reports.family_check counts: digits called a letter or "not a digit"; capitals flagged."""
    if is_letter:
        return {"capitals": len(verdicts), "capitals_flagged": sum(not v.typical for v in verdicts)}
    return {
        "digits": len(verdicts),
        "called_letter": sum(v.letter is not None and not v.twin for v in verdicts),
        "not_like_a_digit": sum(not v.looks_like_a_digit for v in verdicts),
    }


def pixel_verdicts(check: pixel_check.DigitCheck, images: np.ndarray, answers: np.ndarray) -> list:
    return [check.verdict(image, int(answer)) for image, answer in zip(images, answers, strict=True)]


def measure(models_dir: Path = MODELS_DIR) -> dict:
    cnn, shipped = cnn_and_check(models_dir)
    extractor = feature_model(cnn.model)

    def described(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Float inputs, their features and the CNN's answers."""
        x = np.asarray(images, np.float32)
        x = x / 255 if x.max() > 1 else x
        return x, features(extractor, x), cnn.predict_batch(x).argmax(1)

    config = TrainConfig(seed=FIT_SEED)
    data = prepare_data(config)  # train.py's split: the CNN never trained on x_val
    picks = np.random.default_rng(FIT_SEED).choice(len(data["x_train"]), MNIST_FITTED, replace=False)
    mnist_fit = (described(data["x_train"][picks])[1], data["y_train"][picks])
    _, mnist_val_f, mnist_val_answers = described(data["x_val"])
    hand0, hand0_labels, _ = style_inputs("train", seed=FIT_SEED, draws=config.style_draws)
    hand0_fit = (described(hand0)[1], hand0_labels)
    hand0_more, more_labels, _ = style_inputs("train", seed=FIT_SEED + 1, draws=config.style_draws)
    _, more_f, more_answers = described(hand0_more)
    base_letters = {k: described(v)[1] for k, v in letter_set(FIT_SEED, LETTER_RENDERS, config.style_draws).items()}
    print("base features ready", file=sys.stderr)

    families = list(installed_families())
    fitted, tested = {}, {}
    for family in families:
        faces = typeface_inputs([family], DIGITS + "".join(base_letters), FITTED_PER_CHARACTER, seed=FIT_SEED)
        fitted[family] = {label: described(images)[1] for label, images in faces.items()}
        test = typeface_inputs([family], DIGITS, DIGIT_DRAWINGS, seed=SEED)
        test |= typeface_inputs([family], FLAGGED_LETTERS, LETTER_DRAWINGS, seed=SEED)
        tested[family] = {label: described(images) for label, images in test.items()}
        print(family, file=sys.stderr)

    def fit_without(left_out: str | None) -> FeatureCheck:
        others = [f for f in families if f != left_out]
        face_digits = [(fitted[f][d], np.full(len(fitted[f][d]), d)) for f in others for d in range(10)]
        letters = {
            letter: np.concatenate([images, *(fitted[f][letter] for f in others if letter in fitted[f])])
            for letter, images in base_letters.items()
        }
        face_f = np.concatenate([f for f, _ in face_digits])
        face_y = np.concatenate([y for _, y in face_digits])
        held_out = [
            (mnist_val_f, None, mnist_val_answers),
            (more_f, more_labels, more_answers),
            (face_f, face_y, face_y),  # typeface digits: a group of their own, judged against their own digit
        ]
        return fit([mnist_fit, hand0_fit], letters, held_out)

    def judged(check: FeatureCheck | pixel_check.DigitCheck, images: dict) -> dict[str, int]:
        total: dict[str, int] = {}
        for label, (x, f, answers) in images.items():
            if isinstance(check, FeatureCheck):
                verdicts = check.verdicts(f, answers)
            else:
                verdicts = pixel_verdicts(check, x, answers)
            for key, value in counts(verdicts, isinstance(label, str)).items():
                total[key] = total.get(key, 0) + value
        return total

    rows = {}
    for family in families:
        rows[family] = {
            "features": judged(fit_without(family), tested[family]),
            "pixels": judged(shipped, tested[family]),
        }
        print(family, rows[family], file=sys.stderr)
    full = fit_without(None)
    hand1, hand1_labels, _ = style_inputs("held_out")
    hand1_images = {int(d): described(hand1[hand1_labels == d]) for d in range(10)}
    hand1_images |= {k: described(v) for k, v in letter_inputs("held_out").items() if k in FLAGGED_LETTERS}
    _, (x_test, _) = load_mnist()
    mnist_images = {0: described(x_test)}  # one group of digits: each judged against the CNN's answer
    return {
        "families": rows,
        "hand_1": {"features": judged(full, hand1_images), "pixels": judged(shipped, hand1_images)},
        "mnist_test": {"features": judged(full, mnist_images), "pixels": judged(shipped, mnist_images)},
        "fitted_mnist_digits": MNIST_FITTED,
        "quantile": QUANTILE,
    }


ROWS = (("not_like_a_digit", "digits"), ("capitals_flagged", "capitals"))


def _share(row: dict[str, int], key: str, of: str) -> str:
    return f"{row[key]} of {row[of]} ({100 * row[key] / row[of]:.1f} %)"


def table(report: dict, pixel_record: Path = FAMILY_CHECK) -> str:
    """Per family left out, digits called a letter or "not a digit" and capitals flagged: the pixel check refitted
    without the family (`pixel_record`, tools.reports.family_check's, on the same drawings) beside the feature
    check fitted without it. Then both checks fitted on every family, on hand 1 and MNIST's test digits."""
    pixels = json.loads(pixel_record.read_text())["families"]
    rows = {family: (pixels[family]["left_out"], row["features"]) for family, row in report["families"].items()}
    rows |= {"all": tuple({k: sum(r[i][k] for r in rows.values()) for k in rows[next(iter(rows))][i]} for i in (0, 1))}
    lines = [
        "| left out | digits flagged, pixel check | digits flagged, feature check "
        "| capitals flagged, pixel check | capitals flagged, feature check |",
        "|---|---|---|---|---|",
    ]
    for family, (p, f) in rows.items():
        cells = [_share(row, key, of) for key, of in ROWS for row in (p, f)]
        name = f"**all {len(rows) - 1} families**" if family == "all" else family
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for name, title in (
        ("hand_1", "the style set's hand 1 (every family fitted)"),
        ("mnist_test", "MNIST's test digits"),
    ):
        p, f = report[name]["pixels"], report[name]["features"]
        cells = [_share(row, key, of) if of in row else "" for key, of in ROWS for row in (p, f)]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return measured_report_main(argv, __name__, "feature-check", OUT, measure, table)


if __name__ == "__main__":
    sys.exit(main())
