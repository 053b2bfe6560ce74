"""Tab: the room's shared drawings. How many, how well each model read them, and the ones it missed.

The tab re-reads the database every few seconds while it is open (a fragment with run_every), so
drawings shared from other phones, and other replicas, appear without a reload.
"""

from __future__ import annotations

import streamlit as st

from mnist_app.config import MODEL_TITLES, ROOM_SETTINGS, SHOWN_MODELS
from mnist_app.drawings import DrawingsError, RoomSummary, SharedDrawing, misses_first, summarise
from mnist_app.ui import model_charts, resources

EMPTY_ROOM = "Nobody has shared a drawing yet. Draw a digit, then press **Share with the room** under the answers."


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


@st.fragment(run_every=ROOM_SETTINGS.refresh_seconds)
def _room(store: object) -> None:
    try:
        everything = store.latest(with_images=False)
        summary = summarise(everything)
        shown = misses_first(everything)[: ROOM_SETTINGS.gallery_size]
        images = store.images([d.uid for d in shown])
    except DrawingsError as error:
        st.error(f"Cannot read the room's drawings: {error}", icon="🚫")
        return
    if not everything:
        st.info(EMPTY_ROOM, icon="👥")
        return
    _headline(summary)
    gallery_column, matrix_column = st.columns([3, 2], gap="large")
    presenter = st.toggle("Presenter tools", key="presenter", help="Delete drawings")
    with gallery_column:
        st.subheader("Latest drawings, misses first")
        _gallery(store, shown, images, presenter)
    with matrix_column:
        _confusion(summary)
    if presenter:
        _delete_all(store, summary.count)


def _headline(summary: RoomSummary) -> None:
    with st.container(horizontal=True, gap="medium"):
        st.metric("Drawings", summary.count)
        st.metric("Labelled", summary.labelled, help=f"{summary.corrected} labelled by their author")
        for name in summary.accuracy:
            right = int(round(summary.accuracy[name] * summary.answered[name]))
            st.metric(f"{MODEL_TITLES[name]} right", f"{right} of {summary.answered[name]}")


def _gallery(store: object, shown: list[SharedDrawing], images: dict, presenter: bool) -> None:
    columns = st.columns(6)
    for position, drawing in enumerate(shown):
        if drawing.uid not in images:
            continue  # deleted by someone else since the list was read
        with columns[position % len(columns)]:
            st.image(images[drawing.uid][0], width=84, caption=_caption(drawing))
            if presenter:
                st.button("Delete", key=f"delete-{drawing.uid}", icon="🗑️", on_click=_delete, args=(store, drawing.uid))


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
    matrix = summary.confusion[name or names[0]]
    st.plotly_chart(model_charts.confusion_heatmap(matrix, f"{MODEL_TITLES[name or names[0]]}: label ↓ vs answer →"))


def _delete(store: object, uid: str | None) -> None:
    """One drawing (uid), or every drawing (None); a callback, so the gallery redraws without it."""
    try:
        store.forget() if uid is None else store.delete(uid)
    except DrawingsError as error:
        st.session_state.room_error = str(error)


def _delete_all(store: object, count: int) -> None:
    if error := st.session_state.pop("room_error", None):
        st.error(f"Not deleted: {error}", icon="🚫")
    with st.popover(f"Delete all {count} drawings…", icon="🗑️"):
        st.write("This deletes every shared drawing, for everyone in the room. It cannot be undone.")
        st.button(f"Yes, delete all {count}", key="delete_all", type="primary", on_click=_delete, args=(store, None))
