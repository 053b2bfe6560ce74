"""Inside the networks: what each layer computes for one input, and the training digits most like it.

1. `CnnProbe`: one pass (in NumPy, as the server answers) gives the feature maps of each
   convolutional block (28x28, 14x14, 5x5), the dense layer before the output, and the 10 logits
   (before softmax);
2. `AnnProbe`: one pass gives each hidden layer's activations, and the first layer's
   weights summed as a 28x28 "template", each unit weighted by how strongly it fired;
3. `NeighbourIndex`: the CNN's penultimate features of the 60,000 training digits, unit length,
   so the closest digits by cosine are one matrix product away. Built once, cached under data/
   with a checksum of the model and the data: `python -m mnist_app.serving.explain` builds it for the
   shipped CNN during set-up (`make run`, `make test`, the Docker image), so that nobody waits for it.
The UI only renders the arrays these return.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_app.atomic_files import remove_leftovers, write_npz
from mnist_app.config import DATA_DIR, IMAGE_SIDE
from mnist_app.reading.model_input import model_batch
from mnist_app.reading.preprocess import is_soft
from mnist_app.serving.array_networks import Layer, run
from mnist_app.serving.array_predictor import ArrayPredictor, stored_members
from mnist_app.serving.model_files import model_path

CHUNK = 32  # images per pass when indexing (as `serving.array_predictor`)


@dataclass(frozen=True)
class CnnView:
    blocks: list[np.ndarray]  # per convolutional block: (height, width, channels) feature maps
    dense: np.ndarray  # (units,) activations of the dense layer before the output
    logits: np.ndarray  # (10,) the output layer's inputs to softmax


@dataclass(frozen=True)
class AnnView:
    hidden: list[np.ndarray]  # per hidden layer: (units,) activations
    template: np.ndarray  # (28, 28) first-layer weights, each unit weighted by its activation


def block_steps(network: list[Layer]) -> list[int]:
    """The CNN's block outputs: each convolution right before a pooling step, and the last convolution."""
    chosen = [i for i, step in enumerate(network[:-1]) if step.op == "conv2d" and network[i + 1].op == "maxpool"]
    convolutions = [i for i, step in enumerate(network) if step.op == "conv2d"]
    if convolutions and convolutions[-1] not in chosen:
        chosen.append(convolutions[-1])
    return chosen


class CnnProbe:
    """The CNN's intermediate activations for one image (its first member's: an ensemble's are alike)."""

    def __init__(self, cnn: ArrayPredictor) -> None:
        self.member_count, self.expert_count = len(cnn.members), len(cnn.experts)
        network = cnn.members[0]
        self._hidden = network[:-1]  # up to the dense layer before the output
        self.blocks = block_steps(network)
        self.kernel, self.bias = network[-1].kernel, network[-1].bias
        # The first convolution as trained, before batch normalisation is folded into it.
        first_conv = next(layer for layer in stored_members(cnn.stored)[0][0] if layer.kind == "Conv2D")
        self.first_kernels = np.asarray(first_conv.weights[0])[:, :, 0, :]  # (3, 3, filters)

    def answered_by_experts(self, image: np.ndarray) -> bool:
        """Soft ink (blurred, low-resolution) is answered by the soft-ink experts, not the members shown."""
        return self.expert_count > 0 and is_soft(image)

    def view(self, image: np.ndarray) -> CnnView:
        outputs = run(self._hidden, model_batch(image)[:1], keep=True)
        dense = outputs[-1][0]
        return CnnView([outputs[i][0] for i in self.blocks], dense, dense @ self.kernel + self.bias)

    def features(self, images: np.ndarray) -> np.ndarray:
        """Penultimate features (n, units) of (n, 28, 28) float images."""
        x = model_batch(images)
        return np.concatenate([run(self._hidden, x[i : i + CHUNK]) for i in range(0, len(x), CHUNK)])


class AnnProbe:
    """The ANN's hidden activations for one image, and its first layer's template (its first member's)."""

    def __init__(self, ann: ArrayPredictor) -> None:
        network = ann.members[0]
        self._hidden = network[:-1]
        self._dense = [i for i, step in enumerate(self._hidden) if step.op == "dense"]
        self.first_kernel = self._hidden[self._dense[0]].kernel  # (784, units); no batch norm folded into it

    def view(self, image: np.ndarray) -> AnnView:
        outputs = run(self._hidden, model_batch(image)[:1], keep=True)
        hidden = [outputs[i][0] for i in self._dense]
        template = (self.first_kernel @ hidden[0]).reshape(IMAGE_SIDE, IMAGE_SIDE)
        return AnnView(hidden, template)


@dataclass(frozen=True)
class NeighbourIndex:
    features: np.ndarray  # (n, units) float32, unit length
    labels: np.ndarray  # (n,) uint8

    def nearest(self, feature: np.ndarray, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the k most similar training digits (cosine), most similar first, and their distances."""
        query = feature / max(float(np.linalg.norm(feature)), 1e-12)
        similarity = self.features @ query
        top = np.argpartition(-similarity, k)[:k]
        top = top[np.argsort(-similarity[top])]
        return top, 1.0 - similarity[top]


def build_index(probe: CnnProbe, images: np.ndarray, labels: np.ndarray) -> NeighbourIndex:
    features = probe.features(images.astype(np.float32) / 255)
    features /= np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    return NeighbourIndex(features.astype(np.float32), labels.astype(np.uint8))


def cached_index(
    probe: CnnProbe, model_path: Path, images: np.ndarray, labels: np.ndarray, folder: Path | None = None
) -> NeighbourIndex:
    """The index from data/ (or `folder`) if its checksum matches this model and data; else built and saved.

    Processes that want the same index at once (replicas starting together) build it once: the others
    wait on a lock file beside it, then read what the first one wrote."""
    folder = Path(DATA_DIR if folder is None else folder)
    digest = hashlib.sha256(Path(model_path).read_bytes())
    digest.update(images.tobytes())
    key = digest.hexdigest()
    path = folder / f"neighbours-{key[:16]}.npz"
    cached = _read_index(path, key)
    if cached is not None:
        return cached
    with _exclusive(path.with_suffix(".lock")):
        cached = _read_index(path, key)  # another process may have built it while this one waited
        if cached is not None:
            return cached
        remove_leftovers(path)  # from a build that was killed; no other process writes it while we hold the lock
        index = build_index(probe, images, labels)
        write_npz(
            path,
            features=index.features,
            labels=index.labels,
            key=np.array(key),
            sum=np.array(hashlib.sha256(index.features.tobytes()).hexdigest()),
        )
    return index


def _read_index(path: Path, key: str) -> NeighbourIndex | None:
    """The saved index if it is whole and made for `key`; None if missing or damaged (then it is built again)."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["key"]) == key and hashlib.sha256(saved["features"].tobytes()).hexdigest() == str(
                saved["sum"]
            ):
                return NeighbourIndex(saved["features"], saved["labels"])
    except (OSError, ValueError, KeyError):
        pass
    return None


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (POSIX flock; released when the file closes, even on a crash).
    A folder that cannot be written to: no lock, as no index can be saved there either."""
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a")  # noqa: SIM115  (closed below)
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def neighbour_caption(labels: np.ndarray) -> str:
    """E.g. "the closest training digits: 7 of 8 are 4s", or that they are mixed."""
    counts = np.bincount(labels, minlength=10)
    top = int(np.argmax(counts))
    if counts[top] * 2 <= len(labels):
        return (
            f"the closest training digits are a mix ({', '.join(str(d) for d in labels)}): this is unlike any one digit"
        )
    return f"the closest training digits: {counts[top]} of {len(labels)} are {top}s"


def main() -> None:
    """Build (or verify) the shipped CNN's index of the training digits in data/."""
    from mnist_app.config import MODELS_DIR
    from mnist_app.dataset.mnist import load_mnist
    from mnist_app.serving.registry import load_predictor

    predictor = load_predictor("cnn", MODELS_DIR)
    (x_train, y_train), _ = load_mnist()
    index = cached_index(CnnProbe(predictor), model_path(MODELS_DIR, "cnn"), x_train, y_train)
    print(f"Neighbour index ready: {len(index.labels):,} training digits, {index.features.shape[1]} features each.")


if __name__ == "__main__":
    main()
