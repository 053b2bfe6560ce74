"""Tab 2: read a photo, scan or screenshot of a handwritten digit."""

from __future__ import annotations

import streamlit as st

from mnist_app.images import SUPPORTED, ImageDecodeError, decode_image, preview
from mnist_app.ui.reading import show_reading

FILE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]


def render() -> bool:
    """The tab; returns whether answers were shown."""
    upload_column, result_column = st.columns([2, 3], gap="large")
    with upload_column:
        uploaded = st.file_uploader(
            f"A photo or scan of one handwritten digit ({SUPPORTED})", type=FILE_TYPES, key="upload"
        )
        image = None
        if uploaded is not None:
            try:
                image = decode_image(uploaded.getvalue())  # in memory: uploads never touch the disk
            except ImageDecodeError as error:
                st.error(f"Cannot read {uploaded.name}: {error}.", icon="🚫")
            else:
                st.image(preview(uploaded.getvalue()), caption=uploaded.name, width=240)
    with result_column:
        if uploaded is not None and image is None:
            return False
        return show_reading(
            image,
            polarity="auto",
            empty_prompt=(
                "Upload a picture of a single digit: dark ink on light paper or light on dark both work."
                if uploaded is None
                else "No ink found in this image: it looks blank or has too little contrast."
            ),
            key="upload",
        )
