"""The app's tabs by name, what one tab leaves for another, and one-click jumps between them.

A jump is a request (`go_to`) that the page honours on its next full run, before the tabs are
drawn (`apply_jump`): the Draw panel is a fragment, and a fragment's rerun does not redraw tabs.
"""

from __future__ import annotations

import streamlit as st

DRAW, UPLOAD, EXPLORE, MODELS, ROOM = "✏️ Draw", "📷 Upload", "📊 Explore the data", "🧠 Models", "👥 Room"
TABS_KEY = "tab"  # st.tabs' key: its session value is the open tab's label
LAST_DRAWING = "last_drawing"  # session key: the Draw tab's latest 28x28 input, marked on the map of digits
_JUMP = "jump_to_tab"


def go_to(label: str) -> None:
    """Open another tab now: a full rerun that starts on it."""
    st.session_state[_JUMP] = label
    st.rerun(scope="app")


def apply_jump() -> None:
    """Call before `st.tabs`: a requested jump becomes the open tab."""
    if (label := st.session_state.pop(_JUMP, None)) is not None:
        st.session_state[TABS_KEY] = label
