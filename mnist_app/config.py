"""What the app needs at run time: paths, image constants, model names, thresholds and limits.

Training recipes live in `mnist_app.training.recipes`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = Path(os.environ.get("MNIST_MODELS_DIR", ROOT / "models"))
DATA_DIR = ROOT / "data"
DEFAULT_MNIST_CACHE = DATA_DIR / "mnist.npz"
# The ANN's and the CNN's weights for live reading in the browser (mnist_app.training.browser_weights),
# served by Streamlit's static file serving (server.enableStaticServing: the folder beside app.py).
LIVE_WEIGHTS_DIR = ROOT / "static" / "live"
LIVE_WEIGHTS_URL = "app/static/live"
# Answers 200 once a server has loaded what every visitor needs (mnist_app.ui.startup); until then 503.
# Streamlit's /_stcore/health answers as soon as the server runs: it says alive, not ready.
READY_PATH = "/ready"

IMAGE_SIDE = 28  # MNIST images are 28x28
DIGIT_BOX = 20  # MNIST digits were scaled to fit a 20x20 box...
NUM_CLASSES = 10  # ...then centred by centre of mass in the 28x28 field

# Soft ink: more than SOFT_INK of the inked pixels (above INK_LEVELS[0]) are mid-grey (below
# INK_LEVELS[1]). Blurred photos and enlarged low-resolution scans are soft; pen drawings and
# MNIST's digits as published are not (docs/design.md, Preprocessing, has the shares).
SOFT_INK = 0.8
INK_LEVELS = (0.1, 0.9)

# The model families, in the order the app lists them; the first two are shown side by side.
MODEL_NAMES = ("ann", "cnn", "rnn", "logreg", "forest")
SHOWN_MODELS = ("ann", "cnn")
# The string readers (models/strings.keras, and strings_typefaces.keras, trained on typefaces too) read runs of
# touching digits in Number mode; train.py trains them with the five, but they read strips, not 28x28 digits,
# so the model lists leave them out.
STRING_READER = "strings"
TYPEFACE_STRING_READER = "strings_typefaces"
STRING_READERS = (STRING_READER, TYPEFACE_STRING_READER)
TRAINED_NAMES = (*MODEL_NAMES, *STRING_READERS)
MODEL_TITLES = {
    "ann": "ANN",
    "cnn": "CNN",
    "rnn": "RNN (LSTM)",
    "logreg": "Logistic regression",
    "forest": "Random forest",
}

# A calibrated top probability below this is "not sure". Chosen on the validation split (`python -m
# mnist_app.training.calibration` prints each level's effect): about 1 % of right answers flagged
# per shown model, while catching far more wrong ones than a stricter level. What it catches and
# flags for the shipped models is in their cards (calibration.not_sure_*) and docs/calibration.md.
CONFIDENCE_THRESHOLD = 0.80

# Shared drawings (the Room): a SQLAlchemy URL. The embedded default is a SQLite file under data/
# (git-ignored); replicas share one PostgreSQL database instead, e.g.
# MNIST_APP_DB=postgresql+psycopg://mnist@127.0.0.1:5432/mnist
DEFAULT_DRAWINGS_DB = f"sqlite:///{DATA_DIR / 'drawings.db'}"


@dataclass(frozen=True)
class RoomSettings:
    """The shared drawings and the Room tab."""

    refresh_seconds: float = 3.0  # the Room tab re-reads the database this often while it is open
    gallery_size: int = 24  # latest drawings shown, misses first
    busy_timeout_ms: int = 10_000  # SQLite: wait this long for another writer instead of failing
    shares_per_minute: int = 12  # per browser tab: more is refused with a message (a stuck button, a script)
    max_drawings: int = 50_000  # stored at most; past it sharing says the room is full, drawing goes on
    max_image_bytes: int = 2_000_000  # a shared image (PNG) larger than this is refused
    presenter_tries: int = 3  # wrong presenter keys in a tab before each further try must wait


ROOM_SETTINGS = RoomSettings()

# Uploads: refuse images larger than this before decoding them fully (decompression bombs).
MAX_UPLOAD_PIXELS = 40_000_000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
