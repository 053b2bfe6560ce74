"""Tab 1: draw a digit and watch the models read it live.

The canvas and both answers sit in one column, answers right under the canvas, so a phone shows
them together without scrolling. The panel is a fragment: a stroke reruns only this panel, not
the page's title and tabs.
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from mnist_app.ui import timing
from mnist_app.ui.reading import read, show_answers, show_details, show_problems

CANVAS_SIDE = 280  # pixels; 10x MNIST's 28, and narrow enough for a 320-px phone
EMPTY_PROMPT = "Draw a digit from 0 to 9 on the black canvas; the answers appear when you lift the pen."


def render() -> bool:
    """The tab; returns whether answers were shown."""
    if "clears" not in st.session_state:
        st.session_state.clears = 0
    return bool(_panel())


@st.fragment
def _panel() -> bool:
    started = time.perf_counter()
    if not show_problems():
        return False
    canvas_column, detail_column = st.columns([2, 3], gap="large")
    with canvas_column:
        canvas_slot, answer_slot, controls = st.container(), st.container(), st.container()
        with controls:  # created first (the pen width is needed to draw), shown below the answers
            pen_width = _controls()
        with canvas_slot:
            image = _canvas(pen_width)
        reading = read(image, "light")
        with answer_slot:
            if reading is None:
                st.info(EMPTY_PROMPT, icon="✏️")
            else:
                show_answers(reading)
    if reading is not None:
        with detail_column:
            show_details(reading, key="draw")
    timing.log_rerun(started, answered=reading is not None)
    return reading is not None


def _controls() -> int:
    """Clear, the pen width and a hint; returns the pen width."""
    st.button("Clear", key="clear", on_click=_clear, icon="🧽", width="stretch")
    pen_width = st.slider("Pen width", min_value=4, max_value=40, value=20, step=1, key="pen_width")
    st.caption(
        "Undo and redo are in the canvas toolbar. Draw big or small, anywhere: the digit is cropped and centred."
    )
    return pen_width


def _canvas(pen_width: int) -> np.ndarray | None:
    """The canvas; returns the drawing as an RGBA array (None when there is none)."""
    from streamlit_drawable_canvas import st_canvas  # registers itself: only inside a running app

    result = st_canvas(
        stroke_width=pen_width,
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
    if st.session_state.pop("just_cleared", False):
        return None  # this run still carries the old drawing; the emptied canvas reports in next
    return result.image_data


def _clear() -> None:
    st.session_state.clears += 1
    st.session_state.just_cleared = True
