"""Drive the real app in headless Chromium (Debian's, via Playwright): for browser tests and the benchmark.

Development tooling: needs the dev requirements (playwright) and `/usr/bin/chromium`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from deploy.services import free_port, replica_command, wait_ready
from mnist_app.config import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserType, Locator, Page, Playwright, WebSocketRoute

CHROMIUM = "/usr/bin/chromium"
# Chromium keeps only the last --disable-features it is given, and Playwright passes its own list first:
# ours repeats Playwright's (its chromiumSwitches.ts; tests/system/test_browser.py checks that none is
# lost) and adds the features to leave out.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
# Every window of headless Chromium loads the address bar's WebUI pop-up in a renderer of its own: about
# 1 CPU-s per page opened, 40 % of opening the app (CDP tracing), for a bar that headless never shows.
UNSHOWN_BROWSER_UI = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--disable-features=" + ",".join(PLAYWRIGHT_DISABLED_FEATURES + UNSHOWN_BROWSER_UI),
]
ARTIFACTS = ROOT / "test-artifacts"
# Lines a healthy server may print: Streamlit's banner and TensorFlow's start-up notices.
HARMLESS_LOG = (
    "You can now view",
    "Local URL",
    "Network URL",
    "External URL",
    "Uvicorn server started",
    "Did not auto detect",
    "Please go to",
    "  URL: http",
    "Stopping...",
    "rerun_ms=",
    "absl::InitializeLog",
    "oneDNN custom operations",
    "cudart_stub",
    "Could not find cuda drivers",
)


# Installed in the page before each drawing: times (performance.now) of the pen lifting, of the
# drawing leaving for the server (the page's first WebSocket send after it), of both digits showing,
# and of everything else on the Draw tab being drawn (bars and loaded images).
WATCH_ANSWER = """() => {
  const t = window.__answer = {};
  if (!WebSocket.prototype.__timed) {
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
      const now = window.__answer;
      if (now && now.up !== undefined && now.sent === undefined) now.sent = performance.now();
      return send.call(this, data);
    };
    WebSocket.prototype.__timed = true;
  }
  const allDrawn = () => {
    const images = [...document.querySelectorAll('[data-testid="stImage"] img')];
    return document.querySelectorAll('.probability-bars').length >= 2 && images.length >= 6
      && images.every((img) => img.complete && img.naturalWidth > 0);
  };
  const check = () => {
    const now = performance.now();
    if (t.digits === undefined && document.querySelectorAll('[data-testid="stMetricValue"]').length >= 2) {
      t.digits = now;
      t.lastMessage = window.__lastMessage;  // the server's last message before the digits were drawn
    }
    if (t.digits !== undefined && t.all === undefined && allDrawn()) t.all = now;
    if (t.all === undefined) requestAnimationFrame(check);
  };
  document.addEventListener('mouseup', () => { t.up = performance.now(); requestAnimationFrame(check); },
                            {capture: true, once: true});
}"""


def watching_websockets(on_socket: str, setup: str = "") -> str:
    """A script installed before the page loads: every WebSocket the page opens is created as usual, then
    `on_socket` (JavaScript, with `socket` in scope) runs on it; `setup` runs once, first."""
    return f"""(() => {{
  {setup}
  const Native = window.WebSocket;
  const Hooked = function (...args) {{
    const socket = new Native(...args);
    {on_socket}
    return socket;
  }};
  Hooked.prototype = Native.prototype;
  Object.assign(Hooked, {{CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3}});
  window.WebSocket = Hooked;
}})();"""


# The time of every message the page receives on its WebSocket.
HOOK_SOCKET = watching_websockets(
    "socket.addEventListener('message', () => { window.__lastMessage = performance.now(); });"
)

# For failover timing: each WebSocket's life (created, opened, first message, closed) and each time a drawing
# surface is mounted, in epoch milliseconds (Date.now(): comparable with the test's time.time() on the same machine).
SOCKET_LIFE = watching_websockets(
    """const life = { created: Date.now() };
    window.__sockets.push(life);
    socket.addEventListener('open', () => { life.opened = Date.now(); });
    socket.addEventListener('message', () => { life.first ??= Date.now(); });
    socket.addEventListener('close', () => { life.closed = Date.now(); });""",
    setup="""window.__sockets = [];
  const mounts = window.__canvasMounts = [];
  const seen = new WeakSet();
  new MutationObserver(() => {
    for (const surface of document.querySelectorAll('canvas.upper-canvas')) {
      if (!seen.has(surface)) { seen.add(surface); mounts.push(Date.now()); }
    }
  }).observe(document, { childList: true, subtree: true });""",
)


PRESENTER_KEY = "presenter-key-for-tests"


@contextlib.contextmanager
def running_app(log_path: Path, env: dict | None = None, timeout: float = 90) -> Iterator[str]:
    """Start `streamlit run app.py` on a free loopback port; yield its URL; stop it afterwards."""
    port = free_port()
    log = open(log_path, "w")  # noqa: SIM115  (closed below, after the process)
    env = {"MNIST_APP_PRESENTER_KEY": PRESENTER_KEY, **(env or {})}  # the presenter's tests know the key
    process = subprocess.Popen(
        replica_command(port), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, timeout, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextlib.contextmanager
def app_with_own_room(folder: Path) -> Iterator[tuple[str, Path]]:
    """The app with a room of its own (SQLite in `folder`): yields its URL and its log's path."""
    log = folder / "streamlit.log"
    with running_app(log, env={"MNIST_APP_DB": f"sqlite:///{folder / 'room.db'}"}) as url:
        yield url, log


@contextlib.contextmanager
def headless_chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def desktop_page(browser: Browser, url: str) -> Iterator[Page]:
    """A new 1280x900 tab on the app, its canvas ready; fails afterwards if the page threw a script error.

    Every tab of a browser opens in one context, as a person opens a new tab: each is its own Streamlit
    session, and the page's scripts come from the browser's cache (a fresh context would fetch and
    compile them again, for every test)."""
    if browser not in _DESKTOPS:
        _DESKTOPS[browser] = browser.new_context(viewport={"width": 1280, "height": 900})
    page = _DESKTOPS[browser].new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    canvas(page)
    yield page
    page.close()
    assert not errors, errors


_DESKTOPS: weakref.WeakKeyDictionary[Browser, object] = weakref.WeakKeyDictionary()  # each browser's desktop context


def log_problems(log_path: Path) -> list[str]:
    """Server log lines that are not known-harmless: tracebacks, errors, warnings."""
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    return [line for line in lines if not any(ok in line for ok in HARMLESS_LOG)]


def launch(playwright: Playwright) -> Browser:
    return launch_with(playwright.chromium)


def launch_with(browser_type: BrowserType, extra_args: list[str] | None = None) -> Browser:
    """Debian's Chromium, headless, with extra flags (e.g. a fake camera)."""
    return browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + (extra_args or []), headless=True)


def canvas(page: Page) -> Locator:
    """The drawing surface: fabric.js's upper canvas inside the component."""
    surface = page.locator("canvas.upper-canvas").first
    surface.wait_for(timeout=60_000)
    return surface


def open_number_mode(page: Page, timeout: float = 30) -> dict:
    """Switch the Draw tab to "A number" and wait for its wide canvas (not the 280-px digit canvas it
    replaces, which may still be on the page for a moment); returns the canvas's box."""
    page.get_by_role("radio", name="A number").click()
    page.get_by_text("Write a number").wait_for(timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    box = canvas(page).bounding_box()
    while box["width"] <= 300 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        box = canvas(page).bounding_box()
    # A finger on a canvas the compositor has not yet learnt is touch-action: none would scroll the page
    # (the touch is cancelled): wait until frames with it have been committed.
    painted(page, frames=3)
    return box


def draw_strokes(page: Page, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw with real mouse strokes (press, move in small steps, release); points in canvas pixels."""
    surface = canvas(page)
    surface.scroll_into_view_if_needed()
    box = surface.bounding_box()
    # Hover first, as a hand would: the canvas toolbar (invisible until hovered) covers the top-right
    # corner and slides up only after the pointer has rested on the canvas for ~0.2 s.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(350)  # a person's pace: the hand rests on the canvas before the first stroke
    for stroke in strokes:
        press(page, stroke[0], box)
        move_through(page, stroke[1:], box)
        page.mouse.up()


def press(page: Page, point: tuple[float, float], box: dict) -> None:
    """The pen goes down at `point` (canvas pixels; `box` is the canvas's bounding box)."""
    page.mouse.move(box["x"] + point[0], box["y"] + point[1])
    page.mouse.down()


def move_through(page: Page, points: list[tuple[float, float]], box: dict) -> None:
    """The pen moves through `points` in small steps, as a hand does."""
    for x, y in points:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=2)


def touch_strokes(page: Page, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw with a finger: real touch events (Chrome DevTools' Input.dispatchTouchEvent), canvas pixels."""
    surface = canvas(page)
    box = surface.bounding_box()
    session = page.context.new_cdp_session(page)
    try:
        for stroke in strokes:
            points = [{"x": box["x"] + x, "y": box["y"] + y} for x, y in stroke]
            session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [points[0]]})
            for point in points[1:]:
                session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
            session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
            page.wait_for_timeout(250)  # a finger lifts and moves between strokes
    finally:
        session.detach()


# Every metric on the page, label -> value, each value read from its own label's metric, in one
# snapshot: reading all labels and then all values pairs them wrongly while a tab swaps its metrics.
SHOWN_METRICS = """() => Object.fromEntries([...document.querySelectorAll('[data-testid="stMetricLabel"]')].map((label) => {
  let box = label.parentElement;
  while (box && !box.querySelector('[data-testid="stMetricValue"]')) box = box.parentElement;
  const value = box ? box.querySelector('[data-testid="stMetricValue"]').innerText : '';
  return [label.innerText.trim(), value.trim()];
}))"""


def metrics(page: Page) -> dict[str, str]:
    return page.evaluate(SHOWN_METRICS)


def wait_for_metrics(page: Page, expected: dict[str, str], timeout: float = 60) -> dict[str, str]:
    """Poll until the shown metrics equal `expected` (or time out and return what is shown)."""
    deadline = time.monotonic() + timeout
    shown = {}
    while time.monotonic() < deadline:
        shown = metrics(page)
        if shown == expected:
            return shown
        page.wait_for_timeout(100)
    return shown


def wait_for_any_metric(page: Page, timeout: float = 60) -> dict[str, str]:
    """Poll until some answer is shown; return the metrics (empty if none came in time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = metrics(page)
        if shown:
            return shown
        page.wait_for_timeout(50)
    return {}


# Everything on the Draw tab has been drawn: both bar charts, and every image loaded.
ALL_DRAWN = """() => {
  const images = [...document.querySelectorAll('[data-testid="stImage"] img')];
  return document.querySelectorAll('.probability-bars').length >= 2 && images.length >= 6
    && images.every((img) => img.complete && img.naturalWidth > 0);
}"""


def wait_until_drawn(page: Page, timeout: float = 30) -> None:
    """Wait for the whole Draw tab (bars and images), e.g. before a screenshot."""
    page.wait_for_function(ALL_DRAWN, timeout=timeout * 1000)
    painted(page)


def painted(page: Page, frames: int = 2) -> None:
    """Wait until the page has drawn `frames` more frames: what is in the DOM is on the screen."""
    page.evaluate(
        "(n) => new Promise((done) => { const next = (k) => k ? requestAnimationFrame(() => next(k - 1)) : done(); next(n); })",
        frames,
    )


def open_tab(page: Page, label: str) -> None:
    page.get_by_role("tab", name=label).click()


class SocketValve:
    """Holds the page's messages to the server until `release()`: a slow network or a busy server,
    made on purpose (Playwright's WebSocket routing). Install it before the page loads."""

    def __init__(self, page: Page) -> None:
        self.holding = False
        self.held: list[str | bytes] = []
        self.server = None
        page.route_web_socket("**/_stcore/stream", self._route)

    def _route(self, socket: WebSocketRoute) -> None:
        self.server = socket.connect_to_server()
        socket.on_message(self._to_server)
        self.server.on_message(socket.send)  # the server's messages pass as they come

    def _to_server(self, message: str | bytes) -> None:
        if self.holding:
            self.held.append(message)
        else:
            self.server.send(message)

    def hold(self) -> None:
        self.holding = True

    def release(self) -> int:
        """Send what was held, in order; returns how many messages."""
        self.holding = False
        count = len(self.held)
        while self.held:
            self.server.send(self.held.pop(0))
        return count
