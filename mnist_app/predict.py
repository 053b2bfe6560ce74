"""Classify image files from the command line: `python -m mnist_app.predict [--number] IMAGE [IMAGE ...]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from mnist_app.config import MODEL_NAMES, MODELS_DIR
from mnist_app.reading.parts import WholeReader
from mnist_app.reading.uploads import ImageDecodeError, decode_image
from mnist_app.serving.digit_check import DigitCheck
from mnist_app.serving.digit_check import load as load_digit_check
from mnist_app.serving.reader import STRING_READING, TooManyParts, read_digit, read_number

NUMBER_MODEL = "cnn"  # reads numbers unless --models names another


def _read_image(path: Path) -> tuple[np.ndarray | None, str]:
    """The decoded image, or None and why it could not be read."""
    try:
        return decode_image(path.read_bytes()), ""
    except OSError as error:
        return None, f"cannot read the file ({error.strerror or error})"
    except ImageDecodeError as error:
        return None, str(error)


def classify_file(path: Path, predictors: dict, check: DigitCheck | None = None) -> dict:
    """One file's result: every model's digit, confidence and probabilities, or an error."""
    result: dict = {"file": str(path)}
    image, error = _read_image(path)
    if image is None:
        return {**result, "error": error}
    reading = read_digit(image, predictors, check)
    if reading is None:
        return {**result, "error": "no ink found: the image is blank or has no contrast"}
    if check is not None:
        result["looks_like_a_digit"] = reading.typical
        if reading.letter:
            result["looks_like_a_letter"] = reading.letter
    result["predictions"] = {}
    for name, prediction in reading.predictions.items():
        result["predictions"][name] = {
            "digit": prediction.digit,
            "confidence": round(prediction.confidence, 6),
            "probabilities": [round(float(p), 6) for p in prediction.probabilities],
        }
    return result


def read_number_file(
    path: Path, predictors: dict, string_reader: WholeReader | None = None, check: DigitCheck | None = None
) -> dict:
    """One file read as a number by the one model given: the number and every digit's reading (the
    CNN reads runs of touching digits whole with the string reader, when given). With the digit check,
    as in the app, each digit says whether it looks like a digit at all."""
    result: dict = {"file": str(path)}
    image, error = _read_image(path)
    if image is None:
        return {**result, "error": error}
    (name,) = predictors
    try:
        reading = read_number(image, predictors, check, judge=name, string_reader=string_reader)
    except TooManyParts as error:
        return {**result, "error": str(error)}
    if reading is None:
        return {**result, "error": "no ink found: the image is blank or has no contrast"}
    digits = [
        {
            "digit": p.digit,
            "confidence": round(p.confidence, 6),
            "box": list(digit.box),
            "top3": [[d, round(q, 6)] for d, q in p.top(3)],
            "read_with_neighbours": digit.read_whole is not None and name == STRING_READING,
            **({"looks_like_a_digit": position not in reading.unusual} if check is not None else {}),
        }
        for position, (digit, p) in enumerate(zip(reading.digits, reading.predictions[name], strict=True))
    ]
    ignored = [{"kind": mark.kind, "box": list(mark.box)} for mark in reading.ignored]
    return {**result, "number": reading.number(name), "model": name, "digits": digits, "ignored": ignored}


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
    parser.add_argument("--models", help=f"comma-separated model names (default: all; with --number: {NUMBER_MODEL})")
    parser.add_argument("--number", action="store_true", help="each image is a number of one or more digits")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    models = args.models if args.models is not None else (NUMBER_MODEL if args.number else ",".join(MODEL_NAMES))
    names = tuple(name.strip() for name in models.split(",") if name.strip())
    unknown = sorted(set(names) - set(MODEL_NAMES))
    if not names or unknown:
        parser.error(f"--models takes names from {', '.join(MODEL_NAMES)}; got {models!r}")
    if args.number and len(names) != 1:
        parser.error("--number reads with one model: name it with --models (default: cnn)")

    from mnist_app.serving.registry import load_predictors  # TensorFlow: only after the arguments are fine

    predictors, problems = load_predictors(args.models_dir, names)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    if not predictors:
        print("error: no model could be loaded; run `make train`", file=sys.stderr)
        return 2
    check = load_digit_check(args.models_dir)
    string_reader = None
    if args.number and STRING_READING in predictors:
        from mnist_app.serving.string_reader import load_whole_reader

        string_reader = load_whole_reader(args.models_dir)
    failed = 0
    for path in args.images:
        if args.number:
            result = read_number_file(path, predictors, string_reader, check)
            line = json.dumps(result) if args.json else format_number_line(result)
        else:
            result = classify_file(path, predictors, check)
            line = json.dumps(result) if args.json else format_line(result)
        failed += "error" in result
        print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
