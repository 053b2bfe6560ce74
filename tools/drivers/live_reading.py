"""Drive live reading in a real page: its strip, and its module's own functions, for tests and the benchmark.

The module (components/live_reading, built into the canvas package) is imported into the page from the
URL Streamlit serves it at, so the functions measured are exactly those the canvas runs.
"""

from __future__ import annotations

import base64
import importlib.util
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_app.config import LIVE_WEIGHTS_URL

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

COMPONENT_URL = "/_stcore/bidi-components/mnist-drawable-canvas.canvas"
MANIFEST_URL = f"/{LIVE_WEIGHTS_URL}/manifest.json"


def module_url() -> str:
    """Where the app serves the installed canvas's live module."""
    package = Path(importlib.util.find_spec("mnist_drawable_canvas").origin).parent
    (module,) = (package / "frontend" / "build").glob("live-*.js")
    return f"{COMPONENT_URL}/{module.name}"


def strip(page: Page) -> Locator:
    """The live strip under the canvas (inside the component's shadow root; Playwright's CSS pierces it)."""
    return page.locator(".live-strip")


def live_digits(page: Page) -> dict[str, str]:
    """The digits the strip shows now, e.g. {"ANN": "7", "CNN": "7"} ("" where nothing is drawn)."""
    shown = strip(page)
    return {name.upper(): shown.get_attribute(f"data-{name}") or "" for name in ("ann", "cnn")}


def import_module(page: Page) -> None:
    page.evaluate("async (url) => { window.__live = await import(url); }", module_url())


def browser_probabilities(page: Page, images: np.ndarray) -> dict[str, np.ndarray]:
    """Calibrated probabilities (n, 10) per model, computed in the page by the live module's networks."""
    inputs = base64.b64encode(np.ascontiguousarray(images, np.float32).tobytes()).decode()
    answers = page.evaluate(
        """async ([manifest, inputs]) => {
          const bytes = Uint8Array.from(atob(inputs), (c) => c.charCodeAt(0));
          const all = new Float32Array(bytes.buffer);
          const images = Array.from({length: all.length / 784}, (_, i) => all.subarray(784 * i, 784 * (i + 1)));
          const networks = await window.__live.networksFor(new URL(manifest, location.href).href);
          const answers = networks.predict(images);
          return Object.fromEntries(Object.entries(answers).map(([name, rows]) => [name, rows.map((r) => Array.from(r))]));
        }""",
        [MANIFEST_URL, inputs],
    )
    return {name: np.asarray(rows, np.float64) for name, rows in answers.items()}


def browser_preprocess(page: Page, rgba: np.ndarray) -> np.ndarray | None:
    """The live module's 28x28 input for an RGBA image (as the canvas holds it), or None for no ink."""
    height, width = rgba.shape[:2]
    encoded = base64.b64encode(np.ascontiguousarray(rgba, np.uint8).tobytes()).decode()
    result = page.evaluate(
        """([width, height, pixels]) => {
          const data = Uint8ClampedArray.from(atob(pixels), (c) => c.charCodeAt(0));
          const input = window.__live.preprocess({width, height, data});
          return input === null ? null : Array.from(input);
        }""",
        [width, height, encoded],
    )
    return None if result is None else np.asarray(result, np.float32).reshape(28, 28)


def strip_input(page: Page) -> np.ndarray | None:
    """The 28x28 image the strip's networks read last (None before any reading)."""
    values = strip(page).evaluate("(element) => element.liveInput ? Array.from(element.liveInput) : null")
    return None if values is None else np.asarray(values, np.float32).reshape(28, 28)


SAID = re.compile(r"(ANN|CNN): (?:(\d),|not sure; likeliest (\d))")


def server_top_digits(page: Page, settle_ms: float = 800, timeout: float = 15) -> dict[str, str]:
    """Each model's likeliest digit in the server's final answer ("not sure" answers included), read
    from the page's live region once its words have stayed the same for `settle_ms` (a drawing of
    several strokes is answered after each one)."""
    region = page.locator('[role="status"]').first
    deadline = time.monotonic() + timeout
    words, since = None, time.monotonic()
    while time.monotonic() < deadline:
        now = region.inner_text()
        if now != words:
            words, since = now, time.monotonic()
        elif words and (time.monotonic() - since) * 1000 >= settle_ms:
            break
        page.wait_for_timeout(100)
    return {name: sure or likeliest for name, sure, likeliest in SAID.findall(words or "")}
