"""How the models read one image: computed once (`read`), then shown in parts.

The Draw tab puts the compact answers right under the canvas (on a phone both stay on screen)
and the details beside it; the Upload tab shows everything in one column (`show_reading`).
Nothing here draws with Plotly: bars are a few lines of HTML and the 28x28 views are PNGs, which
the server builds and the browser draws in well under a millisecond each (Plotly figures took most
of the server's time after a stroke: docs/performance.md).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from mnist_app.config import MODEL_NAMES, MODEL_TITLES, SHOWN_MODELS
from mnist_app.reading.preprocess import Polarity, PreprocessSteps
from mnist_app.serving.digit_check import DIGIT_TWINS
from mnist_app.serving.prediction import Prediction
from mnist_app.serving.readings import DigitReading
from mnist_app.ui import charts, descriptions, resources

# Streamlit's server sends a running script's queued messages about every 5 ms. A pause that long after
# the answers lets them leave before the detail column's work (images, share controls) holds the
# interpreter, so the page shows the digits first instead of with everything else (docs/performance.md).
ANSWERS_FIRST_PAUSE_S = 0.006


def read(image: np.ndarray | None, polarity: Polarity) -> DigitReading | None:
    """The shown models' reading (the CNN's with its saliency); None when there is no ink."""
    return resources.reader().read_digit(image, SHOWN_MODELS, polarity, saliency=("cnn",))


def show_problems() -> bool:
    """Warnings for models that did not load; returns whether any shown model is available."""
    loaded, problems = resources.predictors()  # first view: loads while the user starts drawing
    for problem in problems:
        st.warning(problem, icon="⚠️")
    if not any(name in loaded for name in SHOWN_MODELS):
        st.error("No trained model is available. Train them with `make train` (about an hour on 2 CPU cores).")
        return False
    return True


def show_reading(image: np.ndarray | None, polarity: Polarity, empty_prompt: str, key: str) -> bool:
    """Everything in one column: answers, bars, agreement, the models' view, all models.

    Returns whether any model's answer was shown.
    """
    if not show_problems():
        return False
    reading = read(image, polarity)
    announce("" if reading is None else descriptions.announcement(list(reading.predictions.values())))
    if reading is None:
        st.info(empty_prompt, icon="✏️")
        return False
    show_answers(reading)
    show_details(reading, key)
    return True


def announce(words: str = "") -> None:
    """A polite live region: screen readers say the answers when they change. Drawn at the same place
    on every run (empty while there is no answer), so the page keeps one region and only its words change."""
    st.markdown(f'<div class="sr-only" role="status" aria-live="polite">{words}</div>', unsafe_allow_html=True)


def show_answers(reading: DigitReading) -> None:
    """ANN and CNN side by side, even on a phone: the digit (or "not sure"), how sure, all ten bars."""
    with st.container(horizontal=True, gap="medium"):
        for prediction in reading.predictions.values():
            with st.container(width="stretch", gap=None):
                show_answer(prediction)
    time.sleep(ANSWERS_FIRST_PAUSE_S)


def show_answer(prediction: Prediction) -> None:
    title = MODEL_TITLES[prediction.model]
    if prediction.sure:
        st.metric(label=title, value=str(prediction.digit))
        st.caption(f"{prediction.confidence:.1%} sure")
    else:
        st.metric(label=title, value="not sure")
        top = " · ".join(f"**{digit}** {p:.0%}" for digit, p in prediction.top(3))
        st.caption(f"Top 3: {top}")
    st.html(charts.probability_bars_html(prediction.probabilities))


def show_details(reading: DigitReading, key: str) -> None:
    """Whether the models agree, what they see, and every other model's reading."""
    st.markdown(agreement_line(list(reading.predictions.values()), reading.typical, reading.letter))
    show_model_view(reading.steps, reading.predictions.get("cnn"))
    reader = resources.reader()
    available = {*reader.predictors, *reader.later}  # loaded, or to be loaded when the table opens
    names = [name for name in MODEL_NAMES if name in available and name not in reading.predictions]
    if names:
        # on_change="rerun": the other models load, and run, only while this is open.
        table = st.expander("All models", key=f"{key}-all-models", on_change="rerun")
        if table.open:
            loaded = resources.all_predictors()
            others = {name: loaded[name].predict(reading.steps.final) for name in names if name in loaded}
            with table:
                st.dataframe(all_models_table({**reading.predictions, **others}), hide_index=True, width="stretch")


def agreement_line(predictions: list[Prediction], typical: bool = True, letter: str | None = None) -> str:
    """One sentence on whether the models agree, how sure they are, and whether it looks like a digit."""
    if letter and DIGIT_TWINS.get(letter) in {p.digit for p in predictions}:
        return (
            f"🔤 This could be the letter **{letter}** or the digit **{DIGIT_TWINS[letter]}**: people write "
            f"them alike. Read as a digit, it is a **{DIGIT_TWINS[letter]}**."
        )
    if letter:
        return (
            f"🔤 This looks more like the letter **{letter}** than like a digit. The models can only answer "
            "0-9, so their answers are the nearest digit, not a reading."
        )
    if not typical:
        return (
            "🧐 This does not look much like the handwritten digits the models learned from, so take their "
            "answers with a pinch of salt: they can only ever answer 0-9."
        )
    if len(predictions) < 2:
        return ""
    digits = {p.digit for p in predictions}
    sure = all(p.sure for p in predictions)
    if len(digits) == 1 and sure:
        return f"✅ Both models agree: it is a **{predictions[0].digit}**."
    if len(digits) == 1:
        return f"🤔 Both models lean towards **{predictions[0].digit}**, but not confidently: is it a clear digit?"
    names = " and ".join(f"{MODEL_TITLES[p.model]} **{p.digit}**" for p in predictions)
    return f"⚠️ The models disagree ({names}). This may not look like a digit to them; try redrawing it."


def show_model_view(steps: PreprocessSteps, cnn: Prediction | None) -> None:
    """What the models see: the 28x28 input, the CNN's saliency map, and the preprocessing steps."""
    with st.expander("What the models see", expanded=True):
        images, captions = [charts.enlarged(steps.final, 140)], ["28×28 model input"]
        alts = [descriptions.model_input(cnn.digit if cnn is not None else None)]
        if cnn is not None and cnn.saliency is not None:
            images.append(charts.saliency_rgb(cnn.saliency, 140))
            captions.append(f"Why the CNN says {cnn.digit}")
            alts.append(descriptions.saliency(cnn.saliency, cnn.digit))
        st.image(images, caption=captions, width=140, alt=alts)
        if len(images) > 1:
            st.caption("Red pixels pushed the CNN towards its answer, blue ones against it (gradient × input).")
        st.caption("Preprocessing, as MNIST was made: crop to the ink → even out the stroke → fit 20×20 → centre")
        stages = (steps.crop, steps.normalised, steps.scaled, steps.final)
        names = ["cropped", "stroke evened", "fitted to 20 px", "centred in 28×28"]
        alts = [f"Preprocessing step {n + 1} of 4: the drawing {name}" for n, name in enumerate(names)]
        st.image([charts.enlarged(stage, 80) for stage in stages], caption=names, width=80, alt=alts)


def all_models_table(predictions: dict[str, Prediction]) -> pd.DataFrame:
    rows = [
        {
            "model": MODEL_TITLES[name],
            "digit": str(p.digit) if p.sure else f"not sure ({p.digit}?)",
            "confidence": f"{p.confidence:.1%}",
            "runner-up": f"{p.top(2)[1][0]} ({p.top(2)[1][1]:.1%})",
        }
        for name, p in predictions.items()
    ]
    return pd.DataFrame(rows)
