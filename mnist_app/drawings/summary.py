"""What the room's drawings say about the models: counts, accuracy and confusion, from stored rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnist_app.config import MODEL_NAMES, NUM_CLASSES
from mnist_app.drawings.store import SharedDrawing


@dataclass(frozen=True)
class RoomSummary:
    count: int  # drawings shared
    labelled: int  # ... with a label (the models agreed, or a person said)
    corrected: int  # ... whose label a person gave
    accuracy: dict[str, float]  # per model, on the labelled drawings it answered
    answered: dict[str, int]  # per model: labelled drawings it answered
    confusion: dict[str, np.ndarray]  # per model: (10, 10) counts, rows = label, columns = answer

    def as_json(self) -> dict:
        return {
            "count": self.count,
            "labelled": self.labelled,
            "corrected": self.corrected,
            "accuracy": {name: round(value, 4) for name, value in self.accuracy.items()},
        }


def summarise(drawings: list[SharedDrawing]) -> RoomSummary:
    labelled = [d for d in drawings if d.label is not None]
    names = [name for name in MODEL_NAMES if any(name in d.answers for d in labelled)]
    confusion = {name: np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64) for name in names}
    for drawing in labelled:
        for name, answer in drawing.answers.items():
            if name in confusion:
                confusion[name][drawing.label, answer.digit] += 1
    answered = {name: int(matrix.sum()) for name, matrix in confusion.items()}
    accuracy = {name: float(np.trace(m)) / answered[name] for name, m in confusion.items() if answered[name]}
    return RoomSummary(
        count=len(drawings),
        labelled=len(labelled),
        corrected=sum(d.label_source == "user" for d in labelled),
        accuracy=accuracy,
        answered=answered,
        confusion=confusion,
    )


def misses_first(drawings: list[SharedDrawing]) -> list[SharedDrawing]:
    """Drawings some model got wrong first, then the rest; newest first within each (stable sort)."""
    return sorted(drawings, key=lambda d: not d.missed_by())
