"""The random forest (YDF): trained on the same 28x28 inputs, stored in YDF's own format, read fast.

1. `mnist_app.training.forest` fits a YDF random forest on the flattened training split and writes
   models/forest/ (YDF's format: no pickle) plus the card models/forest.json.
2. For serving, the trees are copied once into flat NumPy arrays (`FlatForest`): one image walks
   every tree at once, a step per level, in well under a millisecond. YDF's own `predict` costs
   far more per image (it builds a 784-column dataset each time: `make bench` times both). The copy is checked
   against YDF's predictions (tests/serving/test_forest.py) and cached under data/ by the model's checksum.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mnist_app.atomic_files import write_npz
from mnist_app.config import DATA_DIR, IMAGE_SIDE, NUM_CLASSES
from mnist_app.serving.calibration import apply_temperature, card_temperature
from mnist_app.serving.model_files import REBUILD_HINT, ModelLoadError, read_card
from mnist_app.serving.prediction import Prediction

PIXELS = IMAGE_SIDE * IMAGE_SIDE


@dataclass(frozen=True)
class FlatForest:
    """Every tree's nodes in arrays; children < 0 are leaves (-1 - row of `leaf_probabilities`)."""

    feature: np.ndarray  # (nodes,) int32 pixel index of the split
    threshold: np.ndarray  # (nodes,) float32: go to `above` when pixel >= threshold
    above: np.ndarray  # (nodes,) int32 child node, or -1 - leaf
    below: np.ndarray  # (nodes,) int32
    roots: np.ndarray  # (trees,) int32 root node of each tree (or -1 - leaf for a one-leaf tree)
    leaf_probabilities: np.ndarray  # (leaves, 10) float32: each leaf's vote (one-hot) or class distribution

    def predict_proba(self, pixels: np.ndarray) -> np.ndarray:
        """(n, 784) floats in [0, 1] -> (n, 10): the average of the trees' leaf distributions."""
        pixels = np.asarray(pixels, np.float32).reshape(-1, PIXELS)
        rows = np.arange(len(pixels))[:, None]
        node = np.broadcast_to(self.roots, (len(pixels), len(self.roots))).copy()
        while (inner := node >= 0).any():
            at = np.where(inner, node, 0)
            go_above = pixels[rows, self.feature[at]] >= self.threshold[at]
            node = np.where(inner, np.where(go_above, self.above[at], self.below[at]), node)
        return self.leaf_probabilities[-1 - node].mean(axis=1)

    def first_trees(self, count: int) -> FlatForest:
        """The same forest with only its first `count` trees (for the accuracy-against-size curve)."""
        return FlatForest(
            self.feature, self.threshold, self.above, self.below, self.roots[:count], self.leaf_probabilities
        )

    def save(self, path: Path) -> None:
        write_npz(path, **{name: getattr(self, name) for name in self.__dataclass_fields__})

    @classmethod
    def load(cls, path: Path) -> FlatForest:
        with np.load(path, allow_pickle=False) as arrays:
            return cls(**{name: arrays[name] for name in cls.__dataclass_fields__})


def flatten(model: object) -> FlatForest:
    """Copy a YDF forest's trees into arrays (YDF numbers a multi-dimensional input's columns in order)."""
    column_to_pixel = _pixel_columns(model)
    # YDF's random forests vote by default: each tree gives its leaf's most frequent class, not the distribution.
    votes = bool(model.winner_takes_all())
    feature, threshold, above, below, roots, leaves = [], [], [], [], [], []

    def visit(node: object) -> int:
        if node.is_leaf:
            distribution = np.asarray(node.value.probability, np.float32)
            leaves.append(np.eye(NUM_CLASSES, dtype=np.float32)[distribution.argmax()] if votes else distribution)
            return -len(leaves)  # -1 - leaf row
        condition = node.condition
        if not hasattr(condition, "threshold") or not hasattr(condition, "attribute"):
            raise ModelLoadError(f"the forest uses a {type(condition).__name__} split, which is not supported")
        index = len(feature)
        feature.append(column_to_pixel[condition.attribute])
        threshold.append(condition.threshold)
        above.append(0)
        below.append(0)
        above[index] = visit(node.pos_child)
        below[index] = visit(node.neg_child)
        return index

    for tree in model.iter_trees():
        roots.append(visit(tree.root))
    return FlatForest(
        np.asarray(feature, np.int32),
        np.asarray(threshold, np.float32),
        np.asarray(above, np.int32),
        np.asarray(below, np.int32),
        np.asarray(roots, np.int32),
        np.stack(leaves).astype(np.float32),
    )


def _pixel_columns(model: object) -> dict[int, int]:
    """Data-spec column index -> pixel index, for the unrolled `pixels` feature."""
    mapping = {}
    for position, column in enumerate(model.data_spec().columns):
        if column.name.startswith("pixels."):
            mapping[position] = int(column.name.split(".")[1].split("_")[0])
    if len(mapping) != PIXELS:
        raise ModelLoadError(f"the forest reads {len(mapping)} pixel columns, not {PIXELS}; {REBUILD_HINT}")
    return mapping


@dataclass
class ForestPredictor:
    """The forest behind the same interface as the Keras predictors (no saliency: it has no gradients)."""

    name: str
    flat: FlatForest
    card: dict = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        self.temperature = card_temperature(self.card)

    def predict(self, image: np.ndarray, saliency: bool = False) -> Prediction:
        return Prediction(self.name, self.predict_batch(np.asarray(image)[None])[0])

    def predict_batch(self, images: np.ndarray, batch_size: int = 2000, calibrated: bool = True) -> np.ndarray:
        x = np.asarray(images, np.float32).reshape(-1, PIXELS)  # also takes flat (n, 784) rows
        parts = [self.flat.predict_proba(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        probabilities = np.concatenate(parts) if parts else np.zeros((0, NUM_CLASSES), np.float32)
        if calibrated and self.temperature != 1.0:
            probabilities = apply_temperature(probabilities, self.temperature)
        return probabilities


def load_forest(models_dir: Path, cache_dir: Path = DATA_DIR) -> ForestPredictor:
    """models/forest/ and its card; the flat copy comes from the cache when the model is unchanged."""
    path = Path(models_dir) / "forest"
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is missing; train it with `make train` (or `python train.py --models forest`)")
    cached = cached_copy_path(models_dir, cache_dir)
    card = read_card(path.with_suffix(".json"))
    try:
        return ForestPredictor("forest", FlatForest.load(cached), card, path)
    except (OSError, ValueError, KeyError):
        pass  # not cached yet (or a damaged cache): read YDF's files
    flat = flatten(_load_ydf(path))
    if card and card.get("nodes") not in (None, len(flat.feature) + len(flat.leaf_probabilities)):
        raise ModelLoadError(f"{path.with_suffix('.json')} does not describe {path}; {REBUILD_HINT}")
    with contextlib.suppress(OSError):  # a read-only disk: serve from memory
        flat.save(cached)
    return ForestPredictor("forest", flat, card, path)


def cached_copy_path(models_dir: Path, cache_dir: Path = DATA_DIR) -> Path:
    """Where the flat copy of models_dir's forest is cached: named by the checksum of YDF's files."""
    return Path(cache_dir) / f"forest-{_checksum(Path(models_dir) / 'forest')[:16]}.npz"


def _load_ydf(path: Path) -> object:
    import ydf

    ydf.verbose(0)  # YDF prints "Loading model from ..." to stdout: the predict CLI's output is for its user
    try:
        return ydf.load_model(str(path))
    except Exception as error:  # YDF raises plain Exceptions for unreadable files
        raise ModelLoadError(f"{path} could not be loaded ({type(error).__name__}: {error}); {REBUILD_HINT}") from error


def _checksum(directory: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(file.relative_to(directory).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def directory_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def main() -> None:
    """Flatten the shipped forest into its cache in data/ (once per model), so that no server or test waits."""
    from mnist_app.config import MODELS_DIR

    forest = load_forest(MODELS_DIR)
    print(f"Flat forest ready: {len(forest.flat.roots)} trees, {len(forest.flat.feature):,} splits.")


if __name__ == "__main__":
    main()
