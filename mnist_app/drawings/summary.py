"""What the room's drawings say about the models: counts, accuracy and confusion, counted by the database.

`room_summary` asks the database for one grouped count (COUNT ... GROUP BY label and answers), so a
Room refresh reads at most a few thousand groups however many drawings are stored, not every row. Held-back drawings are left out until shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from mnist_app.config import NUM_CLASSES, SHOWN_MODELS
from mnist_app.drawings.schema import answer_digit, drawings
from mnist_app.drawings.store import Store


@dataclass(frozen=True)
class RoomSummary:
    count: int  # drawings shared (and shown)
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


def room_summary(store: Store) -> RoomSummary:
    """One pass over the shown drawings, grouped by label, who labelled them and each model's answer.
    Shared drawings carry the answers of the models the app shows (the ANN and the CNN)."""
    answers = [answer_digit(name) for name in SHOWN_MODELS]
    groups = store.read(
        sa.select(drawings.c.label, drawings.c.label_source, *answers, sa.func.count())
        .where(drawings.c.held_back == sa.false())
        .group_by(drawings.c.label, drawings.c.label_source, *answers)
    ).all()
    confusion = {name: np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64) for name in SHOWN_MODELS}
    count = labelled = corrected = 0
    for label, source, *digits, n in groups:
        count += n
        if label is None:
            continue
        labelled += n
        corrected += n if source == "user" else 0
        for name, digit in zip(SHOWN_MODELS, digits, strict=True):
            if digit is not None and 0 <= label < NUM_CLASSES and 0 <= digit < NUM_CLASSES:
                confusion[name][label, digit] += n
    confusion = {name: matrix for name, matrix in confusion.items() if matrix.any()}
    answered = {name: int(matrix.sum()) for name, matrix in confusion.items()}
    accuracy = {name: float(np.trace(m)) / answered[name] for name, m in confusion.items()}
    return RoomSummary(count, labelled, corrected, accuracy, answered, confusion)
