"""The real app in headless Chromium: draw with the mouse, clear, upload, switch tabs, on desktop and phone."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from PIL import Image

from mnist_app.browser import (
    ARTIFACTS,
    canvas,
    draw_strokes,
    launch,
    log_problems,
    metrics,
    open_tab,
    running_app,
    touch_strokes,
    wait_for_metrics,
)
from tests.drawings import canvas_points, render


def ink_on_canvas(page) -> int:
    """Bright pixels in a screenshot of the canvas."""
    pixels = np.asarray(Image.open(io.BytesIO(canvas(page).screenshot())).convert("L"))
    return int((pixels[2:-2, 2:-2] > 128).sum())  # inside the canvas's 1-px outline


def draw_digit(page, digit: int, size: float = 200, left: float = 40, top: float = 40, slant: float = 0.0) -> None:
    draw_strokes(page, canvas_points(digit, size, left, top, slant))


pytestmark = [pytest.mark.browser, pytest.mark.skipif(not shutil.which("chromium"), reason="needs Debian's chromium")]
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    ARTIFACTS.mkdir(exist_ok=True)
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    with running_app(log) as url:
        yield url, log


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(server, browser):
    url, _ = server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    canvas(page)
    yield page
    context.close()
    assert not errors, errors


def test_draw_clear_and_draw_again(page, server):
    draw_digit(page, 7, size=200, left=40, top=40)
    assert wait_for_metrics(page, {"ANN": "7", "CNN": "7"}) == {"ANN": "7", "CNN": "7"}
    assert page.get_by_text("Both models agree").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "draw-desktop.png"), full_page=True)

    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=30_000)
    assert metrics(page) == {}
    assert ink_on_canvas(page) == 0  # the drawing itself is gone too, not only the answer

    # Small and off-centre, in the lower right corner: still read right.
    draw_digit(page, 3, size=90, left=170, top=170)
    assert wait_for_metrics(page, {"ANN": "3", "CNN": "3"}) == {"ANN": "3", "CNN": "3"}


@pytest.mark.parametrize(
    "digit, size, left, top, slant", [(0, 220, 30, 30, 0.0), (4, 150, 20, 100, 0.2), (6, 120, 120, 20, -0.15)]
)
def test_more_digits_sizes_and_places(page, digit, size, left, top, slant):
    draw_digit(page, digit, size=size, left=left, top=top, slant=slant)
    expected = {"ANN": str(digit), "CNN": str(digit)}
    shown = wait_for_metrics(page, expected)
    if shown != expected:
        page.screenshot(path=str(ARTIFACTS / f"failed-digit-{digit}.png"), full_page=True)
    assert shown == expected


def test_upload_a_photo_of_paper(page):
    open_tab(page, "📷 Upload")
    paper = Image.fromarray(255 - render(2, pen=14)[:, :, 0]).convert("RGB")
    buffer = io.BytesIO()
    paper.save(buffer, format="JPEG", quality=85)
    page.locator('input[type="file"]').set_input_files(
        files=[{"name": "two.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}]
    )
    assert wait_for_metrics(page, {"ANN": "2", "CNN": "2"}) == {"ANN": "2", "CNN": "2"}


def test_upload_a_file_that_is_not_an_image(page):
    open_tab(page, "📷 Upload")
    page.locator('input[type="file"]').set_input_files(
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not really a png"}]
    )
    page.get_by_text("Cannot read notes.png").wait_for(timeout=30_000)
    assert metrics(page) == {}


def test_explore_and_models_tabs_render_charts(page):
    open_tab(page, "📊 Explore the data")
    page.get_by_text("A map of the digits").wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").nth(5).wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "explore-desktop.png"), full_page=True)
    open_tab(page, "🧠 Models")
    page.get_by_text("Which model is best").wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").nth(3).wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "models-desktop.png"), full_page=True)


@pytest.mark.parametrize("width, height", [(390, 844), (320, 640)])
def test_phone_touch_shows_canvas_and_both_answers_without_scrolling(server, browser, width, height):
    url, _ = server
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(url)
    touch_strokes(page, canvas_points(7, size=200, left=40, top=40))
    assert wait_for_metrics(page, {"ANN": "7", "CNN": "7"}) == {"ANN": "7", "CNN": "7"}
    assert page.evaluate("window.scrollY") == 0  # nothing scrolled to get here
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    canvas_box = canvas(page).bounding_box()
    assert canvas_box["x"] >= 0 and canvas_box["x"] + canvas_box["width"] <= width
    answers = [page.locator('[data-testid="stMetric"]').nth(i).bounding_box() for i in range(2)]
    if height >= 844:  # the phone: canvas and both answers on one screen
        for box in answers:
            assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
    assert answers[0]["y"] == answers[1]["y"]  # side by side, not stacked
    assert answers[0]["y"] > canvas_box["y"] + canvas_box["height"]  # right under the canvas
    page.screenshot(path=str(ARTIFACTS / f"draw-phone-{width}.png"))
    context.close()


def test_server_log_is_clean(server, page):
    _, log = server
    assert log_problems(log) == []
