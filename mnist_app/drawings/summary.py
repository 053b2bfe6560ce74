"""What the room's drawings say about the models: counts, accuracy and confusion, counted by the database.

`room_summary` asks for aggregates (COUNT ... GROUP BY), so a Room refresh reads a few dozen numbers
however many drawings are stored, not every row. Held-back drawings are left out until shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from mnist_app.config import MODEL_NAMES, NUM_CLASSES
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
    shown = drawings.c.held_back == sa.false()
    labelled = drawings.c.label.is_not(None)
    corrected = sa.func.sum(sa.case((sa.and_(labelled, drawings.c.label_source == "user"), 1), else_=0))
    count, labelled_count, corrected_count = store.read(
        sa.select(sa.func.count(), sa.func.count(drawings.c.label), corrected).where(shown)
    ).one()
    confusion = {}
    for name in MODEL_NAMES:
        answer = answer_digit(name)
        cells = store.read(
            sa.select(drawings.c.label, answer, sa.func.count())
            .where(shown, labelled, answer.is_not(None))
            .group_by(drawings.c.label, answer)
        ).all()
        if cells:
            matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
            for label, digit, n in cells:
                if 0 <= label < NUM_CLASSES and 0 <= digit < NUM_CLASSES:
                    matrix[label, digit] += n
            confusion[name] = matrix
    answered = {name: int(matrix.sum()) for name, matrix in confusion.items()}
    accuracy = {name: float(np.trace(m)) / answered[name] for name, m in confusion.items() if answered[name]}
    return RoomSummary(
        count=count,
        labelled=labelled_count,
        corrected=int(corrected_count or 0),
        accuracy=accuracy,
        answered=answered,
        confusion=confusion,
    )
