"""Classify image files from the command line: `python -m mnist_app.predict IMAGE [IMAGE ...]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mnist_app import typicality
from mnist_app.config import MODEL_NAMES, MODELS_DIR
from mnist_app.images import ImageDecodeError, decode_image
from mnist_app.preprocess import preprocess


def classify_file(path: Path, predictors: dict, models_dir: Path = MODELS_DIR) -> dict:
    """One file's result: every model's digit, confidence and probabilities, or an error."""
    result: dict = {"file": str(path)}
    try:
        image = decode_image(path.read_bytes())
    except OSError as error:
        return {**result, "error": f"cannot read the file ({error.strerror or error})"}
    except ImageDecodeError as error:
        return {**result, "error": str(error)}
    digit_image = preprocess(image)
    if digit_image is None:
        return {**result, "error": "no ink found: the image is blank or has no contrast"}
    space = typicality.load(models_dir)
    if space is not None:
        result["looks_like_a_digit"] = space.is_typical(digit_image)
    result["predictions"] = {}
    for name, predictor in predictors.items():
        prediction = predictor.predict(digit_image)
        result["predictions"][name] = {
            "digit": prediction.digit,
            "confidence": round(prediction.confidence, 6),
            "probabilities": [round(float(p), 6) for p in prediction.probabilities],
        }
    return result


def format_line(result: dict) -> str:
    """The human-readable line for one file."""
    if "error" in result:
        return f"{result['file']}: error: {result['error']}"
    answers = ", ".join(
        f"{name} {p['digit']} ({p['confidence'] * 100:.1f} %)" for name, p in result["predictions"].items()
    )
    note = "" if result.get("looks_like_a_digit", True) else " (does not look like a digit)"
    return f"{result['file']}: {answers}{note}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mnist_app.predict", description="Classify images of digits.")
    parser.add_argument("images", nargs="+", type=Path, help="PNG, JPEG, BMP, WebP or GIF files")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--models", default=",".join(MODEL_NAMES), help="comma-separated model names")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = tuple(name.strip() for name in args.models.split(",") if name.strip())
    unknown = sorted(set(names) - set(MODEL_NAMES))
    if not names or unknown:
        parser.error(f"--models takes names from {', '.join(MODEL_NAMES)}; got {args.models!r}")

    from mnist_app.inference import load_predictors  # TensorFlow: only after the arguments are fine

    predictors, problems = load_predictors(args.models_dir, names)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    if not predictors:
        print("error: no model could be loaded; run `make train`", file=sys.stderr)
        return 2
    failed = 0
    for path in args.images:
        result = classify_file(path, predictors, args.models_dir)
        failed += "error" in result
        print(json.dumps(result) if args.json else format_line(result), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
