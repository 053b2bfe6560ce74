"""What reading an image gives: a digit's or a number's reading, and its JSON (the CLI's output, one place)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mnist_app.reading.preprocess import PreprocessSteps
from mnist_app.reading.segment import Digit, Ignored
from mnist_app.serving.prediction import Prediction


@dataclass(frozen=True)
class DigitReading:
    """One image as the models saw and read it."""

    steps: PreprocessSteps  # the preprocessing, step by step; `steps.final` is the model input
    predictions: dict[str, Prediction]  # per model, in the order given
    typical: bool = True  # looks like an MNIST digit at all (True when there is no digit check)
    letter: str | None = None  # the capital letter it looks like instead, if the check found one
    checked: bool = False  # whether the digit check judged it (it is missing from an untrained models/)
    twin: bool = False  # the letter is also a form of the answered digit (a B read as 8): it could be either

    @property
    def looks_like_a_digit(self) -> bool:
        """Typical of the digits, or a letter that is also the answered digit's form: nothing to hold back."""
        return self.typical or self.twin

    def as_json(self) -> dict:
        """Every model's digit, confidence and probabilities; with the check, whether it looks like a digit."""
        flags = {"looks_like_a_digit": self.typical} if self.checked else {}
        if self.letter:
            flags["looks_like_a_letter"] = self.letter
        return {**flags, "predictions": {name: _prediction_json(p) for name, p in self.predictions.items()}}


@dataclass(frozen=True)
class NumberReading:
    """A number as segmented and read by one or more models."""

    digits: list[Digit]  # left to right, with boxes and 28x28 inputs
    predictions: dict[str, list[Prediction]]  # per model, one prediction per digit
    unusual: list[int] = field(default_factory=list)  # positions of parts that look like no digit
    ignored: list[Ignored] = field(default_factory=list)  # ink left out (specks, faint or stray marks), and why
    checked: bool = False  # whether the digit check judged the parts
    read_whole_by: str | None = None  # the model whose answers for touching runs are the string reader's

    def number(self, model: str) -> str:
        return "".join(str(p.digit) for p in self.predictions[model])

    def least_sure(self, model: str) -> Prediction:
        return min(self.predictions[model], key=lambda p: p.confidence)

    def doubtful(self, model: str) -> list[int]:
        """Positions (0-based) of the digits this model is not sure of."""
        return [i for i, p in enumerate(self.predictions[model]) if not p.sure]

    def as_json(self, model: str) -> dict:
        """The number one model read, every digit's reading and place, and the ink left out."""
        digits = [
            {
                "digit": p.digit,
                "confidence": round(p.confidence, 6),
                "box": list(digit.box),
                "top3": [[d, round(q, 6)] for d, q in p.top(3)],
                "read_with_neighbours": digit.read_whole is not None and model == self.read_whole_by,
                **({"looks_like_a_digit": position not in self.unusual} if self.checked else {}),
            }
            for position, (digit, p) in enumerate(zip(self.digits, self.predictions[model], strict=True))
        ]
        ignored = [{"kind": mark.kind, "box": list(mark.box)} for mark in self.ignored]
        return {"number": self.number(model), "model": model, "digits": digits, "ignored": ignored}


def _prediction_json(prediction: Prediction) -> dict:
    return {
        "digit": prediction.digit,
        "confidence": round(prediction.confidence, 6),
        "probabilities": [round(float(p), 6) for p in prediction.probabilities],
    }
