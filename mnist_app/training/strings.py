"""The string reader: a CNN with a CTC head that reads a run of touching digits whole, without cutting it.

Hochuli et al. ("Segmentation-Free Approaches for Handwritten Numeral String Recognition", 2018) reach
the state of the art on touching numeral strings by training on synthetic strings of touching digits.
Ours are the training split's digits (MNIST's, and the style set's training hand; for the second reader, typeface
digits of all but the held-out families too) pasted side by side, overlapping by up to 4 px (6 px for the second)
or apart by up to 2 px at MNIST's scale, sizes +-20 %, baselines +-2 px, some blurred like a photo; each strip is
made with the app's own `reading.strips.string_input`. `--fine-tune` continues the reader in the output directory.

The network: convolutions down to one column of features every 4 px of the strip, a bidirectional GRU
along the strip, and 11 outputs per column (blank and the ten digits) trained with CTC loss.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops
from PIL import Image
from scipy import ndimage

from mnist_app.atomic_files import atomic_path, write_json
from mnist_app.config import NUM_CLASSES, STRING_READER
from mnist_app.reading.strips import STRING_HEIGHT, STRING_WIDTH, string_input
from mnist_app.serving import model_files
from mnist_app.serving.string_reader import BLANK, StringDigit, card_file, model_file, read_strips, strip_widths
from mnist_app.training.data import TrainingError
from mnist_app.training.provenance import provenance
from mnist_app.training.recipes import STRING_SPECS, StringSpec, TrainConfig
from mnist_app.training.typefaces import STRINGS_HELD_OUT, installed_families, typeface_digits

MAX_DIGITS = 10  # the longest run a training strip holds
LENGTHS = (
    1,
    2,
    2,
    3,
    3,
    3,
    4,
    4,
    5,
    6,
    7,
    8,
)  # a strip's digit count is drawn from these (runs of 2-4 are most common)
STRETCH = (0.9, 1.1)  # each digit's width, relative to its height as written
# A wide single digit (a broad 0, 2 or 8) is a part wider than high too, and the app reads it here:
# this share of strips is one digit at least WIDE_ASPECT as wide as high, stretched by WIDE_STRETCH.
WIDE_SINGLES = 0.1
WIDE_ASPECT = 0.9
WIDE_STRETCH = (1.0, 1.5)
BLURRED_SHARE = 0.2  # strips blurred like a paper photo
# The convolution blocks' widths and the GRU's, chosen by short runs of three sizes (docs/numbers.md).
FILTERS = (24, 48, 96)
GRU_UNITS = 128


def synthetic_strips(
    digits: np.ndarray, labels: np.ndarray, count: int, seed: int, gaps: tuple[int, int] = StringSpec.gaps
) -> tuple[np.ndarray, np.ndarray]:
    """`count` strips of touching digits drawn from `digits` (uint8 28x28), neighbours `gaps` MNIST pixels apart:
    (strips uint8, labels (count, MAX_DIGITS) with digit + 1 and 0 after the end). WIDE_SINGLES of them are one
    wide digit alone."""
    rng = np.random.default_rng(seed)
    wide = np.flatnonzero(_aspects(digits) >= WIDE_ASPECT)
    strips = np.zeros((count, STRING_HEIGHT, STRING_WIDTH), np.uint8)
    targets = np.zeros((count, MAX_DIGITS), np.int32)
    made = 0
    while made < count:
        if wide.size and rng.random() < WIDE_SINGLES:
            picks, stretch = rng.choice(wide, 1), WIDE_STRETCH
        else:
            picks, stretch = rng.integers(0, len(digits), int(rng.choice(LENGTHS))), STRETCH
        made_input = string_input(_paste([tight_crop(digits[i]) for i in picks], rng, stretch, gaps))
        if made_input is None:
            continue
        strips[made] = np.round(made_input.strip * 255).astype(np.uint8)
        targets[made, : len(picks)] = labels[picks].astype(np.int32) + 1
        made += 1
    return strips, targets


def _aspects(digits: np.ndarray) -> np.ndarray:
    """Each digit's ink width over its height."""

    def extent(inked: np.ndarray) -> np.ndarray:
        return inked.shape[1] - np.argmax(inked[:, ::-1], axis=1) - np.argmax(inked, axis=1)

    return extent(digits.max(axis=1) > 0) / np.maximum(extent(digits.max(axis=2) > 0), 1)


def exact_share(readings: list[list[StringDigit]], targets: np.ndarray) -> float:
    """Share of strips read exactly; `targets` holds digit + 1 per place and 0 after the end."""
    right = 0
    for digits, target in zip(readings, targets, strict=True):
        truth = [int(t) - 1 for t in target if t > 0]
        right += [int(np.argmax(d.probabilities)) for d in digits] == truth
    return right / max(len(targets), 1)


def tight_crop(digit: np.ndarray) -> np.ndarray:
    """A digit cropped to its ink (a uint8 MNIST image: every non-zero pixel is ink)."""
    rows, cols = np.flatnonzero(digit.max(axis=1)), np.flatnonzero(digit.max(axis=0))
    return digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _paste(
    digits: list[np.ndarray], rng: np.random.Generator, stretch: tuple[float, float], gaps: tuple[int, int]
) -> np.ndarray:
    """The digits side by side on one ink map, at MNIST's scale, as a number's touching run is drawn."""
    x = 4
    ink = np.zeros((48, 8 + sum(int(d.shape[1] * 1.6) + gaps[1] for d in digits)), np.float32)
    for digit in digits:
        height = max(4, round(digit.shape[0] * rng.uniform(0.8, 1.2)))
        width = max(1, round(digit.shape[1] * height / digit.shape[0] * rng.uniform(*stretch)))
        scaled = np.asarray(Image.fromarray(digit).resize((width, height), Image.Resampling.BILINEAR)) / 255.0
        top = 6 + int(rng.integers(-2, 3))
        window = ink[top : top + height, x : x + width]
        np.maximum(window, scaled, out=window)
        x = max(0, x + width + int(rng.integers(gaps[0], gaps[1] + 1)))
    ink = ink[:, : x + 4]
    if rng.random() < BLURRED_SHARE:
        ink = ndimage.gaussian_filter(ink, rng.uniform(0.5, 1.0))
        ink = ink / max(float(ink.max()), 1e-6)
    return ink


def build_string_reader() -> keras.Model:
    """Strip (28, width, 1) -> logits (width / FRAME, 11): blank and the ten digits, one column per FRAME
    pixels. Any width that is a multiple of FRAME: training batches strips of like width."""
    first, second, third = FILTERS
    inputs = keras.Input((STRING_HEIGHT, None, 1))
    x = layers.Conv2D(first, 3, padding="same", use_bias=False)(inputs)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    x = layers.MaxPooling2D(2)(x)
    for filters, pool in ((second, (2, 2)), (third, (STRING_HEIGHT // 4, 1))):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.Activation("relu")(layers.BatchNormalization()(x))
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(pool)(x)
    x = layers.Reshape((-1, third))(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Bidirectional(layers.GRU(GRU_UNITS, return_sequences=True))(x)
    outputs = layers.Dense(NUM_CLASSES + 1)(x)
    return keras.Model(inputs, outputs, name="string_reader")


def width_batches(strips: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[tuple[np.ndarray, int]]:
    """Batches of strip indices, each of strips whose ink fits one width (a multiple of WIDTH_STEP), in
    random order: most runs are short, and a short strip needs no pass over 256 px of blank."""
    widths = strip_widths(strips)
    batches = []
    for width in np.unique(widths):
        members = rng.permutation(np.flatnonzero(widths == width))
        batches += [(members[i : i + batch_size], int(width)) for i in range(0, len(members), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def ctc_loss(targets: keras.KerasTensor, logits: keras.KerasTensor) -> keras.KerasTensor:
    targets = ops.cast(targets, "int32")
    target_length = ops.sum(ops.cast(targets > 0, "int32"), axis=1)
    batch, frames = ops.shape(logits)[0], ops.shape(logits)[1]
    output_length = ops.full((batch,), frames, dtype="int32")
    return ops.ctc_loss(targets, logits, target_length, output_length, mask_index=BLANK)


def train_strings(config: TrainConfig, data: dict[str, np.ndarray], out_dir: Path, name: str = STRING_READER) -> dict:
    """Train the string reader `name` (STRING_SPECS) on strips of the training split's digits (with the style set's
    training hand when it is in the data, and its typeface families), or fine-tune the one in out_dir; write it and
    its card. Its test figure is on strips of MNIST's test digits."""
    spec = STRING_SPECS[name].quick() if config.quick else STRING_SPECS[name]
    model_path, card_path = out_dir / model_file(name), out_dir / card_file(name)
    previous = {}
    start = None
    if config.fine_tuning:
        start, previous = _trained_reader(model_path), model_files.read_card(card_path)
        epochs = spec.epochs if config.quick else config.fine_tune_epochs
        spec = replace(spec, epochs=epochs, learning_rate=spec.learning_rate * config.fine_tune_rate)
    if config.epochs:
        spec = replace(spec, epochs=config.epochs)
    families = typeface_families(config) if spec.typeface_draws else ()
    x_faces, y_faces = typeface_digits(families, spec.typeface_draws, config.seed)
    started = time.perf_counter()
    model, history = train_string_reader(
        np.concatenate([data["x_train"], x_faces]),
        np.concatenate([data["y_train"], y_faces]),
        data["x_val"],
        data["y_val"],
        spec,
        config.seed,
        start,
        eager=config.quick,
    )
    seconds = time.perf_counter() - started
    test_strips, test_targets = synthetic_strips(
        data["x_test"], data["y_test"], spec.validation, config.seed + 2, spec.gaps
    )
    card = {
        "name": name,
        "kind": "string reader (CNN + bidirectional GRU, CTC)",
        "parameters": model.count_params(),
        "test_strips_exact": round(exact_share(read_strips(model.predict_on_batch, test_strips), test_targets), 4),
        "train_seconds": round(seconds + previous.get("train_seconds", 0.0), 1),
        **history,
        "typefaces": {"families": list(families), "held_out": list(STRINGS_HELD_OUT), "digits": int(len(x_faces))},
        "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "provenance": provenance(previous, f"fine-tuned: {spec.epochs} epochs" if previous else "trained"),
    }
    if previous:
        card["fine_tuned"] = {"from": {key: previous.get(key) for key in ("trained_at", "test_strips_exact", "gaps")}}
        card["epochs"] = previous.get("epochs", []) + card["epochs"]
    with atomic_path(model_path) as tmp:
        model.save(tmp)
    write_json(card_path, card)
    print(
        f"string reader {name}: {card['test_strips_exact']:.2%} of {spec.validation} test strips exact; "
        f"written to {model_path}"
    )
    return card


def _trained_reader(path: Path) -> keras.Model:
    """The string reader a fine-tuning continues, or a TrainingError saying why there is none."""
    try:
        return model_files.load_keras_file(path)
    except model_files.ModelLoadError as error:
        raise TrainingError(f"--fine-tune starts from a trained string reader: {error}") from error


def typeface_families(config: TrainConfig) -> tuple[str, ...]:
    """The installed typeface families the reader trains on: all but STRINGS_HELD_OUT (the first two in a quick run)."""
    families = tuple(family for family in installed_families() if family not in STRINGS_HELD_OUT)
    return families[:2] if config.quick else families


def train_string_reader(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    spec: StringSpec,
    seed: int,
    start: keras.Model | None = None,
    eager: bool = False,
) -> tuple[keras.Model, dict]:
    """The string reader trained on synthetic strips (from scratch, or continuing `start`), at its best epoch on
    validation strips; and its history. `eager`: for a quick run's few batches, which take less time than tracing
    a step for each strip width would."""
    keras.utils.set_random_seed(seed)
    started = time.perf_counter()
    strips, targets = synthetic_strips(x_train, y_train, spec.strips, seed, spec.gaps)
    val_strips, val_targets = synthetic_strips(x_val, y_val, spec.validation, seed + 1, spec.gaps)
    print(
        f"string reader: {spec.strips} training and {spec.validation} validation strips made in "
        f"{time.perf_counter() - started:.0f} s"
    )
    model = build_string_reader()
    if start is not None:
        model.set_weights(start.get_weights())
    rng = np.random.default_rng(seed)
    steps = len(width_batches(strips, spec.batch_size, rng)) * spec.epochs
    schedule = keras.optimizers.schedules.CosineDecay(spec.learning_rate, steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=ctc_loss, run_eagerly=eager)
    best, best_weights, epochs = -1.0, model.get_weights(), []
    if start is not None:  # a fine-tuning keeps the reader it started from unless an epoch beats it
        best = exact_share(read_strips(model.predict_on_batch, val_strips), val_targets)
        print(f"string reader before fine-tuning: validation strips exact {best:.2%}", flush=True)
    for epoch in range(spec.epochs):
        started = time.perf_counter()
        losses = [
            float(model.train_on_batch(strips[chosen, :, :width, None] / np.float32(255), targets[chosen]))
            for chosen, width in width_batches(strips, spec.batch_size, rng)
        ]
        exact = exact_share(read_strips(model.predict_on_batch, val_strips), val_targets)
        seconds = time.perf_counter() - started
        epochs.append(
            {
                "epoch": epoch + 1,
                "loss": round(float(np.mean(losses)), 4),
                "validation_exact": round(exact, 4),
                "seconds": round(seconds, 1),
            }
        )
        print(
            f"string reader epoch {epoch + 1}: loss {np.mean(losses):.3f}, validation strips exact {exact:.2%}"
            f" ({seconds:.0f} s)",
            flush=True,
        )
        if exact > best:
            best, best_weights = exact, model.get_weights()
    model.set_weights(best_weights)
    history = {
        "strips": spec.strips,
        "validation_strips": spec.validation,
        "epochs": epochs,
        "validation_exact": round(best, 4),
        "lengths": list(LENGTHS),
        "gaps": list(spec.gaps),
    }
    return model, history
