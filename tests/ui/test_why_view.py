"""The "Why the CNN wins" panel, run headless with AppTest: its charts, their sentences, and the naive input."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

TIMEOUT = 120  # the first run in a process loads TensorFlow and the models
FAMILY_TITLES = ["Sideways", "Up and down", "Turned", "Size", "Stroke"]


def why_script(image, digit: int | None = None) -> None:
    """Runs inside AppTest: the panel for one drawing, as the Draw tab shows it once opened."""
    from mnist_app.ui.digit_view import read
    from mnist_app.ui.why_view import show_why

    reading = read(image, "light")
    show_why(reading, image, reading.predictions["cnn"].digit if digit is None else digit)


def panel(image, digit: int | None = None) -> AppTest:
    return AppTest.from_function(why_script, args=(image, digit), default_timeout=TIMEOUT).run()


def open_tab(at: AppTest, title: str) -> AppTest:
    at.session_state["why-tab"] = title  # the visitor picks the tab
    return at.run()


def said(at: AppTest) -> list[str]:
    return [md.value for md in at.markdown]


def test_the_panel_charts_both_networks_for_every_change_with_a_sentence_each():
    from tools.inputs.synthetic_drawings import render

    at = panel(render(7, pen=20))
    assert not at.exception
    assert [tab.label for tab in at.tabs] == [*FAMILY_TITLES, "Stroke's story"]
    sentences = {}
    for title in FAMILY_TITLES:
        open_tab(at, title)
        assert not at.exception
        charts = at.get("plotly_chart")
        assert len(charts) == 1, title  # lazy: only the open tab is read and charted
        assert '"ANN"' in charts[0].proto.spec and '"CNN"' in charts[0].proto.spec
        alternative = [text for text in said(at) if "Line chart of each network's confidence in 7" in text]
        assert len(alternative) == 1, title  # a text alternative per chart, read by screen readers
        [sentences[title]] = [
            text
            for text in said(at)
            if "sr-only" not in text and (text.startswith("Both networks hold alike") or "confidence in 7 " in text)
        ]
        thumbnails = [image for element in at.get("image") for image in element.proto.imgs]
        assert len(thumbnails) == 5, title
    # Moved sideways by up to 8 px, the dense network loses the 7 and the convolutional one keeps it.
    side = sentences["Sideways"]
    assert "the ANN's confidence in 7 falls to" in side and "the CNN's stays at" in side, side
    thumbnails = [image for element in panel(render(7, pen=20)).get("image") for image in element.proto.imgs]
    assert thumbnails[0].caption.startswith("−8 px: ANN")


def test_the_panel_follows_the_users_correction():
    from tools.inputs.synthetic_drawings import render

    at = panel(render(7, pen=20), digit=1)
    assert not at.exception
    words = " ".join(md.value for md in at.markdown)
    assert "Line chart of each network's confidence in 1" in words and " 7" not in words, words


def test_skip_the_centring_reads_the_raw_canvas_and_the_charts_start_from_it():
    """A small 3 in a corner: scaled whole, without the crop and the centring, it is a speck off-centre."""
    import numpy as np
    from PIL import Image

    from tools.inputs.synthetic_drawings import render

    small = np.asarray(Image.fromarray(render(3, pen=20)).resize((90, 90), Image.BILINEAR))
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[10:100, 180:270] = small
    at = panel(canvas)
    assert not at.exception
    at.toggle(key="why-uncentred").set_value(True).run()
    assert not at.exception
    said = " ".join(md.value for md in at.markdown)
    assert "Without the crop and the centring, the ANN reads" in said and "the CNN reads" in said, said
    captions = [image.caption for element in at.get("image") for image in element.proto.imgs]
    assert "not centred" in captions
    assert len(at.get("plotly_chart")) == 1


def story_payload(frames: list[tuple[int, int, int, int]]) -> dict:
    """A story as the canvas sends it: (ms, stroke, ANN's likeliest digit, CNN's likeliest) per frame."""

    def sure_of(digit: int) -> list[float]:
        return [0.91 if d == digit else 0.01 for d in range(10)]

    return {
        "frames": [
            {"t": t, "stroke": stroke, "p": {"ann": sure_of(ann), "cnn": sure_of(cnn)}}
            for t, stroke, ann, cnn in frames
        ]
    }


def story_script(image, payload, live: bool = True) -> None:
    """Runs inside AppTest: the panel with what the canvas sent of the stroke's story."""
    from mnist_app.ui.digit_view import read
    from mnist_app.ui.why_view import show_why

    show_why(read(image, "light"), image, 7, payload, live)


def story_panel(payload, live: bool = True) -> AppTest:
    from tools.inputs.synthetic_drawings import render

    at = AppTest.from_function(story_script, args=(render(7, pen=20), payload, live), default_timeout=TIMEOUT)
    at.session_state["why-tab"] = "Stroke's story"
    return at.run()


def test_the_stroke_story_says_when_each_network_made_up_its_mind():
    # The CNN reads 7 from 0.3 s on; the ANN wavers, and settles only at 0.9 s, in the second stroke.
    at = story_panel(story_payload([(0, 1, 1, 1), (300, 1, 1, 7), (600, 1, 7, 7), (750, 2, 1, 7), (900, 2, 7, 7)]))
    assert not at.exception
    said = " ".join(md.value for md in at.markdown)
    assert (
        "Over 0.9 s of drawing in 2 strokes, the ANN settled on 7 after 0.9 s; the CNN settled on 7 after 0.3 s."
        in said
    ), said
    assert "each of the 5 live readings" in said  # the chart's text alternative
    assert len(at.get("plotly_chart")) == 1


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {},
        {"frames": []},
        {"frames": "lots"},
        {"frames": [{"t": 0, "stroke": 1, "p": {"ann": [0.1] * 10}}]},  # no CNN
        {"frames": [{"t": 0, "stroke": 1, "p": {"ann": [2.0] * 10, "cnn": [0.1] * 10}}]},  # not probabilities
        {"frames": [{"t": "soon", "stroke": 1, "p": {"ann": [0.1] * 10, "cnn": [0.1] * 10}}]},
        {"frames": [{"t": 0, "stroke": 1, "p": {"ann": [0.1] * 9, "cnn": [0.1] * 9}}]},
    ],
)
def test_no_story_or_a_malformed_one_asks_for_a_drawing_with_the_panel_open(payload):
    at = story_panel(payload)
    assert not at.exception
    assert any("Draw a digit while this panel is open" in info.value for info in at.info)
    assert not at.get("plotly_chart")


def test_without_live_reading_the_story_says_so_and_shows_nothing_else():
    at = story_panel(story_payload([(0, 1, 7, 7)]), live=False)
    assert not at.exception
    assert any("Live reading is off here" in info.value for info in at.info)
    assert not at.get("plotly_chart")
