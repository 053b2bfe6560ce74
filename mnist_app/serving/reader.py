"""Read what a user gave: one digit, or a whole number. One `Reader`, loaded once by `load_reader`, reads
for the app, its Number mode, the CLI and the tools.

A digit:
1. `preprocess_steps`: find the ink, crop, even out the stroke, fit 20 px, centre (`reading/`);
2. every given model reads the 28x28 input (with its saliency where asked);
3. the digit check (`DigitCheck`) judges the input against the answer of the judging model: does it
   look like a digit at all, or more like a printed letter?
A number:
1. `segment` cuts the image into digits, and says what ink it left out and why. It proposes, and a
   `PartJudge` reads what it proposes: stray marks and pieces of touching digits by the judging model
   and the digit check, runs of touching digits whole by the string reader (the CNN's answers there),
   or without it cut where the judging model reads the pieces most confidently;
2. every given model reads every digit, in one batch per model;
3. the digit check marks the parts that look like no digit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_app.config import MODEL_NAMES, MODELS_DIR
from mnist_app.reading.parts import WholeReader
from mnist_app.reading.preprocess import Polarity, preprocess_steps
from mnist_app.reading.segment import segment
from mnist_app.reading.variations import FAMILIES, Family, naive_input
from mnist_app.serving.digit_check import DigitCheck
from mnist_app.serving.invariance import Curve, confidence_curves
from mnist_app.serving.prediction import Prediction
from mnist_app.serving.readings import DigitReading, NumberReading

if TYPE_CHECKING:
    from mnist_app.serving.explain import AnnProbe, CnnProbe
    from mnist_app.serving.feature_check import FeatureJudge
    from mnist_app.serving.prediction import Predicts

# The CNN: the digit check judges its answer, it chooses where touching digits are cut, and the string
# reader's readings of touching runs are given as its answers.
JUDGE = "cnn"
MAX_DIGITS = 20  # more parts than this is a scribble or a page of text, not a number


class TooManyParts(ValueError):
    """The image splits into more parts than a number has: it is probably a scribble."""


@dataclass
class Reader:
    """Everything that reads an image, loaded once and shared: the models, the digit check, the string
    reader, and (on first use) the probes of the inside view."""

    predictors: dict[str, Predicts]  # every model that loaded, by name
    problems: list[str] = field(default_factory=list)  # one message per model that did not
    check: DigitCheck | None = None  # None when models/ has none: every input then passes
    # Judges a single digit on the CNN's features instead (`serving.feature_check`), when models/ has one
    # fitted on this CNN; numbers' parts are still judged by `check`, which chose where to cut them.
    feature_judge: FeatureJudge | None = None
    string_reader: WholeReader | None = None  # None: touching digits are cut instead of read whole
    # Loads the string reader on the first number read (then `string_reader` holds it): reading one
    # digit (the CLI, the tools) never loads it; a server loads it as it starts (mnist_app.ui.startup).
    load_strings: Callable[[], WholeReader | None] | None = field(default=None, repr=False)
    # Models loaded on first use (`all_models`): a server loads the shown ones as it starts, and the rest
    # only when a visitor opens every model's reading. `load_models` loads some by name.
    later: tuple[str, ...] = ()
    load_models: Callable[[tuple[str, ...]], tuple[dict[str, Predicts], list[str]]] | None = field(
        default=None, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def chosen(self, names: Iterable[str] | None = None) -> dict[str, Predicts]:
        """The loaded models among `names` (all of them by default), in that order."""
        return (
            dict(self.predictors) if names is None else {n: self.predictors[n] for n in names if n in self.predictors}
        )

    def read_digit(
        self,
        image: np.ndarray | None,
        names: Iterable[str] | None = None,
        polarity: Polarity = "auto",
        saliency: Collection[str] = (),
    ) -> DigitReading | None:
        """Preprocess `image` and let every chosen model read it; None when there is no ink. The digit
        check judges the input against the CNN's answer (the first model's without the CNN). `saliency`
        names the models whose answer comes with a saliency map (gradient x input)."""
        steps = preprocess_steps(image, polarity) if image is not None else None
        if steps is None:
            return None
        chosen = self.chosen(names)
        predictions = {name: p.predict(steps.final, saliency=name in saliency) for name, p in chosen.items()}
        answer = self._judges_answer(steps.final, predictions)
        judge = self.digit_judge
        if judge is None or answer is None:
            return DigitReading(steps, predictions)
        verdict = judge.verdict(steps.final, answer)
        return DigitReading(steps, predictions, verdict.typical, verdict.letter, True, twin=verdict.twin)

    @property
    def digit_judge(self) -> FeatureJudge | DigitCheck | None:
        """What judges a single digit: the feature check where there is one for this CNN, else the pixel check."""
        return self.feature_judge or self.check

    def read_number(
        self, image: np.ndarray | None, names: Iterable[str] | None = None, polarity: Polarity = "auto"
    ) -> NumberReading | None:
        """Segment `image` and read every digit with every chosen model; None when there is no ink.

        The CNN's confidence picks between ways of cutting touching digits, whichever models are chosen;
        with the string reader, runs of touching digits are read whole, and its readings are the CNN's
        there; the other models read the pieces they were cut into.
        Raises TooManyParts for an image that falls into more than MAX_DIGITS parts.
        """
        chosen = self.chosen(names)
        referee = self.predictors.get(JUDGE) or next(iter(chosen.values()), None)
        if image is None or referee is None:
            return None
        segmentation = segment(image, polarity, PartJudge(referee, self.check, self.whole_reader()))
        digits = segmentation.digits
        if not digits:
            return None
        if len(digits) > MAX_DIGITS:
            raise TooManyParts(f"this splits into {len(digits)} parts; write a number of at most {MAX_DIGITS} digits")
        batch = np.stack([digit.image for digit in digits])
        predictions = {
            name: [
                Prediction(name, digit.read_whole if name == JUDGE and digit.read_whole is not None else p)
                for digit, p in zip(digits, predictor.predict_batch(batch), strict=True)
            ]
            for name, predictor in chosen.items()
        }
        # a piece of touching digits holds bits of its neighbours: the check would find any of them unusual
        unusual = []
        if self.check is not None:
            answers = (
                [p.digit for p in predictions[referee.name]]
                if referee.name in predictions
                else referee.predict_batch(batch).argmax(1)
            )
            unusual = [
                i
                for i, (digit, answer) in enumerate(zip(digits, answers, strict=True))
                if digit.read_whole is None and not self.check.verdict(digit.image, int(answer)).looks_like_a_digit
            ]
        return NumberReading(digits, predictions, unusual, segmentation.ignored, self.check is not None, JUDGE)

    def read_uncentred(
        self, image: np.ndarray | None, names: Iterable[str] | None = None, polarity: Polarity = "auto"
    ) -> tuple[np.ndarray, dict[str, Prediction]] | None:
        """The whole image scaled to 28x28 without cropping or centring, as a naive demo reads it, and every
        chosen model's reading of that; None when there is no ink."""
        uncentred = naive_input(image, polarity) if image is not None else None
        if uncentred is None:
            return None
        return uncentred, {name: p.predict(uncentred) for name, p in self.chosen(names).items()}

    def read_variations(
        self,
        image: np.ndarray,
        digit: int,
        names: Iterable[str] | None = None,
        families: Sequence[Family] = FAMILIES,
    ) -> list[Curve]:
        """Each chosen model's confidence in `digit` as the 28x28 `image` is moved, turned, resized and
        restroked, one curve per family (mnist_app.serving.invariance): one batch per model."""
        return confidence_curves(self.chosen(names), image, digit, families)

    def all_models(self) -> dict[str, Predicts]:
        """Every model that loads, by name: the ones for later are loaded now if they have not been yet
        (a model that does not load is left out, with a message in `problems`)."""
        with self._lock:
            if self.later and self.load_models is not None:
                loaded, problems = self.load_models(self.later)
                self.predictors = {**self.predictors, **loaded}
                self.problems = [*self.problems, *problems]
                self.later = ()
        return dict(self.predictors)

    def whole_reader(self) -> WholeReader | None:
        """The string reader, loaded now if it has not been yet (None when models/ has none)."""
        with self._lock:
            if self.load_strings is not None:
                self.string_reader, self.load_strings = self.load_strings(), None
        return self.string_reader

    @cached_property
    def probes(self) -> tuple[CnnProbe | None, AnnProbe | None]:
        """The CNN's and the ANN's probes for the inside view (None for a model that is missing)."""
        from mnist_app.serving.explain import AnnProbe, CnnProbe

        cnn, ann = self.predictors.get("cnn"), self.predictors.get("ann")
        return (CnnProbe(cnn) if cnn else None), (AnnProbe(ann) if ann else None)

    @property
    def probes_loaded(self) -> bool:
        """Whether `probes` has been made (the first use makes them: the UI says so while it waits)."""
        return "probes" in self.__dict__

    def _judges_answer(self, image: np.ndarray, predictions: dict[str, Prediction]) -> int | None:
        if JUDGE in predictions:
            return predictions[JUDGE].digit
        if JUDGE in self.predictors:
            return self.predictors[JUDGE].predict(image).digit
        return next((p.digit for p in predictions.values()), None)


def load_reader(
    models_dir: Path = MODELS_DIR, names: Iterable[str] = MODEL_NAMES, numbers: bool = True, later: Iterable[str] = ()
) -> Reader:
    """The models named (served in NumPy) and the digit check from `models_dir`; for reading
    numbers, its string reader too, loaded on the first number; the models in `later`, on the first
    `all_models()`. A model that does not load is left out with a message."""
    from mnist_app.serving import feature_check
    from mnist_app.serving.digit_check import load as load_digit_check
    from mnist_app.serving.registry import load_predictors  # the models: loaded only when a reader is made
    from mnist_app.serving.string_reader import load_whole_reader

    names = tuple(names)
    predictors, problems = load_predictors(Path(models_dir), names)
    strings = partial(load_whole_reader, Path(models_dir)) if numbers and JUDGE in predictors else None
    pixels = load_digit_check(Path(models_dir))
    return Reader(
        predictors,
        problems,
        pixels,
        feature_check.judge_for(feature_check.load(Path(models_dir)), predictors.get(JUDGE), pixels),
        load_strings=strings,
        later=tuple(name for name in later if name not in names),
        load_models=partial(load_predictors, Path(models_dir)),
    )


@dataclass(frozen=True)
class PartJudge:
    """What segmentation proposes, read by the models (`reading.parts.Judge`): the judging model and the
    digit check read candidate digits, to leave out stray marks and to choose where touching digits
    split; the string reader, where there is one, reads runs of touching digits whole."""

    predictor: Predicts
    check: DigitCheck | None = None
    string_reader: WholeReader | None = None

    @property
    def reads_runs(self) -> bool:
        return self.string_reader is not None

    def score(self, images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        probabilities = self.predictor.predict_batch(np.stack(images))
        if self.check is None:
            return probabilities, np.ones(len(images), bool)
        check = self.check
        typical = [check.is_typical(x, int(p.argmax())) for x, p in zip(images, probabilities, strict=True)]
        return probabilities, np.asarray(typical, bool)

    def read_run(self, ink: np.ndarray) -> list[tuple[np.ndarray, float]] | None:
        return self.string_reader(ink) if self.string_reader is not None else None
