"""Heavy objects, loaded once per server process and shared by every session."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import numpy as np
import streamlit as st

from mnist_app import config
from mnist_app.dataset.mnist import Mnist, MnistUnavailableError, load_mnist
from mnist_app.serving.model_files import model_path, read_cards
from mnist_app.serving.reader import Reader


def reader() -> Reader:
    """The models in models/ that load (served in NumPy), the digit check and the string reader:
    one `Reader`, loaded once per server process (as it starts: mnist_app.ui.startup) and shared by
    every session. A visitor who comes while it loads waits for it, with a message."""
    if _loaded.is_set():
        return _reader(str(config.MODELS_DIR))
    with st.spinner("Starting: loading the models…"):
        return load_reader_now()


def load_reader_now() -> Reader:
    """The reader, loaded by this thread unless another has loaded it (no message: the server's start
    has no page to show one on)."""
    loaded = _reader(str(config.MODELS_DIR))
    _loaded.set()
    return loaded


_loaded = threading.Event()


@st.cache_resource(show_spinner=False)
def _reader(models_dir: str) -> Reader:
    from mnist_app.serving.reader import load_reader

    # What every visitor uses now; the other models when a visitor opens every model's reading.
    return load_reader(Path(models_dir), config.SHOWN_MODELS, later=config.MODEL_NAMES)


def predictors() -> tuple[dict, list[str]]:
    """The models loaded so far, and a message for each that did not load."""
    loaded = reader()
    return loaded.predictors, loaded.problems


def all_predictors() -> dict:
    """Every model that loads: the ones not loaded at the start are loaded now, with a message."""
    loaded = reader()
    if not loaded.later:
        return loaded.all_models()
    with st.spinner("Loading the other models…"):
        return loaded.all_models()


def shown_predictors() -> dict:
    """The loaded models that the app shows side by side (ANN, CNN), in that order."""
    return reader().chosen(config.SHOWN_MODELS)


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist() -> Mnist | None:
    """The verified data set, or None when it cannot be had (the UI then says how to fix it)."""
    try:
        return load_mnist()
    except MnistUnavailableError:
        return None


def mnist_problem() -> str:
    """Why MNIST is unavailable, for the UI (called only when `mnist()` gave None)."""
    try:
        load_mnist()
    except MnistUnavailableError as error:
        return str(error)
    return ""


def model_cards() -> dict[str, dict]:
    """The model cards found in models/, by model name (unreadable cards are left out)."""
    return _model_cards(str(config.MODELS_DIR))


@st.cache_data(show_spinner=False)
def _model_cards(models_dir: str) -> dict[str, dict]:
    return {name: card for name, card in read_cards(Path(models_dir)).items() if "test_accuracy" in card}


def test_images() -> np.ndarray | None:
    """The 10,000 MNIST test images, or None."""
    data = mnist()
    return None if data is None else data[1][0]


def probes() -> tuple:
    """The CNN's and the ANN's probes (None for a model that is missing), made on first use."""
    loaded = reader()
    if loaded.probes_loaded:  # made already: no spinner
        return loaded.probes
    with st.spinner("Opening up the networks…"):
        return loaded.probes


def neighbour_index() -> object | None:
    """The CNN-feature index of the 60,000 training digits (built once, then read from data/)."""
    return _neighbour_index(str(config.MODELS_DIR))


@st.cache_resource(show_spinner="Indexing the 60,000 training digits (once, about half a minute)…")
def _neighbour_index(models_dir: str) -> object | None:
    from mnist_app.serving.explain import cached_index

    cnn, _ = probes()
    data = mnist()
    if cnn is None or data is None:
        return None
    (x_train, y_train), _ = data
    return cached_index(cnn, model_path(models_dir, "cnn"), x_train, y_train)


def tuning_report() -> dict | None:
    """models/tuning.json from `make tune`, or None."""
    path = config.MODELS_DIR / "tuning.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def drawing_store() -> tuple[object | None, str]:
    """The shared drawings' store for this process's `MNIST_APP_DB`, or None and why not."""
    from mnist_app.drawings import database_url

    return _drawing_store(database_url())


@st.cache_resource(show_spinner=False)
def _drawing_store(url: str) -> tuple[object | None, str]:
    from mnist_app.drawings import DrawingsError, Store

    try:
        return Store(url), ""
    except DrawingsError as error:
        return None, str(error)


def presenter_key() -> str:
    """The key that opens the Room tab's presenter tools (environment, secrets, or made at start)."""
    from mnist_app.drawings import presenter

    return _presenter_key(presenter.configured_key())


@st.cache_resource(show_spinner=False)
def _presenter_key(configured: str | None) -> str:
    from mnist_app.drawings import presenter

    key = configured or _secret_presenter_key()
    if key is None:
        key = presenter.new_key()
        print(presenter.announcement(key), file=sys.stderr, flush=True)  # once per server, in its log
    return key


def _secret_presenter_key() -> str | None:
    """`presenter_key` from .streamlit/secrets.toml, if there is one."""
    if not st.secrets.load_if_toml_exists():
        return None
    value = str(st.secrets.get("presenter_key") or "").strip()
    return value or None


def room_summary() -> object:
    """The room's counts (drawings.RoomSummary) for this process's database."""
    from mnist_app.drawings import database_url

    return _room_summary(database_url())


@st.cache_data(ttl=config.ROOM_SETTINGS.refresh_seconds, show_spinner=False, max_entries=4)
def _room_summary(url: str) -> object:
    """Asked of the database at most once per refresh period by each server, however many tabs are
    open (each time it counts every drawing); a share, delete or show in this server asks again."""
    from mnist_app.drawings import room_summary

    store, problem = _drawing_store(url)
    if store is None:
        raise RuntimeError(problem)  # callers check drawing_store() first
    return room_summary(store)


def room_changed() -> None:
    """This server changed the room's drawings: the next Room refresh counts them again."""
    _room_summary.clear()
