"""Tab 2: read a photo, scan or screenshot of a handwritten digit, or take a picture with the camera."""

from __future__ import annotations

import streamlit as st

from mnist_app.reading.uploads import SUPPORTED, ImageDecodeError, decode_image, preview
from mnist_app.ui.digit_view import show_reading
from mnist_app.ui.number_view import show_number_reading

FILE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]
SOURCES = ("📁 A file", "📷 The camera")
KINDS = ("One digit", "A number")


def render() -> bool:
    """The tab; returns whether answers were shown."""
    picture_column, result_column = st.columns([2, 3], gap="large")
    with picture_column:
        # The camera is asked for only when chosen: no permission prompt for people who upload.
        source = st.segmented_control("Picture from", SOURCES, default=SOURCES[0], key="picture_source")
        kind = st.segmented_control("The picture shows", KINDS, default=KINDS[0], key="picture_kind")
        picture = _camera() if source == SOURCES[1] else _file()
        image = None
        if picture is not None:
            name, data = picture
            try:
                image = decode_image(data)  # in memory: pictures never touch the disk
            except ImageDecodeError as error:
                st.error(f"Cannot read {name}: {error}.", icon="🚫")
            else:
                st.image(preview(data), caption=name, width=240, alt=f"The picture you gave: {name}")
    with result_column:
        if picture is not None and image is None:
            return False
        if kind == KINDS[1]:
            return show_number_reading(image, "auto", _prompt(picture, source))
        return show_reading(
            image,
            polarity="auto",
            empty_prompt=_prompt(picture, source),
            key="upload",
        )


def _file() -> tuple[str, bytes] | None:
    uploaded = st.file_uploader(f"A photo or scan of handwriting ({SUPPORTED})", type=FILE_TYPES, key="upload")
    return None if uploaded is None else (uploaded.name, uploaded.getvalue())


def _camera() -> tuple[str, bytes] | None:
    shot = st.camera_input("Hold a digit written on paper up to the camera, filling most of the frame", key="camera")
    return None if shot is None else ("the camera picture", shot.getvalue())


def _prompt(picture: tuple[str, bytes] | None, source: str | None) -> str:
    if picture is not None:
        return "No ink found in this picture: it looks blank or has too little contrast."
    if source == SOURCES[1]:
        return "Take a picture of a digit or number written on paper: a thick dark pen reads best."
    return "Upload a picture of a digit or a number: dark ink on light paper or light on dark both work."
