"""The result panel shared by the Draw and Upload tabs: how each model reads one image."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from mnist_app.config import CONFIDENCE_THRESHOLD, MODEL_NAMES, MODEL_TITLES, SHOWN_MODELS
from mnist_app.inference import Prediction
from mnist_app.preprocess import Polarity, PreprocessSteps, preprocess_steps
from mnist_app.ui import charts, resources


def show_reading(image: np.ndarray | None, polarity: Polarity, empty_prompt: str, key: str) -> bool:
    """Preprocess `image`, run the models, and show answers, probabilities and the models' view.

    Returns whether any model's answer was shown.
    """
    loaded, problems = resources.predictors()  # first view: loads while the user starts drawing
    for problem in problems:
        st.warning(problem, icon="⚠️")
    steps = preprocess_steps(image, polarity) if image is not None else None
    if steps is None:
        st.info(empty_prompt, icon="✏️")
        return False
    shown = [name for name in SHOWN_MODELS if name in loaded]
    if not shown:
        st.error("No trained model is available. Train them with `make train` (about 45 minutes on 2 CPU cores).")
        show_model_view(steps, None, key)
        return False
    predictions = {name: loaded[name].predict(steps.final, saliency=name == "cnn") for name in shown}
    for column, name in zip(st.columns(len(shown)), shown, strict=True):
        with column:
            show_answer(predictions[name], key)
    space = resources.digit_space()
    typical = space is None or space.is_typical(steps.final)
    st.markdown(agreement_line(list(predictions.values()), typical))
    show_model_view(steps, predictions.get("cnn"), key)
    others = {name: loaded[name].predict(steps.final) for name in MODEL_NAMES if name in loaded and name not in shown}
    if others:
        with st.expander("All models"):
            st.dataframe(all_models_table({**predictions, **others}), hide_index=True, width="stretch")
    return True


def is_sure(prediction: Prediction) -> bool:
    return prediction.confidence >= CONFIDENCE_THRESHOLD


def show_answer(prediction: Prediction, key: str) -> None:
    """One model's answer: the digit (or "not sure" with its top 3) and all ten probabilities."""
    title = MODEL_TITLES[prediction.model]
    if is_sure(prediction):
        st.metric(label=title, value=str(prediction.digit))
        st.caption(f"{prediction.confidence:.1%} sure")
    else:
        st.metric(label=title, value="not sure")
        top = " · ".join(f"**{digit}** {p:.0%}" for digit, p in prediction.top(3))
        st.caption(f"Top 3: {top}")
    st.plotly_chart(
        charts.probability_bars(prediction.probabilities),
        width="stretch",
        key=f"{key}-bars-{prediction.model}",
        config={"displayModeBar": False},
    )


def agreement_line(predictions: list[Prediction], typical: bool = True) -> str:
    """One sentence on whether the models agree, how sure they are, and whether it looks like a digit."""
    if not typical:
        return (
            "🧐 This does not look much like the handwritten digits the models learned from, so take their "
            "answers with a pinch of salt: they can only ever answer 0-9."
        )
    if len(predictions) < 2:
        return ""
    digits = {p.digit for p in predictions}
    sure = all(is_sure(p) for p in predictions)
    if len(digits) == 1 and sure:
        return f"✅ Both models agree: it is a **{predictions[0].digit}**."
    if len(digits) == 1:
        return f"🤔 Both models lean towards **{predictions[0].digit}**, but not confidently: is it a clear digit?"
    names = " and ".join(f"{MODEL_TITLES[p.model]} **{p.digit}**" for p in predictions)
    return f"⚠️ The models disagree ({names}). This may not look like a digit to them; try redrawing it."


def show_model_view(steps: PreprocessSteps, cnn: Prediction | None, key: str) -> None:
    """What the models see: the 28x28 input, the preprocessing steps, and the CNN's saliency map."""
    with st.expander("What the models see", expanded=True):
        left, right = st.columns(2)
        with left:
            st.plotly_chart(
                charts.pixel_grid(steps.final, "28x28 model input"),
                width="stretch",
                key=f"{key}-input",
                config={"displayModeBar": False},
            )
        with right:
            if cnn is not None and cnn.saliency is not None:
                st.plotly_chart(
                    charts.saliency_map(cnn.saliency, f"Why the CNN says {cnn.digit}"),
                    width="stretch",
                    key=f"{key}-saliency",
                    config={"displayModeBar": False},
                )
                st.caption("Red pixels pushed the CNN towards its answer, blue ones against it (gradient × input).")
        st.caption("Preprocessing, as MNIST was made: crop to the ink → even out the stroke → fit 20×20 → centre")
        columns = st.columns(4)
        images = (steps.crop, steps.normalised, steps.scaled, steps.final)
        captions = ("cropped", "stroke evened", "fitted to 20 px", "centred in 28×28")
        for column, image, caption in zip(columns, images, captions, strict=True):
            with column:
                st.image(_displayable(image), caption=caption, width=96)


def _displayable(image: np.ndarray) -> np.ndarray:
    """A float image as uint8, enlarged with nearest neighbour when tiny so its pixels stay visible."""
    pixels = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    repeat = max(1, 96 // max(pixels.shape))
    return np.kron(pixels, np.ones((repeat, repeat), dtype=np.uint8)) if repeat > 1 else pixels


def all_models_table(predictions: dict[str, Prediction]) -> pd.DataFrame:
    rows = [
        {
            "model": MODEL_TITLES[name],
            "digit": str(p.digit) if is_sure(p) else f"not sure ({p.digit}?)",
            "confidence": f"{p.confidence:.1%}",
            "runner-up": f"{p.top(2)[1][0]} ({p.top(2)[1][1]:.1%})",
        }
        for name, p in predictions.items()
    ]
    return pd.DataFrame(rows)
