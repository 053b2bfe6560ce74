"""Tab 1: draw a digit and watch the models read it live."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_app.ui.reading import show_reading

CANVAS_SIDE = 280  # pixels; 10x MNIST's 28


def render() -> bool:
    """The tab; returns whether answers were shown."""
    if "clears" not in st.session_state:
        st.session_state.clears = 0
    canvas_column, result_column = st.columns([2, 3], gap="large")
    with canvas_column:
        image = _canvas()
    with result_column:
        return show_reading(
            image,
            polarity="light",
            empty_prompt="Draw a digit from 0 to 9 on the black canvas; the answers appear when you lift the pen.",
            key="draw",
        )


def _canvas() -> np.ndarray | None:
    """The canvas and its controls; returns the drawing as an RGBA array (None when there is none)."""
    from streamlit_drawable_canvas import st_canvas  # registers itself: only inside a running app

    stroke_width = st.slider("Pen width", min_value=4, max_value=40, value=20, step=1, key="pen_width")
    result = st_canvas(
        stroke_width=stroke_width,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=CANVAS_SIDE,
        width=CANVAS_SIDE,
        drawing_mode="freedraw",
        update_streamlit=True,
        return_image_data=True,
        # A changed initial drawing makes the canvas reload it: an empty one clears the canvas, and
        # the fixed key keeps the same canvas mounted (no stale canvas to draw on while it swaps).
        initial_drawing={"objects": [], "clears": st.session_state.clears},
        key="canvas",
    )
    st.button("Clear", key="clear", on_click=_clear, icon="🧽", width="stretch")
    st.caption(
        "Undo and redo are in the canvas toolbar. Draw big or small, anywhere: the digit is cropped and centred."
    )
    if st.session_state.pop("just_cleared", False):
        return None  # this run still carries the old drawing; the emptied canvas reports in next
    return result.image_data


def _clear() -> None:
    st.session_state.clears += 1
    st.session_state.just_cleared = True
