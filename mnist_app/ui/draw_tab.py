"""Tab 1: draw a digit (or a whole number) and watch the models read it live.

The canvas and both answers sit in one column, answers right under the canvas, so a phone shows
them together without scrolling. The panel is a fragment: a stroke reruns only this panel, not
the page's title and tabs.
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from mnist_app.serving.readings import DigitReading
from mnist_app.ui import descriptions, timing
from mnist_app.ui.digit_view import announce, read, show_answers, show_details, show_problems
from mnist_app.ui.inside_view import show_inside
from mnist_app.ui.live_reading import live_manifest_url
from mnist_app.ui.navigation import EXPLORE, LAST_DRAWING, go_to
from mnist_app.ui.number_view import show_number_reading
from mnist_app.ui.share_view import correction_for, show_share
from mnist_app.ui.why_view import KEY as WHY_KEY
from mnist_app.ui.why_view import OPEN as WHY_OPEN
from mnist_app.ui.why_view import TITLE as WHY_TITLE
from mnist_app.ui.why_view import show_why

CANVAS_SIDE = 280  # pixels; 10x MNIST's 28, and narrow enough for a 320-px phone
# Number mode: a 3:1 canvas, as wide as a phone's screen allows on phones (348 of 390 px).
NUMBER_CANVAS = {"desktop": (720, 240), "phone": (348, 116)}
MODES = ("One digit", "A number")
EMPTY_PROMPT = "Draw a digit from 0 to 9 on the black canvas; the answers appear when you lift the pen."
NUMBER_PROMPT = "Write a number of one or more digits on the wide canvas, left to right."
DIGIT_HINT = (
    "Undo and redo are in the canvas toolbar. Draw big or small, anywhere: the digit is cropped and centred. "
    "No mouse, pen or touch screen? The Upload tab reads a picture of a digit."
)
NUMBER_HINT = "Leave a little space between digits. Each one is cut out, cropped and centred, then read on its own."


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
    mode = st.segmented_control("Read", MODES, default=MODES[0], key="draw_mode", label_visibility="collapsed")
    answered = _number_panel() if mode == MODES[1] else _digit_panel()
    timing.log_rerun(started, answered)
    return answered


def _digit_panel() -> bool:
    canvas_column, detail_column = st.columns([2, 3], gap="large")
    with canvas_column:
        canvas_slot, answer_slot, controls = st.container(), st.container(), st.container()
        with controls:  # created first (the pen width is needed to draw), shown below the answers
            pen_width = _controls(default_pen=20)
        with canvas_slot:
            live = live_manifest_url()
            # While the "Why the CNN wins" panel is open, the drawing comes with its stroke's story.
            image, story = _canvas(
                pen_width, CANVAS_SIDE, CANVAS_SIDE, key="canvas", live=live, story=bool(st.session_state.get(WHY_OPEN))
            )
        reading = read(image, "light")
        with answer_slot:
            announce("" if reading is None else descriptions.announcement(list(reading.predictions.values())))
            if reading is None:
                st.info(EMPTY_PROMPT, icon="✏️")
            else:
                show_answers(reading)
                _why_panel(reading, image, story, live is not None)
    if reading is not None:
        st.session_state[LAST_DRAWING] = reading.steps.final  # for "you are here" on the map of digits
        with detail_column:
            show_share(reading, image)
            show_details(reading, key="draw")
            if st.button("📍 Show my drawing on the map of all digits", key="to-map", type="tertiary"):
                go_to(EXPLORE)  # the map marks it ★ among 60,000 training digits
            # Closed by default, and stays open for the next drawing once opened.
            inside = _panel_expander("Inside the networks", "inside")
            if inside.open:
                with inside:
                    show_inside(reading.steps.final)
    return reading is not None


def _why_panel(reading: DigitReading, image: np.ndarray | None, story: object, live: bool) -> None:
    why = _panel_expander(WHY_TITLE, WHY_KEY, WHY_OPEN)
    if why.open:
        with why:
            answer = reading.predictions.get("cnn") or next(iter(reading.predictions.values()))
            correction = correction_for(reading)
            show_why(reading, image, correction if correction is not None else answer.digit, story, live)


def _panel_expander(title: str, key: str, remembered: str | None = None) -> object:
    """A panel under a drawing, closed by default; on_change="rerun", so its work runs only while it is open.
    Whether it was left open is kept apart from the expander's own state, which goes while no drawing shows
    it (after Clear): the panel stays open for the next drawing."""
    remembered = remembered or f"{key}-open"
    panel = st.expander(title, key=key, on_change="rerun", expanded=st.session_state.get(remembered, False))
    st.session_state[remembered] = panel.open
    return panel


def _number_panel() -> bool:
    width, height = NUMBER_CANVAS["phone" if _on_a_phone() else "desktop"]
    canvas_slot, result_slot, controls = st.container(), st.container(), st.container()
    with controls:  # under the results, as in digit mode: the number shows right under the canvas
        pen_width = _controls(default_pen=12, key="number_pen_width", hint=NUMBER_HINT)
    with canvas_slot:
        image, _ = _canvas(pen_width, width, height, key="number_canvas")
    with result_slot:
        return show_number_reading(image, "light", NUMBER_PROMPT)


def _on_a_phone() -> bool:
    agent = st.context.headers.get("User-Agent", "") if st.context.headers else ""
    return "Mobi" in agent or "Android" in agent


def _controls(default_pen: int, key: str = "pen_width", hint: str = DIGIT_HINT) -> int:
    """Clear, the pen width and a hint; returns the pen width."""
    with st.container(width=360):
        st.button("Clear", key=f"clear-{key}", on_click=_clear, icon="🧽", width="stretch")
        pen_width = st.slider("Pen width", min_value=4, max_value=40, value=default_pen, step=1, key=key)
    st.caption(hint)
    return pen_width


def _canvas(
    pen_width: int, width: int, height: int, key: str, live: str | None = None, story: bool = False
) -> tuple[np.ndarray | None, object]:
    """The canvas; returns the drawing as an RGBA array (None when there is none) and its stroke's story.

    `live`: the weights' manifest URL, for live reading in the browser while the pen moves (None: off);
    `story`: whether the drawing comes with the live readings of its every frame (None when it does not)."""
    from mnist_drawable_canvas import st_canvas  # registers itself: only inside a running app

    result = st_canvas(
        stroke_width=pen_width,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=height,
        width=width,
        drawing_mode="freedraw",
        update_streamlit=True,
        return_image_data=True,
        send_delay_ms=0,  # sent as the pen lifts (the release waited 200 ms for a double-click)
        live=live,
        story=story,
        # A changed initial drawing makes the canvas reload it: an empty one clears the canvas, and
        # the fixed key keeps the same canvas mounted (no stale canvas to draw on while it swaps).
        initial_drawing={"objects": [], "clears": st.session_state.clears},
        key=key,
    )
    if st.session_state.pop("just_cleared", False):
        return None, None  # this run still carries the old drawing; the emptied canvas reports in next
    return result.image_data, result.story


def _clear() -> None:
    st.session_state.clears += 1
    st.session_state.just_cleared = True
