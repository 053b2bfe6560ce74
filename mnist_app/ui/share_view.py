"""Share a drawing with the room, and say what it really was. Nothing is stored without a press."""

from __future__ import annotations

import hashlib
import time
import uuid

import numpy as np
import streamlit as st

from mnist_app.config import ROOM_SETTINGS
from mnist_app.drawings import Answer, DrawingsError, ShareRefused, new_drawing
from mnist_app.drawings.limits import ShareRate
from mnist_app.serving.readings import DigitReading
from mnist_app.ui import resources

SHARE_LABEL = "Share with the room"
CORRECTION_LABEL = "It was a …"
WHAT_IS_KEPT = (
    "Sharing keeps this drawing (as drawn and as the models saw it), each model's answer, the label, the time, "
    "the app and model versions and a random id for this browser tab: no name, no IP address. "
    "Nothing is kept unless you press the button."
)


def correction_for(reading: DigitReading) -> int | None:
    """The digit the user said this drawing was, if they corrected this one (not an earlier drawing)."""
    if st.session_state.get("share_digest") != _digest(reading):
        return None
    return st.session_state.get("correction")


def _digest(reading: DigitReading) -> str:
    return hashlib.sha1(reading.steps.final.tobytes()).hexdigest()


def show_share(reading: DigitReading, original: np.ndarray) -> None:
    """The share button and the correction, for the drawing on the canvas now."""
    digest = _digest(reading)
    if st.session_state.get("share_digest") != digest:  # a new drawing: a fresh correction
        st.session_state.share_digest = digest
        st.session_state.pop("correction", None)
    shared = st.session_state.setdefault("shared", {})
    store, problem = resources.drawing_store()
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        correction = st.pills(CORRECTION_LABEL, list(range(10)), key="correction", help="Correct the models")
        st.button(
            "Shared with the room ✓" if digest in shared else SHARE_LABEL,
            key="share",
            icon="📤",
            disabled=digest in shared or store is None,
            on_click=_share,  # before the rerun: the button shows the new state at once
            args=(store, reading, original, digest),
        )
    if store is None:
        st.caption(f"Sharing is off: {problem}")
        return
    if digest in shared and correction is not None and shared[digest][1] != correction:
        _relabel(store, digest, correction)
    if done := st.session_state.pop("share_toast", None):
        st.toast(done, icon="📤")
    if error := st.session_state.pop("share_error", None):
        st.error(f"Not saved: {error}. Your drawing is still here; try again.", icon="🚫")
    if refusal := st.session_state.pop("share_refused", None):
        st.warning(f"Not shared: {refusal}. Your drawing is still here.", icon="✋")
    st.caption(WHAT_IS_KEPT)


def _share(store: object, reading: DigitReading, original: np.ndarray, digest: str) -> None:
    rate = st.session_state.setdefault("share_rate", ShareRate(ROOM_SETTINGS.shares_per_minute))
    now = time.monotonic()
    if (wait := rate.wait_s(now)) > 0:
        st.session_state.share_refused = (
            f"this tab has shared {rate.per_minute} drawings in the last minute; try again in {wait:.0f} s"
        )
        return
    answers = {name: Answer(p.digit, round(p.confidence, 4)) for name, p in reading.predictions.items()}
    correction = st.session_state.get("correction")
    held_back = not reading.looks_like_a_digit  # the gallery waits for the presenter
    drawing = new_drawing(
        reading.steps.final,
        original,
        answers,
        _session_id(),
        correction,
        _model_versions(reading.predictions),
        held_back=held_back,
    )
    try:
        store.share(drawing)
    except ShareRefused as refusal:
        st.session_state.share_refused = str(refusal)
        return
    except DrawingsError as error:
        st.session_state.share_error = str(error)
        return
    rate.record(now)
    resources.room_changed()
    st.session_state.shared[digest] = (drawing.uid, correction)
    what = f"as a {drawing.label}" if drawing.label is not None else "without a label (the models disagree)"
    waits = " It does not look like a digit, so it waits for the presenter before it shows." if held_back else ""
    st.session_state.share_toast = f"Shared with the room {what}.{waits}"  # shown by the run this click starts


def _relabel(store: object, digest: str, correction: int) -> None:
    uid = st.session_state.shared[digest][0]
    try:
        store.relabel(uid, correction)
    except DrawingsError as error:
        st.error(f"Not saved: {error}. Pick the digit again to retry.", icon="🚫")
        return
    st.session_state.shared[digest] = (uid, correction)
    st.toast(f"Saved: it was a {correction}.", icon="✅")


def _session_id() -> str:
    """Random per browser tab; it only groups one person's drawings, it identifies nobody."""
    if "session_id" not in st.session_state:
        st.session_state.session_id = uuid.uuid4().hex
    return st.session_state.session_id


def _model_versions(predictions: dict) -> dict[str, str]:
    cards = resources.model_cards()
    return {name: str(cards.get(name, {}).get("trained_at", "unknown")) for name in predictions}
