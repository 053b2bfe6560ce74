"""How the shipped reader reads typefaces it never saw: `python -m tools.reports.family_report [--record]`.

Each family of `mnist_app.training.typefaces` (one Debian typeface, its weights and italics) is drawn
as canvas drawings, and photographed on paper (blur, low resolution, uneven light, JPEG). Nothing
the shipped models or the digit check were fitted on comes from these fonts, so every family is a
left-out family. Per family: how often the CNN and the ANN read the digit right, how often the page
calls a digit a letter or "not a digit", and how often it flags the capitals A B E H K M R X.
Writes benchmarks/families.json; with --record, its table in docs/families.md too.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from mnist_app.config import MODELS_DIR, ROOT
from mnist_app.serving.reader import Reader, load_reader
from mnist_app.training.handwriting import FLAGGED_LETTERS
from mnist_app.training.typefaces import DEBIAN_PACKAGES, DIGITS, glyph_drawings, installed_families
from tools.reports.report import measured_report_main

OUT = ROOT / "benchmarks" / "families.json"
MODELS = ("cnn", "ann")
DIGIT_DRAWINGS = 12  # of each digit, per family and kind of input
LETTER_DRAWINGS = 6  # of each flagged capital, per family
SEED = 5  # never a seed anything was fitted with


def paper_photo(drawing: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A canvas drawing as a phone photo of ink on paper: out of focus, taken small, shadowed, JPEG."""
    ink = Image.fromarray(drawing[:, :, 0]).filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 3.0)))
    side = int(rng.integers(60, 281))  # the photo's resolution
    ink = np.asarray(ink.resize((side, side), Image.Resampling.BILINEAR), np.float32) / 255
    steps = np.arange(side) / side
    angle = rng.uniform(0, 2 * np.pi)
    light = 0.75 + 0.2 * (np.cos(angle) * steps[:, None] + np.sin(angle) * steps[None, :])
    pixel = np.clip((light + rng.normal(0, 0.03, (side, side))) * (1 - 0.75 * ink), 0, 1)
    rgb = (np.dstack([pixel * 0.98, pixel * 0.95, pixel * 0.9]) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=int(rng.integers(35, 90)))
    return np.asarray(Image.open(buffer))


def _digit_counts(reader: Reader, family: str, photo: bool) -> dict[str, int]:
    rng = np.random.default_rng([SEED, photo])
    counts: dict = {"drawings": 0, "called_letter": 0, "not_like_a_digit": 0} | {f"{name}_right": 0 for name in MODELS}
    counts["named"] = {}  # "6 as B": how often a digit was called which letter
    for drawing in glyph_drawings(family, DIGITS, DIGIT_DRAWINGS, seed=SEED):
        image = paper_photo(drawing.image, rng) if photo else drawing.image
        reading = reader.read_digit(image)
        if reading is None:
            continue
        counts["drawings"] += 1
        for name in MODELS:
            counts[f"{name}_right"] += int(reading.predictions[name].digit == drawing.label)
        counts["called_letter"] += int(reading.letter is not None and not reading.twin)
        counts["not_like_a_digit"] += int(not reading.looks_like_a_digit)
        if reading.letter is not None:  # twins too (an 8 as B): the page says it could be either
            key = f"{drawing.label} as {reading.letter}" + (" (could be either)" if reading.twin else "")
            counts["named"][key] = counts["named"].get(key, 0) + 1
    return counts


def _letter_counts(reader: Reader, family: str) -> dict[str, int]:
    counts = {"drawings": 0, "flagged": 0}
    for drawing in glyph_drawings(family, FLAGGED_LETTERS, LETTER_DRAWINGS, seed=SEED):
        reading = reader.read_digit(drawing.image)
        if reading is not None:
            counts["drawings"] += 1
            counts["flagged"] += int(not reading.typical)
    return counts


def measure(models_dir: Path = MODELS_DIR, progress: Callable[[str], None] = lambda _: None) -> dict:
    """Per family: the digits on canvas and in photos, and the capitals, read by the shipped reader."""
    reader = load_reader(models_dir, MODELS, numbers=False)
    if reader.problems:
        raise SystemExit("\n".join(reader.problems))
    families = {}
    for family in installed_families():
        progress(family)
        families[family] = {
            "canvas": _digit_counts(reader, family, photo=False),
            "photo": _digit_counts(reader, family, photo=True),
            "capitals": _letter_counts(reader, family),
        }
    return {"packages": list(DEBIAN_PACKAGES), "families": families}


def _share(counts: dict[str, int], key: str) -> float:
    return counts[key] / max(counts["drawings"], 1)


def letters_named(report: dict) -> dict[str, int]:
    """Over all families: which digit was called which letter, most often first."""
    named: dict[str, int] = {}
    for row in report["families"].values():
        for key, count in row["canvas"]["named"].items():
            named[key] = named.get(key, 0) + count
    return dict(sorted(named.items(), key=lambda item: -item[1]))


def totals(report: dict) -> dict:
    """Over all families, and the worst family for each figure."""
    rows = report["families"]

    def pooled(kind: str, key: str) -> float:
        return sum(row[kind][key] for row in rows.values()) / sum(row[kind]["drawings"] for row in rows.values())

    def wrongly_flagged(row: dict) -> float:
        canvas = row["canvas"]
        return (canvas["called_letter"] + canvas["not_like_a_digit"]) / max(canvas["drawings"], 1)

    return {
        "families": len(rows),
        "canvas_cnn_right": pooled("canvas", "cnn_right"),
        "canvas_ann_right": pooled("canvas", "ann_right"),
        "photo_cnn_right": pooled("photo", "cnn_right"),
        "photo_ann_right": pooled("photo", "ann_right"),
        "digits_called_letter": pooled("canvas", "called_letter"),
        "digits_not_like_a_digit": pooled("canvas", "not_like_a_digit"),
        "capitals_flagged": pooled("capitals", "flagged"),
        "worst_photo_family": min(rows, key=lambda family: _share(rows[family]["photo"], "cnn_right")),
        "worst_flagging_family": max(rows, key=lambda family: wrongly_flagged(rows[family])),
        "worst_capitals_family": min(rows, key=lambda family: _share(rows[family]["capitals"], "flagged")),
    }


def table(report: dict) -> str:
    """One row per family, then all families pooled."""
    percent = "{:.0%}".format
    lines = [
        "| family (left out: never fitted on) | CNN canvas | ANN canvas | CNN photo | ANN photo "
        '| digits called a letter | digits "not a digit" | capitals flagged |',
        "|---|---|---|---|---|---|---|---|",
    ]
    for family, row in report["families"].items():
        canvas, photo, capitals = row["canvas"], row["photo"], row["capitals"]
        lines.append(
            f"| {family} | {percent(_share(canvas, 'cnn_right'))} | {percent(_share(canvas, 'ann_right'))} "
            f"| {percent(_share(photo, 'cnn_right'))} | {percent(_share(photo, 'ann_right'))} "
            f"| {canvas['called_letter']} of {canvas['drawings']} | {canvas['not_like_a_digit']} of {canvas['drawings']} "
            f"| {capitals['flagged']} of {capitals['drawings']} |"
        )
    t = totals(report)
    lines.append(
        f"| **all {t['families']} families** | **{t['canvas_cnn_right']:.1%}** | **{t['canvas_ann_right']:.1%}** "
        f"| **{t['photo_cnn_right']:.1%}** | **{t['photo_ann_right']:.1%}** | **{t['digits_called_letter']:.1%}** "
        f"| **{t['digits_not_like_a_digit']:.1%}** | **{t['capitals_flagged']:.1%}** |"
    )
    lines += [
        "",
        f"Worst family: for photos (CNN), {t['worst_photo_family']}; for digits wrongly flagged, "
        f"{t['worst_flagging_family']}; for capitals let through, {t['worst_capitals_family']}.",
        "Digits called a letter, all families: "
        + (", ".join(f"{key} ({count})" for key, count in letters_named(report).items()) or "none")
        + ".",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return measured_report_main(
        argv,
        __name__,
        "families",
        OUT,
        lambda models_dir: measure(models_dir, progress=lambda family: print(family, file=sys.stderr)),
        table,
        totals,
    )


if __name__ == "__main__":
    sys.exit(main())
