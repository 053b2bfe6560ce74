"""The "Inside the networks" panel: renders what mnist_app.serving.explain computes (no maths here)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_app.ui import charts, descriptions, resources

NEIGHBOURS = 8


def show_inside(image: np.ndarray) -> None:
    """Both networks' layers for this 28x28 input, and the training digits the CNN finds most alike."""
    cnn, ann = resources.probes()
    cnn_view = cnn.view(image) if cnn is not None else None
    if cnn_view is not None:
        view = cnn_view
        first = f" (the first of the {cnn.member_count} networks it averages)" if cnn.member_count > 1 else ""
        if cnn.answered_by_experts(image):
            first += (
                f". This ink is soft (blurred or low-resolution), so the answer above came from its "
                f"{cnn.expert_count} soft-ink experts, fine-tuned from these networks"
            )
        st.markdown(
            f"**CNN**{first}: each small square is one feature map, a filter's response at every place in the image."
        )
        for maps in view.blocks:
            height, width, channels = maps.shape
            caption = f"{channels} feature maps of {height}x{width}"
            st.image(charts.channel_grid(maps), caption=caption, width="stretch", alt=f"The CNN's {caption}")
        st.image(
            charts.channel_grid(cnn.first_kernels, normalise_each=False),
            width=240,
            caption="the first layer's 32 learned 3x3 filters",
            alt="The CNN's 32 learned 3x3 filters of its first layer, as small grey squares",
        )
        st.image(
            charts.strip(view.dense),
            width="stretch",
            caption=f"the {view.dense.size} units before the output",
            alt=f"The CNN's {view.dense.size} units before the output, brighter when they fire more",
        )
        st.markdown("Logits before softmax: " + " · ".join(f"{d}: **{v:+.1f}**" for d, v in enumerate(view.logits)))
    if ann is not None:
        view = ann.view(image)
        st.markdown("**ANN**: every hidden unit, brighter when it fires more.")
        for units in view.hidden:
            st.image(
                charts.strip(units),
                width="stretch",
                caption=f"{units.size} hidden units",
                alt=f"The ANN's {units.size} hidden units, brighter when they fire more",
            )
        st.image(
            charts.saliency_rgb(view.template, 140),
            width=140,
            caption="first-layer weights, each unit weighted by how strongly it fired (red: ink helps)",
            alt=f"The ANN's first-layer weights for this drawing: ink helps most in the "
            f"{descriptions.where(np.clip(view.template, 0, None))} of the image",
        )
    index = resources.neighbour_index()
    data = resources.mnist()
    if cnn_view is not None and index is not None and data is not None:
        nearest, distances = index.nearest(cnn_view.dense, NEIGHBOURS)
        labels = index.labels[nearest]
        from mnist_app.serving.explain import neighbour_caption

        st.markdown(f"**The closest training digits** (CNN features, cosine): {neighbour_caption(labels)}.")
        (x_train, _), _ = data
        st.image(
            [x_train[i] for i in nearest],
            caption=[f"{lab} ({d:.2f})" for lab, d in zip(labels, distances, strict=True)],
            width=56,
            alt=[f"A training digit labelled {lab}, among the closest to the drawing" for lab in labels],
        )
