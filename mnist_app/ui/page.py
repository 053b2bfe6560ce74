"""The page every visitor sees: the title and the five tabs. Streamlit runs it (app.py) for each session."""

import streamlit as st

from mnist_app.ui import data_tab, draw_tab, models_tab, navigation, room_tab, style, upload_tab
from mnist_app.ui.navigation import DRAW, EXPLORE, MODELS, ROOM, TABS_KEY, UPLOAD

TABS = {
    DRAW: draw_tab.render,
    UPLOAD: upload_tab.render,
    EXPLORE: data_tab.render,
    MODELS: models_tab.render,
    ROOM: room_tab.render,
}


def render() -> None:
    st.set_page_config(page_title="Digit reader: ANN vs CNN", page_icon="✏️", layout="wide")
    style.apply()
    st.title("✏️ Digit reader")
    st.caption("Draw a digit and watch a dense network (ANN) and a convolutional network (CNN) read it, side by side.")
    navigation.apply_jump()
    # on_change="rerun" makes tabs lazy: only the open tab's code runs, so drawing stays fast.
    for tab, tab_render in zip(st.tabs(list(TABS), key=TABS_KEY, on_change="rerun"), TABS.values(), strict=True):
        if tab.open:
            with tab:
                tab_render()
