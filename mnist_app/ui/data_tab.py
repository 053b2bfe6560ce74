"""Tab 3: explore the MNIST data set (no model needed)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_app.dataset import statistics
from mnist_app.ui import charts, descriptions, resources
from mnist_app.ui.navigation import LAST_DRAWING

PER_CLASS = 12  # samples per digit in the grid
PCA_POINTS = 3000


def render() -> None:
    data = resources.mnist()
    if data is None:
        st.error(f"The MNIST data set is not available.\n\n{resources.mnist_problem()}", icon="🚫")
        return
    (x_train, y_train), (x_test, y_test) = data
    summary_row(x_train, x_test)

    st.subheader("How many of each digit")
    train_counts, test_counts = class_counts()
    st.plotly_chart(charts.class_bars(train_counts, test_counts), width="stretch", key="eda-class-bars")
    st.caption(descriptions.class_counts(train_counts, test_counts))
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.class_pie(train_counts, "Training set"), width="stretch", key="eda-pie-train")
    with right:
        st.plotly_chart(charts.class_pie(test_counts, "Test set"), width="stretch", key="eda-pie-test")

    st.subheader("Random samples, one row per digit")
    if "sample_seed" not in st.session_state:
        st.session_state.sample_seed = 0
    if st.button("Shuffle", key="shuffle", icon="🔀"):
        st.session_state.sample_seed += 1
    grid = sample_grid(st.session_state.sample_seed)
    st.plotly_chart(charts.mosaic(grid, height=560), width="stretch", key="eda-samples")
    st.caption(f"{PER_CLASS} random training images of each digit, one row per digit from 0 to 9.")

    st.subheader("The average digit")
    means, stds = mean_images()
    st.plotly_chart(charts.image_row(means, charts.DIGITS, "Mean image per digit"), width="stretch", key="eda-mean")
    st.plotly_chart(
        charts.image_row(
            stds / max(float(stds.max()), 1e-6), charts.DIGITS, "Pixel standard deviation per digit", "magma"
        ),
        width="stretch",
        key="eda-std",
    )
    st.caption(
        "The average of each digit's training images (blurred, but each still clearly its digit), and "
        "where writers differ most: brighter pixels in the second row."
    )

    st.subheader("Pixels and ink")
    left, right = st.columns(2)
    histogram, ink = pixel_statistics()
    with left:
        st.plotly_chart(charts.pixel_histogram(histogram), width="stretch", key="eda-histogram")
        st.caption(descriptions.pixel_levels(histogram))
    with right:
        st.plotly_chart(charts.ink_boxes(ink, y_train), width="stretch", key="eda-ink")
        st.caption(descriptions.ink_by_digit(ink, y_train))

    st.subheader("A map of the digits")
    digit_map = pca_map()
    drawing = st.session_state.get(LAST_DRAWING)
    here = None if drawing is None else digit_map.project(drawing)
    labels = y_train[digit_map.indices]
    st.plotly_chart(
        charts.pca_scatter(digit_map.coordinates, labels, digit_map.explained, here), width="stretch", key="eda-pca"
    )
    st.caption(descriptions.digit_map(digit_map.coordinates, labels, digit_map.explained, here))
    st.caption(
        f"{PCA_POINTS:,} random training images projected on the two directions of largest variance (PCA)"
        + (", and ★ your last drawing, projected the same way. " if here is not None else ". ")
        + "Click a digit in the legend to hide it, double-click to show it alone."
    )
    st.caption("MNIST: Yann LeCun and Corinna Cortes, CC BY-SA 3.0.")


def summary_row(x_train: np.ndarray, x_test: np.ndarray) -> None:
    columns = st.columns(4)
    columns[0].metric("Training images", f"{len(x_train):,}")
    columns[1].metric("Test images", f"{len(x_test):,}")
    columns[2].metric("Image size", f"{x_train.shape[1]}×{x_train.shape[2]}")
    columns[3].metric("Pixel range", f"{int(x_train.min())}–{int(x_train.max())}")


# The cached helpers take no arrays: the data set is a cached resource, so hashing it is wasted work.


@st.cache_data(show_spinner=False)
def class_counts() -> tuple[np.ndarray, np.ndarray]:
    (_, y_train), (_, y_test) = resources.mnist()
    return statistics.class_counts(y_train), statistics.class_counts(y_test)


@st.cache_data(show_spinner=False, max_entries=20)
def sample_grid(seed: int) -> np.ndarray:
    (x_train, y_train), _ = resources.mnist()
    return statistics.sample_grid(x_train, y_train, PER_CLASS, seed)


@st.cache_data(show_spinner=False)
def mean_images() -> tuple[np.ndarray, np.ndarray]:
    (x_train, y_train), _ = resources.mnist()
    return statistics.mean_and_std_per_class(x_train, y_train)


@st.cache_data(show_spinner=False)
def pixel_statistics() -> tuple[np.ndarray, np.ndarray]:
    (x_train, _), _ = resources.mnist()
    return statistics.pixel_histogram(x_train), statistics.ink_per_image(x_train)


@st.cache_data(show_spinner=False)
def pca_map() -> statistics.PcaMap:
    (x_train, _), _ = resources.mnist()
    return statistics.pca_2d(x_train, PCA_POINTS, seed=0)
