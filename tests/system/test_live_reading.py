"""Live reading in the browser: the exported weights, their parity with the reference, and the strip in a real page."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from mnist_app.config import LIVE_WEIGHTS_DIR, MODELS_DIR
from mnist_app.reading.preprocess import preprocess
from mnist_app.serving.model_files import load_model
from mnist_app.serving.networks import ensemble_members
from mnist_app.training import browser_weights
from mnist_app.training.browser_weights import export, read_networks
from mnist_app.training.web_networks import ExportError, forward, model_networks
from mnist_app.ui.live_reading import manifest_version
from mnist_app.ui.why_view import STORY_TITLE
from mnist_app.ui.why_view import TITLE as WHY_TITLE
from tools.drivers.browser import (
    ARTIFACTS,
    app_with_own_room,
    canvas,
    desktop_page,
    draw_strokes,
    headless_chromium,
    open_number_mode,
    painted,
    press,
    touch_strokes,
    wait_for_metrics,
)
from tools.drivers.live_reading import (
    browser_preprocess,
    browser_probabilities,
    import_module,
    live_digits,
    strip,
    strip_input,
)
from tools.inputs.synthetic_drawings import canvas_points, pen_drawing_set

PARITY = 1e-4  # the bound on probabilities, browser against NumPy
# Mean absolute difference per pixel between the browser's 28x28 input and the server's: the same
# pixels give at most this (measured: 214 of 270 identical, the largest 0.00018, float rounding);
# a real stroke adds the canvas's own re-rendering for the server's PNG.
SAME_PIXELS_MAE = 0.001
CANVAS_MAE = 0.02


def manifest() -> dict:
    return json.loads((LIVE_WEIGHTS_DIR / "manifest.json").read_text())


# --- the exported weights -----------------------------------------------------------------------


def test_the_committed_weights_are_the_shipped_models_within_3_mb_and_0_1_point():
    assert manifest_version(LIVE_WEIGHTS_DIR, MODELS_DIR) is not None
    models = manifest()["models"]
    assert set(models) == {"ann", "cnn"}
    assert sum((LIVE_WEIGHTS_DIR / m["file"]).stat().st_size for m in models.values()) <= 3_000_000
    for entry in models.values():
        accuracy = entry["test_accuracy"]
        assert accuracy["shipped"] - accuracy["exported"] <= browser_weights.MAX_ACCURACY_LOSS
        assert accuracy["exported"] >= 0.99


def test_the_export_rebuilds_the_committed_files_and_refuses_a_loss(tmp_path, test_set, monkeypatch):
    x, y = test_set[0][:300], test_set[1][:300]
    written = export(MODELS_DIR, tmp_path / "live", x, y)
    for name, entry in manifest()["models"].items():
        assert written["models"][name]["file"] == entry["file"]  # same weights, byte for byte (named by hash)
        assert (tmp_path / "live" / entry["file"]).read_bytes() == (LIVE_WEIGHTS_DIR / entry["file"]).read_bytes()
    monkeypatch.setattr(browser_weights, "MAX_ACCURACY_LOSS", -1.0)  # any export now "loses too much"
    with pytest.raises(ExportError, match="lost"):
        export(MODELS_DIR, tmp_path / "refused", x, y)
    assert not (tmp_path / "refused").exists()


def test_folded_batch_norm_gives_the_keras_networks_outputs(test_set):
    images = test_set[0][:64]
    model = load_model(MODELS_DIR / "cnn.keras")
    for network, layers in zip(ensemble_members(model), model_networks(model), strict=True):
        keras_out = network.predict(images[..., None].astype(np.float32) / 255, verbose=0)
        assert np.abs(forward([layers], images) - keras_out).max() < 1e-5


def test_weights_of_other_models_or_missing_files_turn_live_reading_off(tmp_path):
    live = tmp_path / "live"
    shutil.copytree(LIVE_WEIGHTS_DIR, live)
    assert manifest_version(live, MODELS_DIR) is not None
    assert manifest_version(live, tmp_path) is None  # no such models here
    other = manifest()
    other["models"]["cnn"]["model_sha256"] = "0" * 64  # exported from another CNN
    (live / "manifest.json").write_text(json.dumps(other))
    assert manifest_version(live, MODELS_DIR) is None
    shutil.copy(LIVE_WEIGHTS_DIR / "manifest.json", live / "manifest.json")
    (live / other["models"]["ann"]["file"]).unlink()
    assert manifest_version(live, MODELS_DIR) is None
    (live / "manifest.json").write_text("{not json")
    assert manifest_version(live, MODELS_DIR) is None


# --- in the browser -----------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(not shutil.which("chromium"), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with app_with_own_room(tmp_path_factory.mktemp("server")) as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser():
    pytest.importorskip("playwright.sync_api")
    with headless_chromium() as browser:
        yield browser


@pytest.fixture
def page(server, browser):
    with desktop_page(browser, server) as page:
        strip(page).wait_for(timeout=30_000)  # the weights are in: the strip appears
        yield page


@pytest.mark.browser
@needs_chromium
def test_browser_probabilities_equal_the_numpy_reference_on_200_test_digits(page, test_set):
    images = test_set[0][:200].astype(np.float32) / 255
    import_module(page)
    answers = browser_probabilities(page, images)
    for name in ("ann", "cnn"):
        networks, temperature = read_networks(LIVE_WEIGHTS_DIR, name)
        reference = forward(networks, images, temperature)
        assert np.abs(answers[name] - reference).max() <= PARITY, name


@pytest.mark.browser
@needs_chromium
def test_browser_preprocessing_equals_the_servers_on_pen_drawings(page):
    import_module(page)
    drawings = list(pen_drawing_set())[::3]  # all ten digits, pens 4-40, sizes 60-260, three slants
    errors = [np.abs(browser_preprocess(page, image) - preprocess(image, "light")).mean() for *_, image in drawings]
    assert max(errors) <= SAME_PIXELS_MAE, max(errors)
    assert browser_preprocess(page, np.zeros((280, 280, 4), np.uint8) + [0, 0, 0, 255]) is None  # no ink


def lower_canvas_image(page) -> np.ndarray:
    """The finished strokes as the canvas holds them (what it sends to the server, as RGBA)."""
    url = page.locator("canvas.dc-canvas").first.evaluate("(c) => c.toDataURL('image/png')")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA"))


@pytest.mark.browser
@needs_chromium
def test_the_strip_reads_while_the_pen_moves_and_a_1_becomes_a_7(page):
    box = canvas(page).bounding_box()
    page.mouse.move(box["x"] + 140, box["y"] + 140)
    page.wait_for_timeout(350)  # the hidden toolbar slides away
    up = [(170 + 0.1 * k, 250 - 10 * k) for k in range(21)]  # from the bottom up: a 1
    bar = [(190 - 10 * k, 50) for k in range(1, 13)]  # then left along the top: a 7
    page.mouse.move(box["x"] + up[0][0], box["y"] + up[0][1])
    page.mouse.down()
    seen = []
    component = page.locator(".dc-root").first  # the canvas and its strip (docs/live-reading.md's frames)
    for index, (x, y) in enumerate(up + bar):
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.wait_for_timeout(40)  # a slow hand: several frames per point
        seen.append((strip(page).get_attribute("data-state"), live_digits(page)["CNN"]))
        if index in (8, len(up) - 1, len(up) + 5, len(up + bar) - 1):
            component.screenshot(path=str(ARTIFACTS / f"live-stroke-{index:02d}.png"))
    assert seen[len(up) - 1] == ("drawing", "1"), seen  # the pen is still down
    assert seen[-1] == ("drawing", "7"), seen
    page.mouse.up()
    server = wait_for_metrics(page, {"ANN": "7", "CNN": "7"})
    assert server == {"ANN": "7", "CNN": "7"}
    page.locator('.live-strip[data-state="up"]').wait_for(timeout=5_000)  # the final reading, pen up
    assert live_digits(page) == server  # the live answer at pen-up is the server's
    assert int(strip(page).get_attribute("data-updates")) >= len(up + bar) // 2
    live_input, server_input = strip_input(page), preprocess(lower_canvas_image(page), "light")
    error = float(np.abs(live_input - server_input).mean())
    print(f"live 28x28 input against the server's: mean absolute difference {error:.6f}")
    assert error <= CANVAS_MAE


@pytest.mark.browser
@needs_chromium
def test_a_finger_on_a_phone_reads_live_too(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(server)
    strip(page).wait_for(timeout=30_000)
    touch_strokes(page, canvas_points(4, size=200, left=40, top=40))
    server_digits = wait_for_metrics(page, {"ANN": "4", "CNN": "4"})
    assert server_digits == {"ANN": "4", "CNN": "4"}
    assert live_digits(page) == server_digits
    page.screenshot(path=str(ARTIFACTS / "live-phone.png"))
    page.get_by_text(WHY_TITLE, exact=True).tap()  # the lesson on a phone: the panel opens under the answers
    chart = page.locator('[data-testid="stExpander"]').filter(has_text=WHY_TITLE).locator(".js-plotly-plot")
    chart.wait_for(timeout=30_000)
    assert chart.bounding_box()["width"] <= 390
    context.close()


@pytest.mark.browser
@needs_chromium
def test_without_the_weights_the_app_reads_as_before_and_says_nothing_alarming(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route("**/app/static/live/**", lambda route: route.abort())  # the weights never arrive
    page.goto(server)
    draw_strokes(page, canvas_points(7))
    assert wait_for_metrics(page, {"ANN": "7", "CNN": "7"}) == {"ANN": "7", "CNN": "7"}
    assert strip(page).count() == 0
    assert page.get_by_text("Live reading").count() == 0 and page.get_by_text("error", exact=False).count() == 0
    open_number_mode(page)  # number mode reads on the server only
    assert strip(page).count() == 0
    assert not errors, errors
    context.close()


@pytest.mark.browser
@needs_chromium
def test_number_mode_has_no_live_strip(page):
    open_number_mode(page)
    draw_strokes(page, canvas_points(3, size=150, left=60, top=45))
    assert wait_for_metrics(page, {"ANN": "3", "CNN": "3"}) == {"ANN": "3", "CNN": "3"}
    assert strip(page).count() == 0


def slow_stroke_1_then_7(page) -> None:
    """One slow stroke: up from the bottom (a 1), then left along the top (a 7), several frames a point."""
    box = canvas(page).bounding_box()
    page.mouse.move(box["x"] + 140, box["y"] + 140)
    page.wait_for_timeout(350)  # a person's pace: the hand rests on the canvas, the hidden toolbar slides away
    points = [(170 + 0.1 * k, 250 - 10 * k) for k in range(21)] + [(190 - 10 * k, 50) for k in range(1, 13)]
    press(page, points[0], box)
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.wait_for_timeout(40)  # a slow hand: the story is read frame by frame
    page.mouse.up()


@pytest.mark.browser
@needs_chromium
def test_the_why_panel_shows_the_stroke_story_of_a_slow_stroke_drawn_with_it_open(page):
    draw_strokes(page, canvas_points(7))  # drawn while the panel is closed: no story
    assert wait_for_metrics(page, {"ANN": "7", "CNN": "7"}) == {"ANN": "7", "CNN": "7"}
    page.get_by_text(WHY_TITLE, exact=True).click()
    story_tab = page.get_by_role("tab", name=STORY_TITLE)
    story_tab.click()
    page.get_by_text("Draw a digit while this panel is open").wait_for(timeout=30_000)  # drawn while it was closed
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=30_000)
    slow_stroke_1_then_7(page)  # the panel stays open for the next drawing, which comes with its story
    assert wait_for_metrics(page, {"ANN": "7", "CNN": "7"}) == {"ANN": "7", "CNN": "7"}
    page.get_by_role("tab", name=STORY_TITLE).click()
    sentence = page.get_by_text("s of drawing,")
    sentence.wait_for(timeout=30_000)
    said = sentence.inner_text()
    assert "the CNN" in said and "the ANN" in said and ("settled on 7" in said or "read 7 from" in said), said
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has=page.locator("svg")).last
    chart.wait_for(timeout=30_000)
    assert chart.locator(".scatterlayer .trace").count() == 2  # the ANN's line and the CNN's
    panel = page.locator('[data-testid="stExpander"]').filter(has_text=WHY_TITLE)
    panel.screenshot(path=str(ARTIFACTS / "why-story.png"))
    page.get_by_role("tab", name="Sideways").click()  # the same drawing, moved: the docs' picture of the lesson
    page.get_by_text(re.compile(r"confidence in 7 (falls|stays|rises) to|Both networks hold alike")).wait_for(
        timeout=30_000
    )
    painted(page)
    panel.screenshot(path=str(ARTIFACTS / "why-sideways.png"))
