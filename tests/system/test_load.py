"""Many people at once: concurrent browser sessions each get their own, correct answers.

Each session shares every drawing with the room. `make test` runs a bounded form (4 sessions x 2
drawings, each session then uploading a photo); `make loadtest` the full ones
(20 and 40 sessions), via LOADTEST_SESSIONS and LOADTEST_DRAWINGS, and records its figures in
benchmarks/load.json (LOADTEST_RECORD=1). Loopback only; every session ends by itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import time

import numpy as np
import pytest

from mnist_app.drawings import Store
from tools.bench.app_bench import OUT_DIR, rerun_times
from tools.drivers.async_driver import ANSWER_TIMEOUT, draw, wait_for
from tools.drivers.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, log_problems, running_app
from tools.drivers.process_stats import cpu_seconds, server_pid
from tools.inputs.synthetic_drawings import paper_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not shutil.which("chromium"), reason="needs Debian's chromium")]
async_api = pytest.importorskip("playwright.async_api")

SESSIONS = int(os.environ.get("LOADTEST_SESSIONS", "4"))
DRAWINGS = int(os.environ.get("LOADTEST_DRAWINGS", "2"))
RECORD = bool(os.environ.get("LOADTEST_RECORD"))  # write the figures to benchmarks/load.json


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
            ARTIFACTS.mkdir(exist_ok=True)  # what the canvas held, to tell a misread from a mis-drawn stroke
            await page.screenshot(path=str(ARTIFACTS / f"load-session-{session}-drew-{digit}.png"))
            continue
        latencies.append(time.monotonic() - lifted)
        await page.get_by_role("button", name="Share with the room").click()
        await page.get_by_role("button", name="Shared with the room").wait_for(timeout=ANSWER_TIMEOUT * 1000)
    upload_digit = (session + 5) % 10
    await page.get_by_role("tab", name="📷 Upload").click()
    await page.locator('input[type="file"]').set_input_files(
        files=[{"name": f"{upload_digit}.jpg", "mimeType": "image/jpeg", "buffer": paper_jpeg(upload_digit)}]
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
    """...and every drawing each session shares is stored once, in a real database (SQLite in WAL mode)."""
    log = tmp_path / "server.log"
    db = f"sqlite:///{tmp_path / 'room.db'}"
    with running_app(log, env={"MNIST_APP_TIMING": "1", "MNIST_APP_DB": db}) as url:
        pid = server_pid(url)
        cpu_before = cpu_seconds(pid)
        problems, latencies, elapsed = asyncio.run(run_load(url))
        cpu_after = cpu_seconds(pid)
    answers = len(latencies) + SESSIONS  # the drawings read right, and each session's upload
    reruns = rerun_times(log)
    if latencies and reruns and cpu_before is not None and cpu_after is not None:
        cpu_ms = (cpu_after - cpu_before) * 1000 / answers
        figures = {
            "sessions": SESSIONS,
            "drawings_per_session": DRAWINGS,
            "answers": answers,
            "seconds": round(elapsed, 1),
            "answers_per_s": round(answers / elapsed, 2),
            "stroke_to_answer_s": {
                "p50": round(statistics.median(latencies), 2),
                "p95": round(float(np.percentile(latencies, 95)), 2),
            },
            "server_rerun_ms": {
                "p50": round(statistics.median(reruns)),
                "p95": round(float(np.percentile(reruns, 95))),
            },
            "server_cpu_ms_per_answer": round(cpu_ms, 1),
            # What the server alone could answer on this machine's cores at that CPU cost.
            "server_only_capacity_answers_per_s": round((os.cpu_count() or 1) * 1000 / cpu_ms, 1),
        }
        summary = (
            f"{SESSIONS} sessions x {DRAWINGS} drawings + 1 upload: {answers} answers in {elapsed:.0f} s "
            f"({figures['answers_per_s']}/s); stroke-to-answer p50 {figures['stroke_to_answer_s']['p50']} s, "
            f"p95 {figures['stroke_to_answer_s']['p95']} s; server CPU {cpu_ms:.0f} ms per answer "
            f"(server-only capacity {figures['server_only_capacity_answers_per_s']} answers/s on "
            f"{os.cpu_count()} cores); server time per answering rerun p50 {figures['server_rerun_ms']['p50']} ms"
        )
        print("\n" + summary)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"load-{SESSIONS}.txt").write_text(summary + "\n")
        if RECORD and not problems:
            path = OUT_DIR / "load.json"
            recorded = json.loads(path.read_text()) if path.is_file() else {}
            recorded[str(SESSIONS)] = figures
            path.write_text(json.dumps(recorded, indent=1) + "\n")
    assert problems == [], "\n".join(problems)
    assert log_problems(log) == [], "\n".join(log_problems(log))
    shared = Store(db).latest(with_images=False)
    assert len(shared) == SESSIONS * DRAWINGS and len({d.uid for d in shared}) == len(shared)
    assert len({d.session for d in shared}) == SESSIONS, "one anonymous id per browser session"
    drawn = sorted((s + 3 * k) % 10 for s in range(SESSIONS) for k in range(DRAWINGS))
    assert sorted(d.label for d in shared) == drawn
