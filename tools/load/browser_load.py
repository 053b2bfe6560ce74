"""Many people at once on one server, in real browsers: `python -m tools.load.browser_load [--sessions 20] [--drawings 10] [--record]`.

Starts the app on a free loopback port with a room of its own (SQLite in WAL mode), then each headless
Chromium session draws a session-specific sequence of digits, shares each one, and uploads a photo.
Every answer must be that session's digit, and every shared drawing must be stored once. Prints the
stroke-to-answer times and the server's CPU per answer; with --record, writes them to
benchmarks/load.json (`make loadtest`: 20 and 40 sessions). `make test` drives the same kind of
sessions through the cluster instead (tests/system/test_cluster.py). The server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnist_app.drawings import Store
from tools.bench.app_bench import OUT_DIR, rerun_times
from tools.drivers.async_driver import ANSWER_TIMEOUT, draw, upload_photo, wait_for
from tools.drivers.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, log_problems, running_app
from tools.drivers.process_stats import cpu_seconds, server_pid

if TYPE_CHECKING:
    from playwright.async_api import Browser


def digits_of(session: int, drawings: int) -> list[int]:
    """The digits a session draws, in order: each session its own sequence."""
    return [(session + 3 * k) % 10 for k in range(drawings)]


async def one_session(browser: Browser, url: str, session: int, drawings: int, latencies: list[float]) -> list[str]:
    """Draw the session's digits and share each, then upload one; return what went wrong."""
    problems = []
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    page.on("pageerror", lambda error: problems.append(f"session {session}: page error {error}"))
    await page.goto(url, timeout=ANSWER_TIMEOUT * 1000)
    for k, digit in enumerate(digits_of(session, drawings)):
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
    shown = await upload_photo(page, upload_digit)
    if shown != {"ANN": str(upload_digit), "CNN": str(upload_digit)}:
        problems.append(f"session {session}: uploaded {upload_digit}, saw {shown}")
    await context.close()
    return problems


async def run_sessions(url: str, sessions: int, drawings: int) -> tuple[list[str], list[float], float]:
    from playwright.async_api import async_playwright

    latencies: list[float] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        started = time.monotonic()
        results = await asyncio.gather(*(one_session(browser, url, s, drawings, latencies) for s in range(sessions)))
        elapsed = time.monotonic() - started
        await browser.close()
    return [p for problems in results for p in problems], latencies, elapsed


def stored_problems(db: str, sessions: int, drawings: int) -> list[str]:
    """What the room's database got wrong: every shared drawing once, one anonymous id per session."""
    shared = Store(db).latest(with_images=False)
    drawn = sorted(d for s in range(sessions) for d in digits_of(s, drawings))
    problems = []
    if len({d.uid for d in shared}) != len(shared) or sorted(d.label for d in shared) != drawn:
        problems.append(f"stored {sorted(d.label for d in shared)}, shared {drawn}")
    if len({d.session for d in shared}) != sessions:
        problems.append(f"{len({d.session for d in shared})} anonymous ids for {sessions} browser sessions")
    return problems


def figures(
    sessions: int, drawings: int, latencies: list[float], reruns: list[float], elapsed: float, cpu_s: float
) -> dict:
    answers = len(latencies) + sessions  # the drawings read right, and each session's upload
    cpu_ms = cpu_s * 1000 / answers
    return {
        "sessions": sessions,
        "drawings_per_session": drawings,
        "answers": answers,
        "seconds": round(elapsed, 1),
        "answers_per_s": round(answers / elapsed, 2),
        "stroke_to_answer_s": {
            "p50": round(statistics.median(latencies), 2),
            "p95": round(float(np.percentile(latencies, 95)), 2),
        },
        "server_rerun_ms": {"p50": round(statistics.median(reruns)), "p95": round(float(np.percentile(reruns, 95)))},
        "server_cpu_ms_per_answer": round(cpu_ms, 1),
        # What the server alone could answer on this machine's cores at that CPU cost.
        "server_only_capacity_answers_per_s": round((os.cpu_count() or 1) * 1000 / cpu_ms, 1),
    }


def measure(sessions: int, drawings: int, work: Path) -> tuple[list[str], dict | None]:
    """Run the sessions against a fresh server; returns the problems and the figures (None if unmeasured)."""
    log, db = work / "server.log", f"sqlite:///{work / 'room.db'}"
    with running_app(log, env={"MNIST_APP_TIMING": "1", "MNIST_APP_DB": db}) as url:
        pid = server_pid(url)
        cpu_before = cpu_seconds(pid)
        problems, latencies, elapsed = asyncio.run(run_sessions(url, sessions, drawings))
        cpu_after = cpu_seconds(pid)
    problems += log_problems(log) + stored_problems(db, sessions, drawings)
    reruns = rerun_times(log)
    if not (latencies and reruns and cpu_before is not None and cpu_after is not None):
        return problems, None
    return problems, figures(sessions, drawings, latencies, reruns, elapsed, cpu_after - cpu_before)


def summary(result: dict) -> str:
    return (
        f"{result['sessions']} sessions x {result['drawings_per_session']} drawings + 1 upload: {result['answers']} "
        f"answers in {result['seconds']:.0f} s ({result['answers_per_s']}/s); stroke-to-answer p50 "
        f"{result['stroke_to_answer_s']['p50']} s, p95 {result['stroke_to_answer_s']['p95']} s; server CPU "
        f"{result['server_cpu_ms_per_answer']:.0f} ms per answer (server-only capacity "
        f"{result['server_only_capacity_answers_per_s']} answers/s on {os.cpu_count()} cores); server time per "
        f"answering rerun p50 {result['server_rerun_ms']['p50']} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.load.browser_load", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--drawings", type=int, default=10, help="digits each session draws and shares")
    parser.add_argument("--record", action="store_true", help="write the figures to benchmarks/load.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mnist-load-") as work:
        problems, result = measure(args.sessions, args.drawings, Path(work))
    for problem in problems:
        print("problem:", problem)
    if result is not None:
        print(summary(result))
        if args.record and not problems:
            path = OUT_DIR / "load.json"
            recorded = json.loads(path.read_text()) if path.is_file() else {}
            recorded[str(args.sessions)] = result
            path.write_text(json.dumps(recorded, indent=1) + "\n")
    return 1 if problems or result is None else 0


if __name__ == "__main__":
    sys.exit(main())
