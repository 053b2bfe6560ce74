"""Drawings to store, for the tests and for the writer processes they start."""

from __future__ import annotations

import numpy as np

from mnist_app.drawings import Answer, SharedDrawing, Store, new_drawing


def drawing(digit: int, cnn: int, ann: int, correction: int | None = None, session: str = "s1") -> SharedDrawing:
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 10 + digit : 14 + digit] = 255
    canvas = np.zeros((280, 280, 4), np.uint8)
    answers = {"ann": Answer(ann, 0.9), "cnn": Answer(cnn, 0.99)}
    return new_drawing(image, canvas, answers, session, correction, {"cnn": "t1", "ann": "t2"})


def share_five(url: str, session: int) -> int:
    """One writer's part of the busy-database test: five drawings shared from its own connection."""
    store = Store(url)
    for k in range(5):
        store.share(drawing(k, k, k, session=f"session{session}"))
    return store.count()
