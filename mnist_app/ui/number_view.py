"""The result panel for a whole number: the number read, and every digit tied to its place."""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from mnist_app.config import MODEL_TITLES, SHOWN_MODELS
from mnist_app.reading.preprocess import Polarity
from mnist_app.serving.reader import JUDGE, TooManyParts
from mnist_app.serving.readings import NumberReading
from mnist_app.ui import charts, descriptions, resources
from mnist_app.ui.digit_view import announce

BOX_COLOUR = (255, 75, 75)
IGNORED_COLOUR = (150, 150, 150)


def read(image: np.ndarray | None, polarity: Polarity) -> NumberReading | None:
    """The shown models' reading of `image` as a number; None when there is no ink.
    Raises TooManyParts for a scribble."""
    reader = resources.reader()
    if image is not None and reader.load_strings is not None:  # the first number: the string reader loads
        with st.spinner("Loading the string reader…"):
            reader.whole_reader()
    return reader.read_number(image, SHOWN_MODELS, polarity)


def show_number_reading(image: np.ndarray | None, polarity: Polarity, empty_prompt: str) -> bool:
    """Segment and read `image` as a number; returns whether a reading was shown."""
    reading, problem = None, None
    try:
        reading = read(image, polarity)
    except TooManyParts as error:
        problem = f"That does not look like a number: {error}."
    announce("" if reading is None else descriptions.number_announcement(reading.predictions))
    if problem:
        st.warning(problem, icon="🧐")
        return False
    if reading is None:
        st.info(empty_prompt, icon="✏️")
        return False
    show_numbers(reading)
    if reading.unusual:
        places = ", ".join(f"#{i + 1}" for i in reading.unusual)
        st.markdown(f"🧐 Digit {places} does not look much like the handwritten digits the models learned from.")
    if reading.ignored:
        st.caption(ignored_line(reading))
    if any(digit.read_whole is not None for digit in reading.digits):
        st.caption(touching_line(reading))
    st.image(
        boxed(image, reading),
        caption="Each digit as the models found it, numbered left to right",
        alt=f"The picture with a numbered red box around each of its {len(reading.digits)} digits",
    )
    show_digits(reading)
    return True


def show_numbers(reading: NumberReading) -> None:
    """Each model's number, large and side by side, and whether they agree."""
    with st.container(horizontal=True, gap="medium"):
        for name in reading.predictions:
            with st.container(width="stretch", gap=None):
                st.metric(label=MODEL_TITLES[name], value=reading.number(name))
                least = reading.least_sure(name)
                doubtful = reading.doubtful(name)
                note = f"least sure digit {least.confidence:.0%}"
                if doubtful:
                    note += " · not sure of digit " + ", ".join(f"#{i + 1}" for i in doubtful)
                st.caption(note)
    st.markdown(agreement_line(reading))


def agreement_line(reading: NumberReading) -> str:
    numbers = {name: reading.number(name) for name in reading.predictions}
    count = len(reading.digits)
    digits = f"{count} digit{'s' if count != 1 else ''}"
    if len(set(numbers.values())) == 1:
        value = next(iter(numbers.values()))
        if all(not reading.doubtful(name) for name in numbers):
            return f"✅ Both models read the same number: **{value}** ({digits})."
        return f"🤔 Both models read **{value}** ({digits}), but not every digit confidently."
    differ = [i + 1 for i in range(count) if len({reading.predictions[n][i].digit for n in numbers}) > 1]
    places = ", ".join(f"#{i}" for i in differ)
    return f"⚠️ The models read different numbers: they differ at digit {places}."


def show_digits(reading: NumberReading) -> None:
    """Per digit: its 28x28 input, and each model's reading (with the top 3 when not sure)."""
    with st.container(horizontal=True, gap="small"):
        for index, digit in enumerate(reading.digits):
            with st.container(width=110, gap=None, border=True):
                st.image(
                    charts.enlarged(digit.image, 56),
                    caption=f"#{index + 1}",
                    width=56,
                    alt=f"Digit {index + 1} as the models see it, 28×28",
                )
                for name, predictions in reading.predictions.items():
                    p = predictions[index]
                    together = " ⛓" if name == JUDGE and digit.read_whole is not None else ""
                    if p.sure:
                        st.markdown(f"{MODEL_TITLES[name]} **{p.digit}** {p.confidence:.0%}{together}")
                    else:
                        top = " ".join(f"{d}:{q:.0%}" for d, q in p.top(3))
                        st.markdown(f"{MODEL_TITLES[name]} **not sure**  \n{top}")


def touching_line(reading: NumberReading) -> str:
    """'Digits #2-#4 touch: the CNN read them together (its string reader); the ANN read the pieces.'"""
    runs: list[list[int]] = []
    for index, digit in enumerate(reading.digits):
        if digit.read_whole is None:
            continue
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    places = ", ".join(f"#{run[0] + 1}–#{run[-1] + 1}" for run in runs)
    others = [MODEL_TITLES[name] for name in reading.predictions if name != JUDGE]
    pieces = f"; the {' and the '.join(others)} read the pieces cut between them" if others else ""
    return (
        f"Digits {places} touch: the {MODEL_TITLES[JUDGE]} read them together, with its string "
        f"reader (⛓ below){pieces}."
    )


def ignored_line(reading: NumberReading) -> str:
    """'Left out, not read as digits: a faint mark between digits #1 and #2; a speck after digit #3.'"""
    centres = [(d.box[0] + d.box[2]) / 2 for d in reading.digits]
    said = []
    for mark in reading.ignored:
        before = sum(centre < (mark.box[0] + mark.box[2]) / 2 for centre in centres)
        if before == 0:
            place = "before digit #1"
        elif before == len(centres):
            place = f"after digit #{before}"
        else:
            place = f"between digits #{before} and #{before + 1}"
        said.append(f"a {mark.kind} {place}")
    return "Left out, not read as digits (grey boxes): " + "; ".join(said) + "."


def boxed(image: np.ndarray, reading: NumberReading) -> np.ndarray:
    """The picture with a numbered box around each digit, and a grey one around ink left out (a copy)."""
    picture = Image.fromarray(_as_rgb(image))
    draw = ImageDraw.Draw(picture)
    for mark in reading.ignored:
        x0, y0, x1, y1 = mark.box
        draw.rectangle((x0 - 1, y0 - 1, x1, y1), outline=IGNORED_COLOUR, width=1)
    for index, digit in enumerate(reading.digits):
        x0, y0, x1, y1 = digit.box
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=BOX_COLOUR, width=2)
        draw.text((x0 + 3, max(0, y0 - 12) if y0 >= 12 else y0 + 2), str(index + 1), fill=BOX_COLOUR)
    return np.asarray(picture)


def _as_rgb(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if np.issubdtype(array.dtype, np.integer) and array.dtype != np.uint8:  # 16-bit scans
        array = (array.astype(np.float32) / np.iinfo(array.dtype).max * 255).astype(np.uint8)
    elif array.dtype != np.uint8:
        array = (np.clip(array.astype(np.float32), 0, 1) * 255).astype(np.uint8)
    if array.ndim == 2:
        return np.dstack([array] * 3)
    if array.shape[2] == 4:  # transparent canvas pixels shown black, like the canvas
        alpha = array[:, :, 3:4].astype(np.float32) / 255
        return (array[:, :, :3] * alpha).astype(np.uint8)
    return array[:, :, :3]
