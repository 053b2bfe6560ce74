"""Many people at once: concurrent browser sessions each get their own, correct answers.

`make test` runs a bounded form (10 sessions x 3 drawings); `make loadtest` the full one
(20 sessions x 10 drawings), via LOADTEST_SESSIONS and LOADTEST_DRAWINGS. Loopback only.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import statistics
import time

import numpy as np
import pytest
from PIL import Image

from mnist_app.bench import rerun_times
from mnist_app.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, log_problems, running_app
from tests.drawings import canvas_points, render

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not shutil.which("chromium"), reason="needs Debian's chromium")]
async_api = pytest.importorskip("playwright.async_api")

SESSIONS = int(os.environ.get("LOADTEST_SESSIONS", "10"))
DRAWINGS = int(os.environ.get("LOADTEST_DRAWINGS", "3"))
ANSWER_TIMEOUT = 120  # seconds; 2 cores serve every session and every browser here


async def shown_metrics(page) -> dict[str, str]:
    labels = await page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    values = await page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values, strict=False)}


async def wait_for(page, expected: dict[str, str]) -> dict[str, str]:
    deadline = time.monotonic() + ANSWER_TIMEOUT
    shown: dict[str, str] = {}
    while time.monotonic() < deadline:
        shown = await shown_metrics(page)
        if shown == expected:
            break
        await asyncio.sleep(0.05)
    return shown


async def draw(page, digit: int) -> None:
    surface = page.locator("canvas.upper-canvas").first
    await surface.wait_for(timeout=ANSWER_TIMEOUT * 1000)
    box = await surface.bounding_box()
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await asyncio.sleep(0.35)  # let the canvas toolbar slide away from the top-right corner
    for stroke in canvas_points(digit, size=200, left=40, top=40):
        await page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        await page.mouse.down()
        for x, y in stroke[1:]:
            await page.mouse.move(box["x"] + x, box["y"] + y, steps=2)
        await page.mouse.up()


def paper_photo(digit: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(255 - render(digit, pen=14)[:, :, 0]).convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


async def one_session(browser, url: str, session: int, latencies: list[float]) -> list[str]:
    """Draw a session-specific sequence of digits, then upload one; return what went wrong."""
    problems = []
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    page.on("pageerror", lambda error: problems.append(f"session {session}: page error {error}"))
    await page.goto(url, timeout=ANSWER_TIMEOUT * 1000)
    digits = [(session + 3 * k) % 10 for k in range(DRAWINGS)]
    for k, digit in enumerate(digits):
        if k:
            await page.get_by_role("button", name="Clear").click()
            await page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=ANSWER_TIMEOUT * 1000)
        await draw(page, digit)
        lifted = time.monotonic()
        expected = {"ANN": str(digit), "CNN": str(digit)}
        shown = await wait_for(page, expected)
        if shown != expected:
            problems.append(f"session {session}: drew {digit}, saw {shown}")
        else:
            latencies.append(time.monotonic() - lifted)
    upload_digit = (session + 5) % 10
    await page.get_by_role("tab", name="📷 Upload").click()
    await page.locator('input[type="file"]').set_input_files(
        files=[{"name": f"{upload_digit}.jpg", "mimeType": "image/jpeg", "buffer": paper_photo(upload_digit)}]
    )
    expected = {"ANN": str(upload_digit), "CNN": str(upload_digit)}
    shown = await wait_for(page, expected)
    if shown != expected:
        problems.append(f"session {session}: uploaded {upload_digit}, saw {shown}")
    if session == 0:
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "load-session-0.png"))
    await context.close()
    return problems


async def run_load(url: str) -> tuple[list[str], list[float], float]:
    latencies: list[float] = []
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        started = time.monotonic()
        results = await asyncio.gather(*(one_session(browser, url, s, latencies) for s in range(SESSIONS)))
        elapsed = time.monotonic() - started
        await browser.close()
    return [p for problems in results for p in problems], latencies, elapsed


@pytest.mark.slow
def test_concurrent_sessions_each_get_their_own_correct_answers(tmp_path):
    log = tmp_path / "server.log"
    with running_app(log, env={"MNIST_APP_TIMING": "1"}) as url:
        problems, latencies, elapsed = asyncio.run(run_load(url))
    answers = len(latencies)
    reruns = rerun_times(log)
    if latencies and reruns:
        summary = (
            f"{SESSIONS} sessions x {DRAWINGS} drawings + 1 upload: {answers} right answers in {elapsed:.0f} s "
            f"({answers / elapsed:.2f}/s); stroke-to-answer p50 {statistics.median(latencies):.2f} s, "
            f"p95 {np.percentile(latencies, 95):.2f} s; server time per rerun p50 {statistics.median(reruns):.0f} ms, "
            f"p95 {np.percentile(reruns, 95):.0f} ms ({len(reruns)} reruns that answered)"
        )
        print("\n" + summary)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "load.txt").write_text(summary + "\n")
    assert problems == [], "\n".join(problems)
    assert log_problems(log) == []
