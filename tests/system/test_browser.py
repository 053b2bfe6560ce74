"""The real app in headless Chromium: draw with the mouse, clear, upload, switch tabs, on desktop and phone."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import shutil
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnist_app.config import READY_PATH
from tools.drivers.browser import (
    ARTIFACTS,
    PRESENTER_KEY,
    WATCH_ANSWER,
    SocketValve,
    app_with_own_room,
    canvas,
    desktop_page,
    draw_strokes,
    headless_chromium,
    launch_with,
    log_problems,
    metrics,
    move_through,
    open_number_mode,
    open_tab,
    painted,
    press,
    touch_strokes,
    wait_for_metrics,
    wait_until_drawn,
)
from tools.inputs.synthetic_drawings import NOT_DIGITS, canvas_points, paper_jpeg, render, render_strokes


def ink_on_canvas(page, region: tuple[slice, slice] = (slice(2, -2), slice(2, -2))) -> int:
    """Bright pixels in a screenshot of the canvas (rows, columns: inside its 1-px outline by default)."""
    # The toolbar, shown while the pointer rests on the canvas, slides over its top-right corner: not ink.
    shot = canvas(page).screenshot(style=".dc-toolbar { visibility: hidden !important; }")
    pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("L"))
    return int((pixels[region] > 128).sum())


def draw_digit(page, digit: int, size: float = 200, left: float = 40, top: float = 40, slant: float = 0.0) -> None:
    draw_strokes(page, canvas_points(digit, size, left, top, slant))


pytestmark = [pytest.mark.browser, pytest.mark.skipif(not shutil.which("chromium"), reason="needs Debian's chromium")]
PlaywrightTimeout = pytest.importorskip("playwright.sync_api").TimeoutError


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    ARTIFACTS.mkdir(exist_ok=True)
    with app_with_own_room(tmp_path_factory.mktemp("server")) as (url, log):
        yield url, log


@pytest.fixture(scope="module")
def browser():
    with headless_chromium() as browser:
        yield browser


@pytest.fixture
def page(server, browser):
    with desktop_page(browser, server[0]) as page:
        yield page


# Records whether the page ever shows the text of the first visitor's wait for the models.
WATCH_FOR_STARTING = """
window.__sawStarting = false;
new MutationObserver(() => {
  if ((document.body?.innerText || "").includes("loading the models")) window.__sawStarting = true;
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def test_the_first_visitor_of_a_new_server_finds_the_models_loaded(server, browser):
    """Runs first in this file, so its page is the server's first visitor. The server loaded the models
    as it started and said it was ready only then (running_app waits for READY_PATH): the page never
    shows "Starting: loading the models…", and the first drawing is answered."""
    url, _ = server
    with urllib.request.urlopen(url + READY_PATH, timeout=10) as response:
        assert response.status == 200 and response.read().decode().startswith("ok: loaded in")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.add_init_script(WATCH_FOR_STARTING)
    page.goto(url)
    canvas(page)
    draw_digit(page, 7)
    assert wait_for_metrics(page, {"ANN": "7", "CNN": "7"}) == {"ANN": "7", "CNN": "7"}
    assert page.evaluate("window.__sawStarting") is False, "the first visitor waited for the models"
    context.close()


def test_draw_clear_and_draw_again(page, server):
    draw_digit(page, 7, size=200, left=40, top=40)
    assert wait_for_metrics(page, {"ANN": "7", "CNN": "7"}) == {"ANN": "7", "CNN": "7"}
    page.get_by_text("Both models agree").first.wait_for(timeout=30_000)  # the line below the answers may come later
    wait_until_drawn(page)
    page.screenshot(path=str(ARTIFACTS / "draw-desktop.png"), full_page=True)

    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=30_000)
    assert metrics(page) == {}
    assert ink_on_canvas(page) == 0  # the drawing itself is gone too, not only the answer

    # Small and off-centre, in the lower right corner: still read right.
    draw_digit(page, 3, size=90, left=170, top=170)
    assert wait_for_metrics(page, {"ANN": "3", "CNN": "3"}) == {"ANN": "3", "CNN": "3"}


def test_the_drawing_is_sent_as_the_pen_lifts(page):
    """Our build of the canvas sends at once; the release waited 200 ms after every stroke (issue 26)."""
    page.evaluate(WATCH_ANSWER)  # make bench's timing hooks: pen up, and the page's next WebSocket send
    draw_digit(page, 1, size=200, left=40, top=40)
    page.wait_for_function("window.__answer.sent !== undefined", timeout=10_000)
    waited = page.evaluate("window.__answer.sent - window.__answer.up")
    # Not a speed target (make bench measures that: 13 ms): the release's fixed 200 ms wait must be gone.
    # The bound leaves room for a machine busy with other tests (three processes on two cores).
    assert 0 <= waited < 150, f"the drawing left {waited:.0f} ms after the pen lifted"
    assert wait_for_metrics(page, {"ANN": "1", "CNN": "1"}) == {"ANN": "1", "CNN": "1"}


def test_a_stroke_ends_where_the_pen_lifts_even_when_no_move_reached_it(page):
    """On a busy page the browser can deliver the pen's release with no move to where it lifted (seen in the
    scale test: a 4's stem cut at its first move, read as 6). The release's own point ends the stroke."""
    first, second = canvas_points(4, size=200, left=40, top=40)
    box = canvas(page).bounding_box()
    press(page, first[0], box)
    move_through(page, first[1:], box)
    page.mouse.up()
    (x, top), (_, bottom) = second
    press(page, (x, top), box)
    page.mouse.move(box["x"] + x, box["y"] + (top + bottom) / 2)
    cdp = page.context.new_cdp_session(page)  # a release where no move went: Playwright's up would move first
    cdp.send(
        "Input.dispatchMouseEvent",
        {"type": "mouseReleased", "x": box["x"] + x, "y": box["y"] + bottom, "button": "left", "clickCount": 1},
    )
    assert wait_for_metrics(page, {"ANN": "4", "CNN": "4"}) == {"ANN": "4", "CNN": "4"}
    stem_end = (slice(round(bottom) - 25, round(bottom)), slice(round(x) - 5, round(x) + 6))
    assert ink_on_canvas(page, region=stem_end) > 0, "the stem stops where the last move went"


def test_inside_the_networks_opens_after_a_drawing(page):
    draw_digit(page, 4, size=200, left=40, top=40)
    assert wait_for_metrics(page, {"ANN": "4", "CNN": "4"}) == {"ANN": "4", "CNN": "4"}
    page.get_by_text("Inside the networks").click()
    page.get_by_text("The closest training digits").wait_for(timeout=180_000)  # may build the index once
    assert page.get_by_text("feature maps of 14x14").count() >= 1
    assert page.get_by_text("hidden units").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "inside-desktop.png"), full_page=True)


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
    page.locator('input[type="file"]').set_input_files(
        files=[{"name": "two.jpg", "mimeType": "image/jpeg", "buffer": paper_jpeg(2)}]
    )
    assert wait_for_metrics(page, {"ANN": "2", "CNN": "2"}) == {"ANN": "2", "CNN": "2"}


def test_upload_a_file_that_is_not_an_image(page):
    open_tab(page, "📷 Upload")
    page.locator('input[type="file"]').set_input_files(
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not really a png"}]
    )
    page.get_by_text("Cannot read notes.png").wait_for(timeout=30_000)
    assert metrics(page) == {}


def test_one_click_from_a_drawing_to_its_place_on_the_map(page):
    draw_digit(page, 4)
    assert wait_for_metrics(page, {"ANN": "4", "CNN": "4"}) == {"ANN": "4", "CNN": "4"}
    page.get_by_role("button", name="Show my drawing on the map").click()
    page.get_by_text("★ your last drawing").wait_for(timeout=60_000)
    assert page.get_by_role("tab", name="📊 Explore the data").get_attribute("aria-selected") == "true"


def test_share_a_drawing_and_see_it_in_the_room(page):
    draw_digit(page, 3)
    assert wait_for_metrics(page, {"ANN": "3", "CNN": "3"}) == {"ANN": "3", "CNN": "3"}
    page.get_by_role("button", name="Share with the room").click()
    page.get_by_role("button", name="Shared with the room").wait_for(timeout=30_000)
    open_tab(page, "👥 Room")
    page.get_by_text("Latest drawings, misses first").wait_for(timeout=60_000)
    assert int(metrics(page)["Drawings"]) >= 1
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "room-desktop.png"), full_page=True)


def test_the_presenter_unlocks_the_room_and_a_scribble_waits_for_them(page, server):
    """Shared drawings (one a face the digit check flagged) seen by a visitor, then by the presenter."""
    from mnist_app.drawings import Answer, Store, new_drawing
    from mnist_app.reading.preprocess import preprocess

    _, log = server
    store = Store(f"sqlite:///{log.parent / 'room.db'}")  # the server's own database
    for digit in (1, 4, 7, 0, 9):
        drawn = render(digit, pen=20)
        answers = {"ann": Answer(digit, 0.97), "cnn": Answer(digit if digit != 9 else 4, 0.9)}
        store.share(new_drawing(preprocess(drawn, "light"), drawn, answers, "s"))
    face = render_strokes(NOT_DIGITS["smiley"])[:, :, 0]
    store.share(new_drawing(preprocess(face, "light"), face, {"ann": Answer(0, 0.6)}, "s", held_back=True))
    open_tab(page, "👥 Room")
    page.get_by_text("1 held back: they do not look like digits").wait_for(timeout=60_000)
    assert page.get_by_role("button", name="Delete").count() == 0, "a visitor sees no delete buttons"

    page.get_by_text("Presenter tools").click()
    page.get_by_label("Presenter key", exact=True).and_(page.locator("input")).fill(PRESENTER_KEY)
    page.get_by_role("button", name="Unlock").click()
    page.get_by_text("Unlocked in this tab").wait_for(timeout=30_000)
    assert PRESENTER_KEY not in page.content(), "the key is nowhere in the page once used"
    page.get_by_text("1 held back", exact=True).click()
    page.get_by_role("button", name="Show").wait_for(timeout=30_000)
    painted(page)
    page.screenshot(path=str(ARTIFACTS / "room-presenter.png"), full_page=True)
    before = store.count()
    page.get_by_role("button", name="Delete").first.click()
    deadline = time.monotonic() + 30
    while store.count() != before - 1 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert store.count() == before - 1


def test_explore_and_models_tabs_render_charts(desktop_tour):
    """The tour waits on each tab for its charts (and on Models for its table and model picker) to be drawn."""
    assert desktop_tour.charts["📊 Explore the data"] >= 6 and desktop_tour.charts["🧠 Models"] >= 4


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
    for tab in page.get_by_role("tab").all():  # every tab on screen, none behind a scroll arrow
        box = tab.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (tab.inner_text(), box)
    wait_until_drawn(page)
    page.screenshot(path=str(ARTIFACTS / f"draw-phone-{width}.png"))
    context.close()


def test_a_touch_stroke_that_starts_in_the_top_right_corner_is_kept(server, browser):
    """Under the canvas toolbar, invisible until used: a finger starting there drew nothing in the release."""
    url, _ = server
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(url)
    side = canvas(page).bounding_box()["width"]
    stroke = [(side - 8 - k * 0.4, 6 + k * 2.4) for k in range(100)]  # a 1 from the very corner, down
    touch_strokes(page, [stroke])
    assert wait_for_metrics(page, {"ANN": "1", "CNN": "1"}) == {"ANN": "1", "CNN": "1"}
    # The toolbar, shown while the pointer rests on the canvas, slides over its top-right corner: not ink.
    shot = canvas(page).screenshot(style=".dc-toolbar { visibility: hidden !important; }")
    pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("L"))
    assert (pixels[4:30, -30:-4] > 128).sum() > 50, "the stroke's start in the corner is on the canvas"
    context.close()


def densely(stroke: list[tuple[float, float]], per_segment: int = 8) -> list[tuple[float, float]]:
    """The stroke's points with `per_segment` evenly spaced points on each segment (the last point left out)."""
    return [
        (x0 + (x1 - x0) * k / per_segment, y0 + (y1 - y0) * k / per_segment)
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False)
        for k in range(per_segment)
    ]


def test_a_clear_that_arrives_late_keeps_every_stroke_drawn_after_it(server, browser):
    """A person presses Clear and draws at once, and the server's reply comes while they draw (a busy
    server, a slow network): the release reloaded the canvas then, with a new brush, so the stroke in
    progress lost its start, and strokes finished since were wiped. Every stroke drawn after pressing
    Clear must stay whole, and the old drawing must go: with the reply arriving while the pen is down,
    then with it arriving after a finished stroke."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    valve = SocketValve(page)
    page.goto(server[0])
    draw_digit(page, 4)
    assert wait_for_metrics(page, {"ANN": "4", "CNN": "4"}) == {"ANN": "4", "CNN": "4"}
    whole_four = ink_on_canvas(page)
    results = {}
    for arrives in ("while the pen is down", "after a finished stroke"):
        page.get_by_role("button", name="Clear").click()
        page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=30_000)
        draw_digit(page, 1)
        assert wait_for_metrics(page, {"ANN": "1", "CNN": "1"}) == {"ANN": "1", "CNN": "1"}
        valve.hold()  # the server hears of the Clear only when the test says so
        page.get_by_role("button", name="Clear").click()
        box = canvas(page).bounding_box()  # where the canvas is now that the click has scrolled to the button
        draw_four_with_a_late_reply(page, box, valve, arrives)
        results[arrives] = (wait_for_metrics(page, {"ANN": "4", "CNN": "4"}), ink_on_canvas(page))
        page.screenshot(path=str(ARTIFACTS / f"late-clear-{arrives.replace(' ', '-')}.png"))
    context.close()
    for arrives, (shown, ink) in results.items():
        assert shown == {"ANN": "4", "CNN": "4"}, arrives
        assert abs(ink - whole_four) < 0.03 * whole_four, f"{arrives}: {ink} bright pixels, {whole_four} in a whole 4"


def draw_four_with_a_late_reply(page, box: dict, valve: SocketValve, arrives: str) -> None:
    """Draw a 4 while the held messages (the Clear) go out half-way through its first stroke; the reply
    reaches the canvas with the pen still down, or after that stroke has finished."""
    first, second = canvas_points(4)
    first = [*densely(first), first[-1]]  # many small moves, so that the reply can come between them
    press(page, first[0], box)
    move_through(page, first[1 : len(first) // 2], box)
    if arrives == "after a finished stroke":
        move_through(page, first[len(first) // 2 :], box)
        page.mouse.up()
    assert valve.release() >= 1
    if arrives == "while the pen is down":
        page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=30_000)  # the Clear's reply has come
        move_through(page, first[len(first) // 2 :], box)
        page.mouse.up()
    # The second stroke starts once the old drawing has gone, as a person sees it go: the 1's foot, which
    # no stroke of the 4 crosses, is dark. (The reload itself runs between two input events: an empty
    # drawing loads without waiting for anything, so no stroke can begin half-way through it.)
    deadline = time.monotonic() + 30
    while ink_on_canvas(page, region=(slice(195, 230), slice(140, 165))) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    press(page, second[0], box)
    move_through(page, second[1:], box)
    page.mouse.up()


def test_number_mode_reads_a_three_digit_number(page):
    open_number_mode(page)
    strokes = []
    for index, digit in enumerate((2, 4, 7)):
        strokes += canvas_points(digit, size=150, left=60 + index * 190, top=45, slant=0.1)
    draw_strokes(page, strokes)
    expected = {"ANN": "247", "CNN": "247"}
    shown = wait_for_metrics(page, expected)
    assert shown == expected
    assert page.get_by_text("Both models read the same number").count() >= 1
    # Each digit numbered, tied to its box: the crops' captions come with their images, after the numbers.
    page.get_by_text("#3").first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "number-desktop.png"), full_page=True)


PHONE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36"
)


def test_number_mode_on_a_phone_with_a_finger(server, browser):
    url, _ = server
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, user_agent=PHONE_AGENT
    )
    page = context.new_page()
    page.goto(url)
    canvas(page)
    page.locator(".live-strip").wait_for(timeout=30_000)  # the page has settled: live reading is loaded
    surface = open_number_mode(page)
    assert surface["width"] <= 390 - 32  # the phone-sized canvas, no sideways scrolling
    strokes = []
    for index, digit in enumerate((3, 0, 5)):
        # Below the top 30 px: on touch screens the canvas's invisible toolbar covers the top right.
        strokes += canvas_points(digit, size=80, left=30 + index * 105, top=32)
    touch_strokes(page, strokes)
    shown = wait_for_metrics(page, {"ANN": "305", "CNN": "305"})
    page.screenshot(path=str(ARTIFACTS / "number-phone.png"), full_page=True)
    assert shown == {"ANN": "305", "CNN": "305"}
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_camera_picture_of_a_digit_on_paper(server, browser, tmp_path):
    """A fake camera (Chromium's y4m file source) films a 5 on paper; take the picture, read the digit."""
    url, _ = server
    video = tmp_path / "five.y4m"
    write_y4m(video, paper_digit(5))
    args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    chromium = launch_with(browser.browser_type, extra_args=args)  # the camera is fixed at launch
    try:
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        open_tab(page, "📷 Upload")
        page.get_by_role("radio", name="The camera").click()
        page.wait_for_function(VIDEO_PLAYING, timeout=60_000)  # a click before the first frame takes nothing
        take_photo(page)
        shown = wait_for_metrics(page, {"ANN": "5", "CNN": "5"})
        page.screenshot(path=str(ARTIFACTS / "camera.png"), full_page=True)
    finally:
        chromium.close()
    assert shown == {"ANN": "5", "CNN": "5"}


def take_photo(page, tries: int = 3) -> None:
    """Press Take Photo until the picture is taken, as a person presses again when nothing happened: on a
    busy machine the camera's first press once took no picture (no photo, the video still running)."""
    taken = page.get_by_role("button", name="Clear photo")  # shown in place of Take Photo once a picture is taken
    for _ in range(tries):
        if taken.count():
            return
        page.get_by_role("button", name="Take Photo").click()
        try:
            taken.wait_for(timeout=10_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"Take Photo pressed {tries} times, and no picture was taken")


VIDEO_PLAYING = (
    "() => { const v = document.querySelector('video');"
    " return !!v && v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0.3; }"  # frames have been shown
)


def paper_digit(digit: int, width: int = 640, height: int = 480) -> np.ndarray:
    """A dark pen digit on slightly uneven paper, filling most of a camera frame (greyscale)."""
    ink = render(digit, pen=22, size=360, left=140, top=60, canvas=480)[:, :, 0].astype(np.float32) / 255
    frame = np.zeros((height, width), np.float32)
    frame[:, 80:560] = ink
    rows, cols = np.mgrid[0:height, 0:width]
    paper = 0.75 + 0.15 * cols / width
    return np.clip(255 * paper * (1 - 0.8 * frame), 0, 255).astype(np.uint8)


def write_y4m(path, grey: np.ndarray, frames: int = 10) -> None:
    """A tiny raw video (YUV 4:2:0, grey: neutral chroma) for Chromium's fake camera."""
    height, width = grey.shape
    chroma = np.full((height // 2) * (width // 2), 128, np.uint8).tobytes()
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + grey.tobytes() + chroma + chroma)


def test_chromium_keeps_playwrights_disabled_features_beside_ours(browser):
    """Chromium applies only the last --disable-features on its command line: ours must carry every
    feature Playwright's own list disables (read back from the running browser), and the unshown UI."""
    from tools.drivers.browser import UNSHOWN_BROWSER_UI

    lists = [
        [arg.split("=", 1)[1].split(",") for arg in args if arg.startswith("--disable-features=")]
        for args in chromium_browser_command_lines()
    ]
    assert lists and all(len(found) >= 2 for found in lists), lists  # Playwright's, then ours
    for *earlier, applied in lists:
        assert set(UNSHOWN_BROWSER_UI) <= set(applied)
        assert all(set(names) <= set(applied) for names in earlier), set().union(*earlier) - set(applied)


def chromium_browser_command_lines() -> list[list[str]]:
    """The command line of every running Chromium browser process (its renderers and helpers left out)."""
    lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            args = cmdline.read_bytes().decode(errors="replace").split("\0")
            if Path(args[0]).name == "chromium" and not any(arg.startswith("--type=") for arg in args):
                lines.append(args)
    return lines


def test_server_log_is_clean(server, page):
    _, log = server
    assert log_problems(log) == []


# Violations that come from Streamlit's own markup, which the app cannot change (each with its reason).
AXE_ALLOWED: tuple = ()
TABS_AND_READY = (  # each tab, and what shows that its content has been drawn (not its loading placeholders)
    ("✏️ Draw", (".probability-bars",)),
    ("📷 Upload", ('[data-testid="stFileUploaderDropzone"]',)),
    ("📊 Explore the data", ("text=A map of the digits", ".js-plotly-plot >> nth=5")),
    (
        "🧠 Models",
        (
            "text=Which model is best",
            ".js-plotly-plot >> nth=3",
            '[data-testid="stDataFrame"] canvas',
            '[data-testid="stSelectbox"]',
        ),
    ),
    ("👥 Room", ('[data-testid="stExpander"]',)),
)


@dataclasses.dataclass
class Tour:
    """What one visitor's tour of every tab found: the charts drawn on each tab, and axe-core's serious
    violations on each (None without axe-core)."""

    charts: dict[str, int]
    violations: dict[str, list[str]] | None


def tour_every_tab(page, photographed: bool = False) -> Tour:
    """Draw a 7, then open each tab in turn, wait until it is drawn, and check it with axe-core; with
    `photographed`, screenshot the Explore and Models tabs (their tables and pickers drawn, not loading)."""
    from tools.drivers.accessibility import AXE_FILE, serious_violations

    draw_digit(page, 7)
    assert wait_for_metrics(page, {"ANN": "7", "CNN": "7"}) == {"ANN": "7", "CNN": "7"}
    tour = Tour({}, {} if AXE_FILE.is_file() else None)
    for label, shown in TABS_AND_READY:
        open_tab(page, label)
        for selector in shown:
            page.locator(selector).first.wait_for(timeout=60_000)
        painted(page)
        tour.charts[label] = page.locator(".js-plotly-plot").count()
        if tour.violations is not None:
            tour.violations[label] = serious_violations(page, AXE_ALLOWED)
        if photographed and label in PHOTOGRAPHED_TABS:
            page.screenshot(path=str(ARTIFACTS / PHOTOGRAPHED_TABS[label]), full_page=True)
    return tour


PHOTOGRAPHED_TABS = {"📊 Explore the data": "explore-desktop.png", "🧠 Models": "models-desktop.png"}


@pytest.fixture(scope="module")
def desktop_tour(server, browser) -> Tour:
    """One desktop visitor's tour of every tab, shared by the accessibility and the charts tests."""
    with desktop_page(browser, server[0]) as page:
        return tour_every_tab(page, photographed=True)


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_no_serious_accessibility_violation_on_any_tab(server, browser, width, height, request):
    """axe-core on every tab after a drawing, on desktop and on a phone: nothing serious or critical."""
    from tools.drivers.accessibility import AXE_FILE

    if not AXE_FILE.is_file():
        pytest.skip(f"axe-core is not installed ({AXE_FILE}); `make test` installs it with npm")
    if width >= 500:
        found = request.getfixturevalue("desktop_tour").violations
    else:
        context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=True, has_touch=True)
        page = context.new_page()
        page.goto(server[0])
        found = tour_every_tab(page).violations
        context.close()
    assert all(not v for v in found.values()), "\n".join(
        f"{tab}: {line}" for tab, lines in found.items() for line in lines
    )


FOCUSED = """() => {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;  // components
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
  return {role: el.getAttribute('role') || el.tagName.toLowerCase(), text: (el.getAttribute('aria-label') || el.innerText || el.getAttribute('title') || '').trim().slice(0, 60), ring};
}"""


def tab_to(page, wanted, presses: int = 60) -> dict:
    """Press Tab until the focused element matches `wanted` (a predicate); return it."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused and wanted(focused):
            return focused
    raise AssertionError(f"no element matching the wish within {presses} Tab presses")


def test_keyboard_only_upload_and_hear_the_answer(page):
    """Tab to the tabs, arrow to Upload, Tab to the file button, choose a file: the live region says it."""
    focused = tab_to(page, lambda f: f["role"] == "tab")
    assert focused["ring"], f"the focused tab shows no focus: {focused}"
    page.keyboard.press("ArrowRight")  # Draw -> Upload, as in every tab list
    page.keyboard.press("Enter")
    upload = page.get_by_role("tab", name="📷 Upload")
    page.wait_for_function("(el) => el.getAttribute('aria-selected') === 'true'", arg=upload.element_handle())
    page.get_by_text("A photo or scan of handwriting").wait_for(timeout=60_000)
    chooser = None
    for _ in range(3):  # a rerun that redraws the uploader while it has focus drops the focus: tab to it again
        focused = tab_to(page, lambda f: f["role"] == "button" and f["text"].endswith("Upload"))  # the uploader's
        assert focused["ring"], f"the focused file button shows no focus: {focused}"
        try:
            with page.expect_file_chooser(timeout=5_000) as opened:
                page.keyboard.press("Enter")
            chooser = opened.value
            break
        except PlaywrightTimeout:
            continue
    assert chooser is not None, "Enter on the focused Upload button opened no file chooser"
    chooser.set_files(files=[{"name": "four.jpg", "mimeType": "image/jpeg", "buffer": paper_jpeg(4)}])
    region = page.locator('[aria-live="polite"]').filter(has_text="ANN:")
    region.wait_for(state="attached", timeout=60_000)
    said = region.inner_text() if region.is_visible() else region.text_content()
    assert said.startswith("ANN: 4, ") and "CNN: 4, " in said and "sure" in said, said


def focus_walk(page, presses: int = 45) -> list[dict]:
    """Every element Tab reaches from the top of the page, in order, until focus comes round again."""
    page.get_by_test_id("stSkipToContent").focus()  # the page's first stop
    walk = [page.evaluate(FOCUSED)]
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused == walk[0]:
            break
        if focused is not None:  # None: the browser's own controls, between the end and the start again
            walk.append(focused)
    return walk


def test_every_control_is_reached_by_tab_in_order_with_a_visible_focus(page):
    """After a drawing: mode, Clear, pen width, the correction and Share, each with a visible focus, in
    reading order; on the Room tab, the presenter tools. And the answers are announced in one live
    region, there (empty) before the first answer, that keeps its place as the answers change."""
    regions = page.locator('[aria-live="polite"]')
    regions.first.wait_for(state="attached", timeout=60_000)
    assert regions.count() == 1 and regions.first.text_content().strip() == ""
    region = regions.first.element_handle()
    draw_digit(page, 7)
    assert wait_for_metrics(page, {"ANN": "7", "CNN": "7"}) == {"ANN": "7", "CNN": "7"}
    page.wait_for_function("(el) => el.isConnected && el.textContent.includes('CNN: 7')", arg=region, timeout=30_000)
    walk = focus_walk(page)
    names = [f"{f['role']}:{f['text'].splitlines()[-1] if f['text'] else ''}" for f in walk]
    wanted = ["tab:✏️ Draw", "radio:One digit", "button:Clear", "input:Pen width", "button:Share with the room"]
    positions = [next((i for i, n in enumerate(names) if n.startswith(w)), None) for w in wanted]
    assert None not in positions and positions == sorted(positions), "\n".join(names)
    # (the skip link was focused by a script, which shows no ring; the main region is not a control)
    assert all(f["ring"] for f in walk[1:] if f["role"] != "main"), [f for f in walk if not f["ring"]]
    open_tab(page, "👥 Room")
    page.get_by_text("Presenter tools").wait_for(timeout=60_000)
    walk = focus_walk(page, presses=80)
    presenter = [f for f in walk if "Presenter tools" in f["text"]]
    assert presenter and presenter[0]["ring"], [f["text"][:30] for f in walk]
