"""Handwritten digit recognition: `streamlit run app.py` (or `make run`)."""

import os
import sys
import time

import streamlit as st

from mnist_app.ui import data_tab, draw_tab, models_tab, upload_tab

started = time.perf_counter()
st.set_page_config(page_title="Digit reader: ANN vs CNN", page_icon="✏️", layout="wide")
st.title("✏️ Digit reader")
st.caption("Draw a digit and watch a dense network (ANN) and a convolutional network (CNN) read it, side by side.")

TABS = {
    "✏️ Draw": draw_tab.render,
    "📷 Upload": upload_tab.render,
    "📊 Explore the data": data_tab.render,
    "🧠 Models": models_tab.render,
}
# on_change="rerun" makes tabs lazy: only the open tab's code runs, so drawing stays fast.
answered = False
for tab, render in zip(st.tabs(list(TABS), key="tab", on_change="rerun"), TABS.values(), strict=True):
    if tab.open:
        with tab:
            answered = bool(render())

if os.environ.get("MNIST_APP_TIMING"):  # for the benchmark: server time of each rerun
    elapsed_ms = (time.perf_counter() - started) * 1000
    sys.stderr.write(f"rerun_ms={elapsed_ms:.1f} answered={int(answered)}\n")  # one write: threads interleave
