"""The stroke's story: what the browser's live reading said frame by frame while the pen was down, and
when each network made up its mind.

The canvas sends it with the drawing while the "Why the CNN wins" panel is open (its `story` argument;
components/live_reading keeps it in the browser). It comes from the page, so it is checked, never trusted:
anything malformed is no story at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from mnist_app.config import NUM_CLASSES

MAX_FRAMES = 5000  # the browser keeps at most 1,200; more is not a story our canvas sent


@dataclass(frozen=True)
class StrokeStory:
    seconds: np.ndarray  # (n,) since the pen first touched, rising
    strokes: np.ndarray  # (n,) the stroke (1, 2, ...) each frame was read in
    probabilities: dict[str, np.ndarray]  # model name -> (n, 10)

    @property
    def duration(self) -> float:
        return float(self.seconds[-1])

    def stroke_starts(self) -> list[float]:
        """The second of each stroke's first reading."""
        first = np.flatnonzero(np.diff(self.strokes, prepend=self.strokes[0] - 1) != 0)
        return [float(self.seconds[i]) for i in first]

    def settled_at(self, model: str, digit: int) -> float | None:
        """When `model` made up its mind: the first second from which its likeliest digit is `digit` in
        every later frame; None when it was not `digit` as the pen lifted."""
        answers = self.probabilities[model].argmax(axis=1)
        if answers[-1] != digit:
            return None
        other = np.flatnonzero(answers != digit)
        return float(self.seconds[other[-1] + 1]) if len(other) else float(self.seconds[0])


def parse_story(payload: object, models: Iterable[str]) -> StrokeStory | None:
    """The story the canvas sent, for the named models; None when there is none or it is malformed."""
    models = tuple(models)
    frames = payload.get("frames") if isinstance(payload, dict) else None
    if not isinstance(frames, list) or not 0 < len(frames) <= MAX_FRAMES:
        return None
    try:
        seconds = np.array([float(frame["t"]) / 1000 for frame in frames])
        strokes = np.array([int(frame["stroke"]) for frame in frames])
        probabilities = {
            name: np.array([[float(p) for p in frame["p"][name]] for frame in frames], np.float32) for name in models
        }
    except (KeyError, TypeError, ValueError):
        return None
    if not np.all(np.isfinite(seconds)) or np.any(np.diff(seconds) < 0) or np.any(np.diff(strokes) < 0):
        return None
    for values in probabilities.values():
        if values.shape != (len(frames), NUM_CLASSES) or not np.all((values >= 0) & (values <= 1)):
            return None
    return StrokeStory(seconds, strokes, probabilities)
