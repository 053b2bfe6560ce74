"""The "Why the CNN wins" panel: the drawing moved, turned, resized and restroked, and how each network holds.

It renders what the reader computes (`Reader.read_variations`, `Reader.read_uncentred`) and what the
browser recorded while the pen moved (mnist_app.serving.stroke_story); no maths here.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_app.config import MODEL_TITLES, SHOWN_MODELS
from mnist_app.reading.variations import FAMILIES
from mnist_app.serving.invariance import Curve
from mnist_app.serving.readings import DigitReading
from mnist_app.serving.stroke_story import StrokeStory, parse_story
from mnist_app.ui import charts, descriptions, resources, why_charts

TITLE = "Why the CNN wins"
KEY = "why-cnn"  # the panel's expander
TABS = "why-tab"  # the open tab's title
OPEN = "why-cnn-open"  # whether it was left open, kept while no drawing shows it
INTRO = (
    "The app crops, scales and centres every drawing, as MNIST was made. That is what lets the ANN cope: a "
    "dense network learns what each pixel's place means. A convolutional network looks for small patterns "
    "wherever they are. Take the guarantees away, one at a time, and watch both networks."
)
UNCENTRED_LABEL = "Skip the centring"
UNCENTRED_HELP = "Read the whole canvas only scaled to 28×28, as a naive canvas demo would: no crop, no centring."
STORY_TITLE = "Stroke's story"
LIVE_OFF = "Live reading is off here, so there is no stroke's story: it is read in your browser while the pen moves."
NO_STORY = (
    "Draw a digit while this panel is open: your browser keeps what both networks read at every moment of the "
    "stroke, and this chart shows when each made up its mind."
)


def show_why(
    reading: DigitReading, image: np.ndarray | None, digit: int, story: object = None, live: bool = True
) -> None:
    """The panel's content for the drawing `image`, read as `reading`, following the digit `digit`.

    `story`: what the canvas sent of the live reading's frames (None: nothing); `live`: whether live
    reading is on for this page at all."""
    reader = resources.reader()
    names = [name for name in SHOWN_MODELS if name in reading.predictions]
    st.caption(INTRO)
    start = reading.steps.final
    if st.toggle(UNCENTRED_LABEL, key="why-uncentred", help=UNCENTRED_HELP):
        uncentred = reader.read_uncentred(image, names, "light")
        if uncentred is not None:
            start = uncentred[0]
            _show_uncentred(*uncentred, reading, digit)
    # on_change="rerun" makes the tabs lazy: only the open tab's family is read and charted.
    *tabs, story_tab = st.tabs([*(family.title for family in FAMILIES), STORY_TITLE], key=TABS, on_change="rerun")
    for tab, family in zip(tabs, FAMILIES, strict=True):
        if tab.open:
            with tab:
                _show_curve(reader.read_variations(start, digit, names, families=(family,))[0])
    if story_tab.open:
        with story_tab:
            _show_story(parse_story(story, names) if live else None, digit, live)


def _show_story(story: StrokeStory | None, digit: int, live: bool) -> None:
    if not live:
        st.info(LIVE_OFF, icon="ℹ️")
        return
    if story is None:
        st.info(NO_STORY, icon="✏️")
        return
    figure = why_charts.stroke_lines(
        story.seconds, {n: p[:, digit] for n, p in story.probabilities.items()}, story.stroke_starts(), digit
    )
    st.markdown(f'<div class="sr-only">{descriptions.stroke_chart(story, digit)}</div>', unsafe_allow_html=True)
    st.plotly_chart(figure, width="stretch", key="why-story", config={"displayModeBar": False})
    st.markdown(descriptions.stroke_sentence(story, digit))


def _show_uncentred(image: np.ndarray, predictions: dict, reading: DigitReading, digit: int) -> None:
    """The naive input beside the centred one, and each network's confidence in `digit` for both."""
    said = []
    for name, uncentred in predictions.items():
        centred = reading.predictions[name]
        said.append(
            f"the {MODEL_TITLES[name]} reads **{uncentred.digit}** ({uncentred.confidence:.0%} sure; "
            f"{uncentred.probabilities[digit]:.0%} for {digit}, against {centred.probabilities[digit]:.0%} centred)"
        )
    st.image(
        [charts.enlarged(image, 84), charts.enlarged(reading.steps.final, 84)],
        caption=["not centred", "centred (what the models saw above)"],
        width=84,
        alt=[
            "The drawing only scaled to 28×28, not cropped or centred",
            "The drawing cropped, scaled and centred, as the models read it above",
        ],
    )
    st.markdown("Without the crop and the centring, " + "; ".join(said) + ". The charts below start from it.")


def _show_curve(curve: Curve) -> None:
    family = curve.family
    figure = why_charts.confidence_lines(family.values, curve.confidence, family.unchanged, family.axis, curve.digit)
    st.markdown(f'<div class="sr-only">{descriptions.variation_chart(curve)}</div>', unsafe_allow_html=True)
    st.plotly_chart(figure, width="stretch", key=f"why-{family.key}", config={"displayModeBar": False})
    st.markdown(descriptions.variation_sentence(curve))
    shown = why_charts.thumbnail_indexes(len(family.values), curve.unchanged_index)
    scores = [
        " · ".join(f"{MODEL_TITLES[name]} {curve.confidence[name][i]:.0%}" for name in curve.confidence) for i in shown
    ]
    st.image(
        [charts.enlarged(curve.images[i], why_charts.THUMBNAIL_SIDE) for i in shown],
        caption=[f"{family.label(family.values[i])}: {score}" for i, score in zip(shown, scores, strict=True)],
        width=why_charts.THUMBNAIL_SIDE,
        alt=[
            f"The input {family.phrase(family.values[i])}: {score} sure of {curve.digit}"
            for i, score in zip(shown, scores, strict=True)
        ],
    )
