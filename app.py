"""Handwritten digit recognition: `streamlit run app.py` (or `make run`).

This file has two parts. `streamlit run` imports it to find its server (`st.App`): the server loads the
models as it starts (mnist_app.ui.startup), so that its first visitor does not wait for them, and answers
/ready once they are loaded. Then Streamlit runs it once per visitor's session, as the page.
"""

import streamlit as st

if __name__ == "__main__":  # a visitor's session (Streamlit runs the page as __main__; AppTest too)
    from mnist_app.ui.page import render

    render()
else:  # the server, imported once by `streamlit run app.py`
    from mnist_app.ui.startup import lifespan, routes

    app = st.App("app.py", lifespan=lifespan, routes=routes())
