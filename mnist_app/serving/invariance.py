"""How each network's confidence in one digit holds as its input is moved, turned, resized or restroked.

Every version of every family (mnist_app.reading.variations) goes to each network in one batch, so
opening the "Why the CNN wins" panel costs one batch per network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from mnist_app.reading.variations import FAMILIES, Family


class BatchReader(Protocol):
    def predict_batch(self, images: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Curve:
    """One family's versions of an input and each network's confidence in `digit` for every one of them."""

    family: Family
    digit: int
    images: np.ndarray  # (n, 28, 28), one per value of family.values
    confidence: dict[str, np.ndarray]  # model name -> (n,) probability of `digit`

    @property
    def unchanged_index(self) -> int:
        return self.family.values.index(self.family.unchanged)

    def holds(self, model: str, level: float = 0.5) -> tuple[float, float]:
        """The values on either side of the unchanged input between which `model` stays at `level` or more
        (the unchanged value on both sides when it is below `level` there already)."""
        values, confidence, start = self.family.values, self.confidence[model], self.unchanged_index
        low = high = start
        if confidence[start] >= level:
            while low > 0 and confidence[low - 1] >= level:
                low -= 1
            while high < len(values) - 1 and confidence[high + 1] >= level:
                high += 1
        return values[low], values[high]


def confidence_curves(
    predictors: Mapping[str, BatchReader], image: np.ndarray, digit: int, families: Sequence[Family] = FAMILIES
) -> list[Curve]:
    """Each family's versions of the 28x28 `image` and every network's confidence in `digit` for them."""
    versions = [family.versions(image) for family in families]
    batch = np.concatenate(versions)
    confidence = {name: predictor.predict_batch(batch)[:, digit] for name, predictor in predictors.items()}
    curves, start = [], 0
    for family, images in zip(families, versions, strict=True):
        stop = start + len(images)
        curves.append(Curve(family, digit, images, {name: c[start:stop] for name, c in confidence.items()}))
        start = stop
    return curves
