"""Many browser pages at once (Playwright's async API): draw a digit, wait for the answers.

Shared by the load test and the scale-out test; Debian's Chromium, loopback servers only.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from tools.drivers.browser import SHOWN_METRICS
from tools.inputs.synthetic_drawings import canvas_points, paper_jpeg

if TYPE_CHECKING:
    from playwright.async_api import Page

ANSWER_TIMEOUT = 120  # seconds; 2 cores serve every session and every browser here


async def shown_metrics(page: Page) -> dict[str, str]:
    return await page.evaluate(SHOWN_METRICS)


async def wait_for(page: Page, expected: dict[str, str], timeout: float = ANSWER_TIMEOUT) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    shown: dict[str, str] = {}
    while time.monotonic() < deadline:
        shown = await shown_metrics(page)
        if shown == expected:
            break
        await asyncio.sleep(0.05)
    return shown


async def draw(page: Page, digit: int) -> None:
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


async def upload_photo(page: Page, digit: int) -> dict[str, str]:
    """Upload a photo of `digit` on paper in the Upload tab; returns the answers shown once both are right,
    or what is shown when ANSWER_TIMEOUT runs out."""
    await page.get_by_role("tab", name="📷 Upload").click()
    await page.locator('input[type="file"]').set_input_files(
        files=[{"name": f"{digit}.jpg", "mimeType": "image/jpeg", "buffer": paper_jpeg(digit)}]
    )
    return await wait_for(page, {"ANN": str(digit), "CNN": str(digit)})
