"""Handwritten digit recognition: `streamlit run app.py` (or `make run`)."""

import streamlit as st

from mnist_app.ui import data_tab, draw_tab, models_tab, room_tab, style, upload_tab

st.set_page_config(page_title="Digit reader: ANN vs CNN", page_icon="✏️", layout="wide")
style.apply()
st.title("✏️ Digit reader")
st.caption("Draw a digit and watch a dense network (ANN) and a convolutional network (CNN) read it, side by side.")

TABS = {
    "✏️ Draw": draw_tab.render,
    "📷 Upload": upload_tab.render,
    "📊 Explore the data": data_tab.render,
    "🧠 Models": models_tab.render,
    "👥 Room": room_tab.render,
}
# on_change="rerun" makes tabs lazy: only the open tab's code runs, so drawing stays fast.
for tab, render in zip(st.tabs(list(TABS), key="tab", on_change="rerun"), TABS.values(), strict=True):
    if tab.open:
        with tab:
            render()
