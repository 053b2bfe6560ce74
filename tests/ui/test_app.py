"""The app's script, run headless with Streamlit's AppTest: every tab, every state."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mnist_app.config import MODELS_DIR, ROOT

TIMEOUT = 120  # the first run loads TensorFlow and the models


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def test_opens_on_the_draw_tab_with_an_empty_canvas():
    at = app().run()
    assert not at.exception
    assert [tab.label for tab in at.tabs][0] == "✏️ Draw"
    assert any("Draw a digit" in info.value for info in at.info)
    assert not at.metric  # no answer before a drawing


def reading_script(image, polarity: str, models_dir: str | None = None) -> None:
    """Runs inside AppTest: the result panel for a given input, as the Draw tab shows it."""
    from pathlib import Path

    from mnist_app import config
    from mnist_app.ui.digit_view import show_reading

    original = config.MODELS_DIR
    config.MODELS_DIR = Path(models_dir) if models_dir else original
    try:
        show_reading(image, polarity, "Draw a digit", key="test")
    finally:
        config.MODELS_DIR = original


def reading(image, polarity="light", models_dir=None) -> AppTest:
    return AppTest.from_function(reading_script, args=(image, polarity, models_dir), default_timeout=TIMEOUT).run()


def test_a_drawn_seven_is_read_by_both_models():
    from tools.inputs.synthetic_drawings import render

    at = reading(render(7, pen=20))
    assert not at.exception
    assert metrics(at) == {"ANN": "7", "CNN": "7"}
    assert any("agree" in md.value and "7" in md.value for md in at.markdown)
    bars = [element.proto.body for element in at.get("html") if "probability-bars" in element.proto.body]
    assert len(bars) == 2  # one bar chart per model, the winner highlighted
    assert all('title="digit 7:' in chart for chart in bars)
    assert all('aria-label="Probability of each digit, likeliest first: 7: ' in chart for chart in bars)
    assert len(at.get("image")) >= 2  # the 28x28 input with the saliency map, and the preprocessing steps
    assert any(expander.label == "All models" for expander in at.expander)


def test_all_models_loads_the_other_three_when_opened_and_shows_five_readings():
    """A server loads the ANN and the CNN as it starts; the other models when "All models" is opened."""
    from tools.inputs.synthetic_drawings import render

    at = reading(render(7, pen=20))
    assert not at.dataframe, "closed: the other models neither load nor run"
    at.session_state["test-all-models"] = True  # the visitor opens it
    at.run()
    assert not at.exception and not at.warning
    table = at.dataframe[0].value
    assert len(table) == 5, table  # all five models read the drawing


def test_empty_canvas_shows_the_prompt():
    at = reading(np.zeros((280, 280, 4), np.uint8))
    assert not at.exception and not at.metric
    assert at.info[0].value == "Draw a digit"


def test_scribble_is_not_a_confident_digit():
    rng = np.random.default_rng(0)
    scribble = (rng.random((280, 280)) > 0.5).astype(np.uint8) * 255
    at = reading(scribble)
    assert not at.exception
    values = metrics(at)
    # The models say they are not sure, or they disagree, or the page says it is no digit.
    assert "not sure" in values.values() or any(
        "disagree" in md.value or "does not look" in md.value for md in at.markdown
    )


@pytest.mark.parametrize("thing", ["smiley", "letter A", "letter W", "hash", "box"])
def test_things_that_are_not_digits_are_flagged(thing):
    from tools.inputs.synthetic_drawings import NOT_DIGITS, render_strokes

    at = reading(render_strokes(NOT_DIGITS[thing], pen=16))
    assert not at.exception
    assert any("does not look much like" in md.value or "looks more like the letter" in md.value for md in at.markdown)
    assert not any("Both models agree" in md.value for md in at.markdown)


@pytest.mark.parametrize("letter", ["B", "E", "R", "S"])
def test_letters_that_look_like_digits_are_named(letter):
    """B reads as 8 and S as 5 to a digit model; the page says which letter it looks like instead."""
    from tools.inputs.synthetic_drawings import LETTERS, render_strokes

    at = reading(render_strokes(LETTERS[letter], pen=16))
    assert not at.exception
    assert any(f"the letter **{letter}**" in md.value for md in at.markdown)


def test_missing_models_say_how_to_train(tmp_path):
    from tools.inputs.synthetic_drawings import render

    at = reading(render(3), models_dir=str(tmp_path))
    assert not at.exception
    assert any("make train" in error.value for error in at.error)
    assert any("make train" in warning.value for warning in at.warning)


@pytest.mark.parametrize("tab", ["data_tab", "models_tab", "upload_tab"])
def test_other_tabs_render(tab):
    def script(module: str) -> None:
        import importlib

        importlib.import_module(f"mnist_app.ui.{module}").render()

    at = AppTest.from_function(script, args=(tab,), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert not at.error
    if tab != "upload_tab":
        assert len(at.get("plotly_chart")) >= 3


def test_data_tab_shuffle_changes_the_samples():
    def script() -> None:
        from mnist_app.ui import data_tab

        data_tab.render()

    at = AppTest.from_function(script, default_timeout=TIMEOUT).run()
    before = at.session_state["sample_seed"]
    at.button(key="shuffle").click().run()
    assert not at.exception and at.session_state["sample_seed"] == before + 1


def test_data_tab_without_data_explains_the_fix(monkeypatch):
    def script() -> None:
        from mnist_app.dataset.mnist import MnistUnavailableError
        from mnist_app.ui import data_tab, resources

        def unavailable():
            raise MnistUnavailableError("MNIST is not available. Tried: nothing. Fix: run `make data`")

        # The app runs in this test process: put the real functions back, or later tests see no data.
        real = resources.mnist, resources.load_mnist
        resources.mnist, resources.load_mnist = (lambda: None), unavailable
        try:
            data_tab.render()
        finally:
            resources.mnist, resources.load_mnist = real

    at = AppTest.from_function(script, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "make data" in at.error[0].value


def test_models_tab_switches_model():
    def script() -> None:
        from mnist_app.ui import models_tab

        models_tab.render()

    at = AppTest.from_function(script, default_timeout=TIMEOUT).run()
    assert not at.exception
    at.selectbox(key="models-choice").select("cnn").run()
    assert not at.exception
    assert at.dataframe[0].value.shape[0] == 5  # all five models in the comparison table
    fine_tuned = "fine_tuned" in json.loads((MODELS_DIR / "cnn.json").read_text())
    assert any("Fine-tuned: after the model trained on" in c.value for c in at.caption) == fine_tuned
    experts = json.loads((MODELS_DIR / "cnn.json").read_text())["soft_experts"]["soft_validation"]
    said = " ".join(md.value for md in at.markdown)
    assert "2 soft-ink experts." in said and f"**{experts['experts']:.2%}**" in said
    at.selectbox(key="models-choice").select("forest").run()  # no epochs: its accuracy-against-size curve
    assert not at.exception
    titles = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert any("accuracy against size" in spec for spec in titles)


def test_models_tab_shows_the_search(tmp_path, monkeypatch):
    import json
    import shutil

    from mnist_app import config

    for path in config.MODELS_DIR.glob("*.json"):
        shutil.copy(path, tmp_path)
    trial = {
        "trial": "0001",
        "hyperparameters": {"units": [256], "dropout": 0.1, "learning_rate": 1e-3, "batch_size": 128},
        "val_accuracy": 0.97,
        "parameters": 203530,
        "epochs": 3,
        "seconds": 4.0,
    }
    head = {"val_accuracy": 0.975, "parameters": 203530, "epochs": 9, "seconds": 9.0}
    report = {
        "method": "KerasTuner Hyperband",
        "train_subset": 15000,
        "validation_images": 5000,
        "search_seconds": 60,
        "trials": [trial],
        "best": trial,
        "head_to_head": {"best": head, "shipped": head},
        "verdict": "it holds",
    }
    (tmp_path / "tuning.json").write_text(json.dumps(report))

    def script(models_dir: str) -> None:
        from pathlib import Path

        from mnist_app import config
        from mnist_app.ui import models_tab

        original, config.MODELS_DIR = config.MODELS_DIR, Path(models_dir)
        try:
            models_tab.render()
        finally:
            config.MODELS_DIR = original

    at = AppTest.from_function(script, args=(str(tmp_path),), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any("1 trials" in md.value and "it holds" in md.value for md in at.markdown)


@pytest.mark.parametrize(
    "name, image",
    [
        ("dot", np.pad(np.full((12, 12), 255, np.uint8), ((60, 208), (200, 68)))),
        ("line along the left edge", np.pad(np.full((280, 10), 255, np.uint8), ((0, 0), (0, 270)))),
        ("whole canvas covered", np.full((280, 280), 255, np.uint8)),
    ],
)
def test_odd_drawings_never_crash(name, image):
    at = reading(image)
    assert not at.exception, name
    assert not at.error, name


def number_script(image) -> None:
    from mnist_app.ui.number_view import show_number_reading

    show_number_reading(image, "light", "Write a number")


def number_reading(image) -> AppTest:
    return AppTest.from_function(number_script, args=(image,), default_timeout=TIMEOUT).run()


def test_number_panel_reads_a_drawn_number():
    from tools.inputs.number_images import drawn_number

    at = number_reading(drawn_number("2026", np.random.default_rng(2), pen=8))
    assert not at.exception
    assert metrics(at) == {"ANN": "2026", "CNN": "2026"}
    assert any("same number" in md.value for md in at.markdown)
    assert len(at.get("image")) >= 5  # the boxed drawing and one crop per digit


def test_number_panel_reads_touching_digits_together_and_says_so():
    from tools.inputs.number_images import touching_drawing

    at = number_reading(touching_drawing("9876", advance=0.35))  # one connected run of strokes
    assert not at.exception
    assert metrics(at)["CNN"] == "9876"
    captions = " ".join(c.value for c in at.caption)
    assert "touch: the CNN read them together" in captions and "the ANN read the pieces" in captions


@pytest.mark.parametrize(
    "name, image",
    [
        ("empty canvas", np.zeros((240, 720, 4), np.uint8)),
        ("a single dot", np.pad(np.full((10, 10), 255, np.uint8), ((100, 130), (300, 410)))),
        ("one digit", None),
        ("a scribble across everything", (np.random.default_rng(0).random((240, 720)) > 0.5).astype(np.uint8) * 255),
    ],
)
def test_number_panel_bad_input_gets_a_message(name, image):
    from tools.inputs.synthetic_drawings import render

    if image is None:
        image = render(3, pen=20)
    at = number_reading(image)
    assert not at.exception, name
    shown = metrics(at)
    messages = [e.value for e in (*at.info, *at.warning)]
    if name == "empty canvas":
        assert messages == ["Write a number"] and not shown
    elif name == "one digit":
        assert shown == {"ANN": "3", "CNN": "3"}
    else:  # a clear message, or a reading that says it doubts the digit or that it is no digit
        said = " ".join([*messages, *(md.value for md in at.markdown)])
        assert "not sure" in said or "does not look" in said or "different numbers" in said, said


def inside_script(image) -> None:
    from mnist_app.ui.inside_view import show_inside

    show_inside(image)


def test_inside_the_networks_panel():
    from mnist_app.reading.preprocess import preprocess
    from tools.inputs.synthetic_drawings import render

    image = preprocess(render(4, pen=20), "light")
    # The first run builds the neighbour index into data/ (the app's own cache), later runs read it.
    at = AppTest.from_function(inside_script, args=(image,), default_timeout=300).run()
    assert not at.exception
    captions = " ".join(img.caption for element in at.get("image") for img in element.proto.imgs)
    assert "feature" in captions and "hidden" in captions
    said = " ".join(md.value for md in at.markdown)
    assert "closest training digits" in said and "are 4s" in said and "soft-ink experts" not in said


def test_inside_the_networks_says_when_the_soft_ink_experts_answered(test_set):
    from mnist_app.reading.preprocess import preprocess
    from tools.inputs import degrade

    image = preprocess(degrade.blurred(test_set[0][0], np.random.default_rng(0), 2.5))
    at = AppTest.from_function(inside_script, args=(image,), default_timeout=300).run()
    assert not at.exception
    assert "answer above came from its 2 soft-ink experts" in " ".join(md.value for md in at.markdown)


def test_explore_map_marks_the_last_drawing():
    def script() -> None:
        import streamlit as st

        from mnist_app.reading.preprocess import preprocess
        from mnist_app.ui import data_tab, navigation
        from tools.inputs.synthetic_drawings import render

        st.session_state[navigation.LAST_DRAWING] = preprocess(render(0, pen=20), "light")
        data_tab.render()

    at = AppTest.from_function(script, default_timeout=TIMEOUT).run()
    assert not at.exception
    specs = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert any("your drawing" in spec for spec in specs)
    assert any("your last drawing" in caption.value for caption in at.caption)


def share_script(image) -> None:
    """Runs inside AppTest: a drawing's answers with the share controls, as the Draw tab shows them."""
    from mnist_app.ui.digit_view import read
    from mnist_app.ui.share_view import show_share

    reading = read(image, "light")
    show_share(reading, image)


def test_share_a_drawing_then_correct_it(tmp_path, monkeypatch):
    from mnist_app.drawings import Store
    from tools.inputs.synthetic_drawings import render

    db = f"sqlite:///{tmp_path / 'room.db'}"
    monkeypatch.setenv("MNIST_APP_DB", db)
    image = render(7, pen=20)
    at = AppTest.from_function(share_script, args=(image,), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any("no name, no IP address" in caption.value for caption in at.caption)
    assert Store(db).count() == 0, "nothing is stored before the button is pressed"
    share = at.button(key="share")
    assert share.label.startswith("Share")
    share.click().run()
    assert not at.exception and not at.error
    stored = Store(db).latest()
    assert len(stored) == 1 and stored[0].label == 7 and stored[0].label_source == "models"
    assert set(stored[0].answers) == {"ann", "cnn"} and stored[0].answers["cnn"].digit == 7
    assert at.button(key="share").disabled, "shared once: the button says so and cannot store it twice"
    at.button_group(key="correction").set_value(1).run()  # "no, that was a 1"
    assert not at.exception
    stored = Store(db).latest()
    assert len(stored) == 1 and stored[0].label == 1 and stored[0].label_source == "user"


def test_share_with_a_broken_database_keeps_the_drawing_and_says_why(tmp_path, monkeypatch):
    from tools.inputs.synthetic_drawings import render

    (tmp_path / "file").write_text("a file where the database's folder should be")
    monkeypatch.setenv("MNIST_APP_DB", f"sqlite:///{tmp_path / 'file' / 'room.db'}")
    at = AppTest.from_function(share_script, args=(render(3, pen=20),), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.button(key="share").disabled
    assert any("Sharing is off" in caption.value for caption in at.caption)
    monkeypatch.setenv("MNIST_APP_DB", "postgresql+psycopg://mnist@127.0.0.1:9/mnist")  # nothing listens there
    at = AppTest.from_function(share_script, args=(render(3, pen=20),), default_timeout=TIMEOUT).run()
    at.button(key="share").click().run()
    assert not at.exception
    assert any("Not saved" in error.value and "try again" in error.value for error in at.error)
    assert not at.button(key="share").disabled, "the drawing can be shared again once the database is back"


def room_script() -> None:
    from mnist_app.ui import room_tab

    room_tab.render()


def test_room_tab_shows_counts_accuracy_and_misses_first(tmp_path, monkeypatch):
    from mnist_app.drawings import Answer, Store, new_drawing
    from mnist_app.ui import resources
    from tools.inputs.synthetic_drawings import render

    db = f"sqlite:///{tmp_path / 'room.db'}"
    monkeypatch.setenv("MNIST_APP_DB", db)
    at = AppTest.from_function(room_script, default_timeout=TIMEOUT).run()
    assert not at.exception and any("Nobody has shared" in info.value for info in at.info)
    store = Store(db)
    for digit, cnn, ann, correction in [(7, 7, 7, None), (9, 9, 4, 9), (5, 5, 5, None)]:
        answers = {"ann": Answer(ann, 0.9), "cnn": Answer(cnn, 0.95)}
        store.share(new_drawing(np.zeros((28, 28), np.uint8), render(digit, pen=20), answers, "s", correction))
    resources.room_changed()  # shared by another server: this one's counts catch up within one refresh
    at.run()
    assert not at.exception
    shown = metrics(at)
    assert shown["Drawings"] == "3" and shown["Labelled"] == "3"
    assert shown["CNN right"] == "3 of 3" and shown["ANN right"] == "2 of 3"
    captions = [image.proto.imgs[0].caption for image in at.get("image")]
    assert captions[0] == "It was 9 · ANN 4✗ CNN 9", "the miss comes first"
    assert len(captions) == 3
    assert at.get("plotly_chart"), "a confusion matrix"
    assert not [button for button in at.button if button.key and button.key.startswith("delete")], "no key: no delete"


PRESENTER_KEY = "k3y-for-the-room-test"


def unlock(at: AppTest, key: str) -> AppTest:
    at.text_input(key="presenter_key_input").input(key)
    return next(button for button in at.button if button.label == "Unlock").click().run()


def test_only_the_presenter_key_deletes_and_shows_held_back_drawings(tmp_path, monkeypatch):
    from mnist_app.drawings import Answer, Store, new_drawing
    from tools.inputs.synthetic_drawings import render

    db = f"sqlite:///{tmp_path / 'room.db'}"
    monkeypatch.setenv("MNIST_APP_DB", db)
    monkeypatch.setenv("MNIST_APP_PRESENTER_KEY", PRESENTER_KEY)
    store = Store(db)
    answers = {"ann": Answer(7, 0.9), "cnn": Answer(7, 0.95)}
    for _ in range(2):
        store.share(new_drawing(np.zeros((28, 28), np.uint8), render(7, pen=20), answers, "s"))
    scribble = new_drawing(np.zeros((28, 28), np.uint8), render(7, pen=20), answers, "s", held_back=True)
    store.share(scribble)
    at = AppTest.from_function(room_script, default_timeout=TIMEOUT).run()
    assert not at.exception and metrics(at)["Drawings"] == "2", "the held-back drawing is not in the room's counts"
    assert len(at.get("image")) == 2 and any("1 held back" in caption.value for caption in at.caption)

    for attempt in range(3):  # wrong keys: a clear message, then a growing wait
        unlock(at, f"guess-{attempt}")
        assert not at.exception
    messages = [error.value for error in at.error]
    assert any("That is not the presenter key" in m and "Try again in 2 s" in m for m in messages), messages
    unlock(at, PRESENTER_KEY)  # even the right key waits its turn
    assert any("Too many wrong keys" in error.value for error in at.error)
    assert not [button for button in at.button if button.key and button.key.startswith("delete")]
    at.session_state["presenter_attempts"].not_before = 0.0  # the wait is over
    unlock(at, PRESENTER_KEY)
    assert not at.exception and at.button(key=f"reveal-{scribble.uid}")
    assert not at.text_input, "unlocked: no key field left on the page"

    at.button(key=f"reveal-{scribble.uid}").click().run()  # the presenter shows the held-back drawing
    assert not at.exception and metrics(at)["Drawings"] == "3" and len(at.get("image")) == 3
    victim = store.latest()[0].uid
    at.session_state["presenter_key_given"] = "forged"  # a tab without the key, its old buttons still on screen
    at.button(key=f"delete-{victim}").click().run()
    assert store.count() == 3 and any("Only the presenter" in error.value for error in at.error)
    at.session_state["presenter_key_given"] = PRESENTER_KEY
    at.run()
    at.button(key=f"delete-{victim}").click().run()
    assert not at.exception and store.count() == 2
    at.button(key="delete_all").click().run()
    assert not at.exception and store.count() == 0


def test_a_made_up_presenter_key_is_printed_once_in_the_log(monkeypatch, capsys):
    monkeypatch.delenv("MNIST_APP_PRESENTER_KEY", raising=False)

    def script() -> None:
        import streamlit as st

        from mnist_app.ui import resources

        resources._presenter_key.clear()  # as a server that has just started
        st.session_state.keys_seen = [resources.presenter_key(), resources.presenter_key()]

    at = AppTest.from_function(script, default_timeout=TIMEOUT).run()
    key, again = at.session_state["keys_seen"]
    assert key == again and len(key) == 16
    logged = capsys.readouterr().err
    assert logged.count(key) == 1 and "set MNIST_APP_PRESENTER_KEY" in logged


def test_the_thirteenth_share_in_a_minute_is_refused_and_nothing_is_lost(tmp_path, monkeypatch):
    import time
    from collections import deque

    from mnist_app.drawings import Store
    from mnist_app.drawings.limits import ShareRate
    from tools.inputs.synthetic_drawings import render

    db = f"sqlite:///{tmp_path / 'room.db'}"
    monkeypatch.setenv("MNIST_APP_DB", db)
    at = AppTest.from_function(share_script, args=(render(7, pen=20),), default_timeout=TIMEOUT).run()
    at.session_state["share_rate"] = ShareRate(12, deque([time.monotonic()] * 12))  # twelve shares just now
    at.button(key="share").click().run()
    assert not at.exception and Store(db).count() == 0
    assert any("shared 12 drawings in the last minute" in warning.value for warning in at.warning)
    assert not at.button(key="share").disabled, "the drawing can still be shared later"
    at.session_state["share_rate"] = ShareRate(12)
    at.button(key="share").click().run()
    assert Store(db).count() == 1
