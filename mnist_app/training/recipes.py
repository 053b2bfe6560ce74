"""The training recipes: how each model family is trained, and every option of `train.py`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from mnist_app.config import MODELS_DIR, STRING_READER, TRAINED_NAMES, TYPEFACE_STRING_READER
from mnist_app.training.handwriting import TRAIN_DRAWS


@dataclass(frozen=True)
class ModelSpec:
    """How one model family is trained."""

    epochs: int  # full passes over the training split
    learning_rate: float  # peak learning rate of the cosine schedule (Adam)
    augment: bool  # random affine + stroke-weight augmentation during training
    batch_size: int = 128  # images per step
    degraded_share: float = 0.0  # share of each batch replaced by blurred / low-resolution / faded copies
    # Networks trained alike (same data split; seeds seed, seed + 1, ...) whose probabilities the
    # shipped model averages: each doubles the latency, and fixes digits one of them misreads.
    members: int = 1
    # Networks fine-tuned from the first members on blurred and low-resolution copies only; a
    # model with them answers images of soft ink (SOFT_INK) with their average instead.
    soft_experts: int = 0


# Shipped settings. Each card records its epoch times; the CNN takes most of `make train`'s time.
MODEL_SPECS: dict[str, ModelSpec] = {
    # Soft input (blurred photos, low-resolution scans) was misread until the two shown models saw it.
    "cnn": ModelSpec(epochs=20, learning_rate=3e-3, augment=True, degraded_share=0.3, members=2, soft_experts=2),
    "ann": ModelSpec(epochs=50, learning_rate=1e-3, augment=True, degraded_share=0.3),
    "rnn": ModelSpec(epochs=30, learning_rate=2e-3, augment=True),
    # Plain pixels: a linear model cannot absorb warps, augmentation would only cost accuracy.
    "logreg": ModelSpec(epochs=20, learning_rate=2e-3, augment=False, batch_size=256),
}


@dataclass(frozen=True)
class StringSpec:
    """The string reader (training.strings): a CNN with a CTC head, trained on synthetic strips."""

    strips: int = 120_000  # synthetic training strips
    validation: int = 4_000  # strips of MNIST's validation digits, to choose the best epoch
    epochs: int = 10
    learning_rate: float = 2e-3
    batch_size: int = 64
    gaps: tuple[int, int] = (-4, 2)  # neighbours' gap in MNIST pixels: overlapping to just apart
    typeface_draws: int = 0  # drawings of each digit per trained typeface family mixed into the strips' digits

    def quick(self) -> StringSpec:
        return replace(self, strips=256, validation=64, epochs=1, typeface_draws=min(self.typeface_draws, 1))


# The first reads MNIST's touching numbers best; the second, trained on 14 typeface families too (about a tenth
# of its digits) and deeper overlaps, reads other writing better and MNIST's worse. Number mode reads each run
# with both and keeps the surer reading (docs/numbers.md).
STRING_SPECS = {
    STRING_READER: StringSpec(),
    TYPEFACE_STRING_READER: StringSpec(gaps=(-6, 2), typeface_draws=40),
}


@dataclass(frozen=True)
class ForestSpec:
    """The random forest (YDF), chosen from measured accuracy against size (models/forest.json)."""

    # The card's size_curve has validation accuracy against size; docs/results.md compares the two sizes tried.
    trees: int = 100  # more trees: a little more accurate, proportionally bigger
    max_depth: int = 20  # each level deeper roughly doubles a tree's size
    candidates: int | None = None  # pixels tried at each split; None: YDF's default, sqrt(784) = 28

    def quick(self) -> ForestSpec:
        return ForestSpec(trees=5, max_depth=8, candidates=self.candidates)


FOREST = ForestSpec()


@dataclass(frozen=True)
class TuneConfig:
    """`make tune`: the ANN's hyper-parameter search (KerasTuner Hyperband), within about 20 minutes."""

    train_subset: int = 15_000  # training images each candidate learns from (validation: all 5,000)
    max_epochs: int = 9  # the most any candidate trains (Hyperband gives most of them fewer)
    iterations: int = 3  # Hyperband rounds (tuning.json records each trial and its time)
    budget_s: float = 15 * 60  # no new trial starts after this; the head-to-head follows
    margin: float = 0.002  # validation accuracy the best trial must gain over the shipped settings
    seed: int = 42


@dataclass
class TrainConfig:
    """What `train.py` does; every field has a command-line option."""

    models: tuple[str, ...] = TRAINED_NAMES  # which model families to train (and the string reader)
    epochs: int | None = None  # override every model's epoch count
    batch_size: int | None = None  # override every model's batch size
    degraded_share: float | None = None  # override every model's share of degraded copies per batch
    seed: int = 42  # one seed for data split, initialisation and augmentation
    out_dir: Path = field(default_factory=lambda: MODELS_DIR)  # where .keras and .json go
    quick: bool = False  # tiny subset, one epoch: a smoke test, not a model to ship
    strategy: str = "default"  # "default" or "mirrored" (tf.distribute.MirroredStrategy)
    validation_size: int = 5000  # carved out of the 60,000 training images
    # Training images used with quick=True (a smoke test of every step). Its quarter, the validation
    # split, must be even: MirroredStrategy fails on a last batch it cannot split evenly over two CPUs.
    quick_train_size: int = 512
    quick_test_size: int = 1000  # test images evaluated with quick=True
    quick_letter_renders: int = 20  # renderings per letter for the digit check with quick=True (a smoke test)
    quick_latency_repeats: int = 20  # timed single-image predictions with quick=True (200 otherwise)
    # Fine-tune: continue training the models in out_dir (at a lower rate, for a few epochs)
    # instead of training from scratch, e.g. after the preprocessing of the degraded copies changed.
    fine_tune: bool = False
    # Fine-tune on MNIST's training split plus these drawings (an .npz from
    # `python -m mnist_app.drawings export`); implies fine_tune.
    extra_data: Path | None = None
    extra_share: float = 0.05  # the drawings are repeated to make up about this share of each epoch
    # Mix the style set's training hand (training.handwriting: flagged 1s, crossed 7s, open 4s, ...) into
    # the training split, from scratch or fine-tuning; its held-out hand only measures.
    styles: bool = True
    style_draws: int = TRAIN_DRAWS  # drawings of each style
    quick_style_draws: int = 2  # with quick=True
    # Drawings of each digit and capital of every installed typeface family for the digit check's letter part.
    typeface_draws: int = 20
    quick_typeface_draws: int = 1  # with quick=True
    quick_typeface_families: int = 2  # with quick=True: the first families only (a smoke test of the step)
    fine_tune_epochs: int = 2  # epochs of fine-tuning (--epochs overrides)
    fine_tune_rate: float = 0.1  # fine-tuning learning rate, as a fraction of the model's own
    tune: str | None = None  # search this model's hyper-parameters (TuneConfig) instead of training
    # Ensembles: keep the members already in out_dir (trained by the same recipe) and train only
    # the missing ones, instead of training every member again.
    keep_members: bool = False
    # Keep the networks of the model in out_dir as they are and train only its soft-ink experts.
    experts_only: bool = False
    # Fine-tuning: keep the soft-ink experts of the model in out_dir as they are (they answer only
    # blurred or low-resolution ink, which the fine-tuning data does not change).
    keep_experts: bool = False
    feature_check_only: bool = False  # keep the CNN in out_dir; fit only its feature check
    # Each expert is fine-tuned this long, at fine_tune_rate: at 3 epochs validation accuracy on soft
    # copies was still rising (the CNN card's soft_experts history has the curve).
    soft_expert_epochs: int = 6

    @property
    def fine_tuning(self) -> bool:
        return self.fine_tune or self.extra_data is not None

    def copies_seed(self, seed: int) -> int:
        """The seed of the degraded copies a network with `seed` trains on: its own, but in a quick run every
        network shares the run's (a smoke test: making a set of copies takes as long as its training)."""
        return self.seed if self.quick else seed

    def spec(self, name: str) -> ModelSpec:
        """The model's shipped spec with this run's overrides applied."""
        base = MODEL_SPECS[name]
        default_epochs = self.fine_tune_epochs if self.fine_tuning else base.epochs
        return replace(
            base,
            epochs=1 if self.quick else (self.epochs or default_epochs),
            learning_rate=base.learning_rate * (self.fine_tune_rate if self.fine_tuning else 1.0),
            batch_size=self.batch_size or base.batch_size,
            degraded_share=base.degraded_share if self.degraded_share is None else self.degraded_share,
        )

    def soft_expert_spec(self, name: str) -> ModelSpec:
        """How each soft-ink expert is fine-tuned: on soft copies only, at the fine-tuning rate (one network
        each: no members or experts of its own)."""
        base = MODEL_SPECS[name]
        return replace(
            base,
            epochs=1 if self.quick else self.soft_expert_epochs,
            learning_rate=base.learning_rate * self.fine_tune_rate,
            batch_size=self.batch_size or base.batch_size,
            degraded_share=1.0,
            members=1,
            soft_experts=0,
        )
