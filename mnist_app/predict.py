"""Classify image files from the command line: `python -m mnist_app.predict [--number] IMAGE [IMAGE ...]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from mnist_app.config import MODEL_NAMES, MODELS_DIR
from mnist_app.reading.uploads import ImageDecodeError, decode_image
from mnist_app.serving.reader import JUDGE, Reader, TooManyParts

NO_INK = "no ink found: the image is blank or has no contrast"


def _read_image(path: Path) -> tuple[np.ndarray | None, str]:
    """The decoded image, or None and why it could not be read."""
    try:
        return decode_image(path.read_bytes()), ""
    except OSError as error:
        return None, f"cannot read the file ({error.strerror or error})"
    except ImageDecodeError as error:
        return None, str(error)


def classify_file(path: Path, reader: Reader, names: tuple[str, ...] | None = None) -> dict:
    """One file's result: every model's digit, confidence and probabilities (with the digit check's
    verdict, as in the app), or an error."""
    image, error = _read_image(path)
    if image is None:
        return {"file": str(path), "error": error}
    reading = reader.read_digit(image, names)
    return {"file": str(path), **({"error": NO_INK} if reading is None else reading.as_json())}


def read_number_file(path: Path, reader: Reader, name: str = JUDGE) -> dict:
    """One file read as a number, as the app's Number mode reads it, and given as model `name` read it:
    the number and every digit's reading (with the digit check's verdict on each)."""
    image, error = _read_image(path)
    if image is None:
        return {"file": str(path), "error": error}
    try:
        reading = reader.read_number(image, (name,))
    except TooManyParts as error:
        return {"file": str(path), "error": str(error)}
    return {"file": str(path), **({"error": NO_INK} if reading is None else reading.as_json(name))}


def format_number_line(result: dict) -> str:
    if "error" in result:
        return f"{result['file']}: error: {result['error']}"
    least = min(d["confidence"] for d in result["digits"])
    left_out = ", ".join(mark["kind"] for mark in result.get("ignored", []))
    note = f"; left out: {left_out}" if left_out else ""
    unusual = [str(i + 1) for i, d in enumerate(result["digits"]) if not d.get("looks_like_a_digit", True)]
    if unusual:
        note += f"; digit {', '.join(unusual)} does not look like a digit"
    return f"{result['file']}: {result['number']} ({result['model']}; least sure digit {least * 100:.0f} %{note})"


def format_line(result: dict) -> str:
    """The human-readable line for one file."""
    if "error" in result:
        return f"{result['file']}: error: {result['error']}"
    answers = ", ".join(
        f"{name} {p['digit']} ({p['confidence'] * 100:.1f} %)" for name, p in result["predictions"].items()
    )
    note = "" if result.get("looks_like_a_digit", True) else " (does not look like a digit)"
    if "looks_like_a_letter" in result:
        note = f" (looks like the letter {result['looks_like_a_letter']}, not a digit)"
    return f"{result['file']}: {answers}{note}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mnist_app.predict", description="Classify images of digits.")
    parser.add_argument("images", nargs="+", type=Path, help="PNG, JPEG, BMP, WebP or GIF files")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--models", help=f"comma-separated model names (default: all; with --number: {JUDGE})")
    parser.add_argument("--number", action="store_true", help="each image is a number of one or more digits")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    models = args.models if args.models is not None else (JUDGE if args.number else ",".join(MODEL_NAMES))
    names = tuple(name.strip() for name in models.split(",") if name.strip())
    unknown = sorted(set(names) - set(MODEL_NAMES))
    if not names or unknown:
        parser.error(f"--models takes names from {', '.join(MODEL_NAMES)}; got {models!r}")
    if args.number and len(names) != 1:
        parser.error("--number reads with one model: name it with --models (default: cnn)")

    from mnist_app.serving.reader import load_reader  # the models: only after the arguments are fine

    # Numbers are cut where the CNN reads the pieces best, whichever model is named: as in the app.
    loaded = tuple(dict.fromkeys((*names, JUDGE))) if args.number else names
    reader = load_reader(args.models_dir, loaded, numbers=args.number)
    for problem in reader.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if not reader.chosen(names):
        print("error: no model could be loaded; run `make train`", file=sys.stderr)
        return 2
    failed = 0
    for path in args.images:
        if args.number:
            result = read_number_file(path, reader, names[0])
            line = json.dumps(result) if args.json else format_number_line(result)
        else:
            result = classify_file(path, reader, names)
            line = json.dumps(result) if args.json else format_line(result)
        failed += "error" in result
        print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
