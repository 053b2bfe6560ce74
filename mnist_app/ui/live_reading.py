"""Live reading in the browser: the URL of the exported weights, offered only when they are the shipped models'."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import streamlit as st

from mnist_app.config import LIVE_WEIGHTS_DIR, LIVE_WEIGHTS_URL, MODELS_DIR
from mnist_app.serving.model_files import model_path

MANIFEST = "manifest.json"


def manifest_version(live_dir: Path, models_dir: Path) -> str | None:
    """A short hash of the manifest, or None when it is missing, unreadable, names a missing weight
    file, or was exported from other models than those in `models_dir` (a live answer would then
    disagree with the server's)."""
    try:
        content = (Path(live_dir) / MANIFEST).read_bytes()
        models = json.loads(content)["models"]
        for name, entry in models.items():
            if not (Path(live_dir) / entry["file"]).is_file():
                return None
            if hashlib.sha256(model_path(models_dir, name).read_bytes()).hexdigest() != entry["model_sha256"]:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return hashlib.sha256(content).hexdigest()[:12]


@st.cache_resource(show_spinner=False)
def _shipped_version() -> str | None:
    return manifest_version(LIVE_WEIGHTS_DIR, MODELS_DIR)


def live_manifest_url() -> str | None:
    """The manifest's URL for the canvas's `live` argument (versioned, so browsers cache it safely), or None."""
    version = _shipped_version()
    if version is None:
        return None
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{'/' + base if base else ''}/{LIVE_WEIGHTS_URL}/{MANIFEST}?v={version}"
