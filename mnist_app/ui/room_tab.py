"""Tab: the room's shared drawings. How many, how well each model read them, and the ones it missed.

The tab re-reads the database every few seconds while it is open (a fragment with run_every), so
drawings shared from other phones, and other replicas, appear without a reload. Drawings that do
not look like digits wait out of the gallery; only the presenter (who holds the presenter key) can
show them, or delete anything.
"""

from __future__ import annotations

import time

import streamlit as st

from mnist_app.config import MODEL_TITLES, ROOM_SETTINGS, SHOWN_MODELS
from mnist_app.drawings import DrawingsError, RoomSummary, SharedDrawing
from mnist_app.drawings.presenter import Attempts, matches
from mnist_app.ui import descriptions, model_charts, resources

EMPTY_ROOM = "Nobody has shared a drawing yet. Draw a digit, then press **Share with the room** under the answers."
NOT_PRESENTER = "Only the presenter can do that: open Presenter tools with the presenter key."


def render() -> None:
    store, problem = resources.drawing_store()
    if store is None:
        st.error(f"The room's drawings are unavailable: {problem}", icon="🚫")
        return
    st.caption(
        f"Drawings people chose to share, newest first, refreshed every {ROOM_SETTINGS.refresh_seconds:g} s. "
        "A drawing's label is what its author said it was, or else the answer both models agreed on."
    )
    _room(store)
    _presenter_tools()


@st.fragment(run_every=ROOM_SETTINGS.refresh_seconds)
def _room(store: object) -> None:
    presenter = is_presenter()
    try:
        summary = resources.room_summary()
        held_count = store.count(held_back=True)
        # Only the rows the gallery shows are read, with their images.
        shown = store.latest(ROOM_SETTINGS.gallery_size, held_back=False, misses_first=True)
        held = store.latest(ROOM_SETTINGS.gallery_size, held_back=True) if presenter and held_count else []
    except DrawingsError as error:
        st.error(f"Cannot read the room's drawings: {error}", icon="🚫")
        return
    if error := st.session_state.pop("room_error", None):
        st.error(error, icon="🚫")
    if not shown and not held_count:
        st.info(EMPTY_ROOM, icon="👥")
        return
    _headline(summary)
    gallery_column, matrix_column = st.columns([3, 2], gap="large")
    with gallery_column:
        st.subheader("Latest drawings, misses first")
        _gallery(store, shown, presenter)
        if held_count:
            _held_back(store, held, held_count, presenter)
    with matrix_column:
        _confusion(summary)
    if presenter:
        _delete_all(store, summary.count + held_count)


def _headline(summary: RoomSummary) -> None:
    with st.container(horizontal=True, gap="medium"):
        st.metric("Drawings", summary.count)
        st.metric("Labelled", summary.labelled, help=f"{summary.corrected} labelled by their author")
        for name in summary.accuracy:
            right = int(round(summary.accuracy[name] * summary.answered[name]))
            st.metric(f"{MODEL_TITLES[name]} right", f"{right} of {summary.answered[name]}")


def _gallery(store: object, shown: list[SharedDrawing], presenter: bool) -> None:
    columns = st.columns(6)
    for position, drawing in enumerate(shown):
        with columns[position % len(columns)]:
            st.image(drawing.model_input, width=84, caption=_caption(drawing), alt=_alt(drawing))
            if presenter:
                st.button("Delete", key=f"delete-{drawing.uid}", icon="🗑️", on_click=_delete, args=(store, drawing.uid))


def _held_back(store: object, held: list[SharedDrawing], count: int, presenter: bool) -> None:
    """Drawings that do not look like digits: counted for everyone, shown only to the presenter."""
    note = f"{count} held back: they do not look like digits, and wait for the presenter to show them."
    if not presenter:
        st.caption(note)
        return
    with st.expander(f"{count} held back", icon="🙈"):
        st.caption(note)
        columns = st.columns(6)
        for position, drawing in enumerate(held):
            with columns[position % len(columns)]:
                st.image(drawing.model_input, width=84, caption=_caption(drawing), alt=_alt(drawing))
                st.button("Show", key=f"reveal-{drawing.uid}", icon="👁️", on_click=_reveal, args=(store, drawing.uid))
                st.button("Delete", key=f"delete-{drawing.uid}", icon="🗑️", on_click=_delete, args=(store, drawing.uid))


def _alt(drawing: SharedDrawing) -> str:
    return "A drawing shared with the room, as the models saw it. " + _caption(drawing).replace("✗", " (wrong)")


def _caption(drawing: SharedDrawing) -> str:
    said = "?" if drawing.label is None else str(drawing.label)
    answers = " ".join(
        f"{MODEL_TITLES[name]} {answer.digit}{'✗' if name in drawing.missed_by() else ''}"
        for name, answer in drawing.answers.items()
    )
    return f"It was {said} · {answers}" if answers else f"It was {said}"


def _confusion(summary: RoomSummary) -> None:
    names = [name for name in SHOWN_MODELS if name in summary.confusion] or list(summary.confusion)
    if not names:
        st.caption("A confusion matrix appears once drawings have labels.")
        return
    name = st.segmented_control(
        "Confusion matrix of", names, default=names[0], key="room_matrix", format_func=MODEL_TITLES.get
    )
    title = MODEL_TITLES[name or names[0]]
    matrix = summary.confusion[name or names[0]]
    st.plotly_chart(model_charts.confusion_heatmap(matrix, f"{title}: label ↓ vs answer →"))
    st.caption(descriptions.confusion(matrix, title))


def is_presenter() -> bool:
    """Whether this tab holds the presenter key now (checked again on every action, never remembered as a flag)."""
    return matches(st.session_state.get("presenter_key_given", ""), resources.presenter_key())


def _delete(store: object, uid: str | None) -> None:
    """One drawing (uid), or every drawing (None); a callback, so the gallery redraws without it."""
    if not is_presenter():
        st.session_state.room_error = NOT_PRESENTER
        return
    try:
        store.forget() if uid is None else store.delete(uid)
    except DrawingsError as error:
        st.session_state.room_error = f"Not deleted: {error}"
    resources.room_changed()


def _reveal(store: object, uid: str) -> None:
    if not is_presenter():
        st.session_state.room_error = NOT_PRESENTER
        return
    try:
        store.reveal(uid)
    except DrawingsError as error:
        st.session_state.room_error = f"Not shown: {error}"
    resources.room_changed()


def _delete_all(store: object, count: int) -> None:
    with st.popover(f"Delete all {count} drawings…", icon="🗑️"):
        st.write("This deletes every shared drawing, for everyone in the room. It cannot be undone.")
        st.button(f"Yes, delete all {count}", key="delete_all", type="primary", on_click=_delete, args=(store, None))


def _presenter_tools() -> None:
    """The key form, or (with the key) a way to lock the tools again. The key never goes into the page."""
    with st.expander("Presenter tools", icon="🔑"):
        if is_presenter():
            st.caption("Unlocked in this tab: delete buttons are under each drawing, and held-back drawings show.")
            st.button("Lock presenter tools", key="presenter_lock", on_click=_lock)
            return
        with st.form("presenter_form", clear_on_submit=True, border=False):
            st.text_input(
                "Presenter key",
                type="password",
                key="presenter_key_input",
                help="Printed in the server's log at start, or set with MNIST_APP_PRESENTER_KEY",
            )
            st.form_submit_button("Unlock", on_click=_try_key)
        if message := st.session_state.pop("presenter_message", None):
            st.error(message, icon="🔒")


def _try_key() -> None:
    attempts = st.session_state.setdefault("presenter_attempts", Attempts(free=ROOM_SETTINGS.presenter_tries))
    now = time.monotonic()
    if (wait := attempts.wait_s(now)) > 0:
        st.session_state.presenter_message = f"Too many wrong keys: try again in {wait:.0f} s."
        return
    given = st.session_state.get("presenter_key_input", "")
    if matches(given, resources.presenter_key()):
        attempts.succeeded()
        st.session_state.presenter_key_given = given
        return
    attempts.failed(now)
    wait = attempts.wait_s(now)
    st.session_state.presenter_message = "That is not the presenter key." + (
        f" Try again in {wait:.0f} s." if wait else ""
    )


def _lock() -> None:
    st.session_state.pop("presenter_key_given", None)
