"""Benchmark live reading in headless Chromium: `python -m tools.bench.live_bench` (run by `make bench`).

Measures, on one app server: page load with live reading and with its module and weights blocked; the
time from the pen touching to the first live answer; live updates per second during a slow stroke;
and how often the live digits at pen-up equal the server's likeliest digits (its final answer, "not
sure" ones included), over the synthetic strokes at pen widths
8, 20 and 36, with the mouse on a desktop page and with a finger on a phone page. Writes
benchmarks/live.json and the live-reading table (docs/live-reading.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mnist_app.config import LIVE_WEIGHTS_DIR, ROOT
from tools.drivers import browser
from tools.drivers.live_reading import live_digits, server_top_digits, strip
from tools.inputs.synthetic_drawings import canvas_points
from tools.reports.report import write_section

OUT = ROOT / "benchmarks" / "live.json"
PENS = (8, 20, 36)
TARGETS = {
    "first": "≤ 300 ms",
    "rate": "≥ 10 per second",
    "weights": "≤ 3 MB",
    "load": "≤ 1 s more",
    "agreement": "≥ 98 %",
}

# Installed on the strip: the time of the pen touching (pointerdown anywhere) and of every live reading.
WATCH_STRIP = """(strip) => {
  const watch = window.__live_watch = {down: null, up: null, readings: []};
  document.addEventListener('pointerdown', () => { watch.down ??= performance.now(); }, {capture: true});
  document.addEventListener('pointerup', () => { watch.up = performance.now(); }, {capture: true});
  new MutationObserver(() => watch.readings.push(performance.now()))
    .observe(strip, {attributes: true, attributeFilter: ['data-updates']});
}"""


def page_load_seconds(chromium: object, url: str, blocked: bool) -> tuple[float, float | None]:
    """Seconds from navigation to the canvas ready, and to the live strip ready (None when blocked)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    if blocked:
        page.route("**/live-*.js", lambda route: route.abort())
        page.route("**/app/static/live/**", lambda route: route.abort())
    started = time.monotonic()
    page.goto(url)
    browser.canvas(page)
    canvas_s = time.monotonic() - started
    strip_s = None
    if not blocked:
        strip(page).wait_for(timeout=30_000)
        strip_s = time.monotonic() - started
    context.close()
    return canvas_s, strip_s


def slow_stroke(page: object, points: list[tuple[float, float]], pause_ms: float = 16) -> dict:
    """One stroke, a point every `pause_ms` (a hand at about 60 moves per second); the strip's timings."""
    shown = strip(page)
    shown.evaluate(WATCH_STRIP)
    box = browser.canvas(page).bounding_box()
    page.mouse.move(box["x"] + 140, box["y"] + 140)
    page.wait_for_timeout(350)
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.wait_for_timeout(pause_ms)
    page.mouse.up()
    page.wait_for_timeout(300)
    watch = page.evaluate("window.__live_watch")
    during = [t for t in watch["readings"] if watch["down"] <= t <= watch["up"]]
    seconds = (watch["up"] - watch["down"]) / 1000
    return {"first_ms": during[0] - watch["down"] if during else None, "per_second": len(during) / seconds}


def set_pen_width(page: object, width: int) -> None:
    """The Pen width slider (a range input), moved with the keyboard: Home is 4 px, each arrow 1 px."""
    slider = page.get_by_role("slider", name="Pen width")
    slider.focus()
    slider.press("Home")
    for _ in range(width - 4):
        slider.press("ArrowRight")
    deadline = time.monotonic() + 30
    while slider.input_value() != str(width) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    page.wait_for_timeout(1000)  # the rerun that hands the canvas its new pen


def agreement_run(page: object, touch: bool, slants: tuple[float, ...]) -> list[dict]:
    """Every digit at every pen width: the live digits at pen-up against the server's answers."""
    results = []
    for pen in PENS:
        set_pen_width(page, pen)
        for slant in slants:
            for digit in range(10):
                clear = page.get_by_role("button", name="Clear")
                clear.tap() if touch else clear.click()
                page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=30_000)
                browser.canvas(page).scroll_into_view_if_needed()  # Clear is below it: back up to the canvas
                strokes = canvas_points(digit, size=190, left=45, top=50, slant=slant)
                (browser.touch_strokes if touch else browser.draw_strokes)(page, strokes)
                server = server_top_digits(page)
                page.locator('.live-strip[data-state="up"]').wait_for(timeout=10_000)
                page.wait_for_timeout(100)
                live = live_digits(page)
                results.append(
                    {"digit": digit, "pen": pen, "slant": slant, "touch": touch, "server": server, "live": live}
                )
                print(
                    f"{'finger' if touch else 'mouse'} pen {pen} slant {slant}: {digit} read {server}, live {live}",
                    flush=True,
                )
    return results


def measure(repeats: int = 7) -> dict:
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory() as folder,
        browser.running_app(Path(folder) / "server.log") as url,
        sync_playwright() as playwright,
    ):
        chromium = browser.launch(playwright)
        loads = page_loads(chromium, url, repeats)
        page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(url)
        strip(page).wait_for(timeout=30_000)
        strokes = []
        for digit in (1, 7, 4, 2, 8, 3, 0)[:repeats]:
            page.get_by_role("button", name="Clear").click()
            page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=30_000)
            strokes.append(slow_stroke(page, [p for stroke in canvas_points(digit) for p in stroke]))
        mouse = agreement_run(page, touch=False, slants=(-0.15, 0.15))
        phone = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        finger = phone.new_page()
        finger.goto(url)
        strip(finger).wait_for(timeout=30_000)
        touch = agreement_run(finger, touch=True, slants=(0.0,))
        chromium.close()
    return summarise(loads, strokes, mouse + touch)


def page_loads(chromium: object, url: str, repeats: int) -> dict[str, list[float]]:
    """Page loads alternating live reading on and blocked, after one load that warms the server and cache."""
    page_load_seconds(chromium, url, blocked=False)
    loads: dict[str, list[float]] = {"on": [], "blocked": [], "strip": []}
    for _ in range(repeats):
        on, strip_ready = page_load_seconds(chromium, url, blocked=False)
        off, _ = page_load_seconds(chromium, url, blocked=True)
        loads["on"].append(on)
        loads["strip"].append(strip_ready)
        loads["blocked"].append(off)
    return loads


def summarise(loads: dict, strokes: list[dict], drawings: list[dict]) -> dict:
    firsts = [s["first_ms"] for s in strokes if s["first_ms"] is not None]

    def agreed(rows: list[dict], name: str | None = None) -> float:
        same = [r["live"] == r["server"] if name is None else r["live"][name] == r["server"].get(name) for r in rows]
        return round(100 * sum(same) / len(same), 1)

    weights = sum(p.stat().st_size for p in LIVE_WEIGHTS_DIR.glob("*.bin"))
    return {
        "page_load_s": {key: round(statistics.median(values), 2) for key, values in loads.items()},
        "first_live_ms": round(statistics.median(firsts), 1) if firsts else None,
        "updates_per_second": round(statistics.median(s["per_second"] for s in strokes), 1),
        "weights_mb": round(weights / 1e6, 2),
        "drawings": len(drawings),
        "agreement_percent": {
            "both": agreed(drawings),
            "ANN": agreed(drawings, "ANN"),
            "CNN": agreed(drawings, "CNN"),
            "mouse": agreed([r for r in drawings if not r["touch"]]),
            "touch": agreed([r for r in drawings if r["touch"]]),
        },
        "disagreements": [r for r in drawings if r["live"] != r["server"]],
    }


def markdown(results: dict) -> str:
    load, agree = results["page_load_s"], results["agreement_percent"]
    return (
        "\n".join(
            [
                "| figure | measured | target |",
                "|---|---|---|",
                f"| pen touching to the first live answer (median of slow strokes) | {results['first_live_ms']} ms | {TARGETS['first']} |",
                f"| live updates per second while the pen moves (median) | {results['updates_per_second']} | {TARGETS['rate']} |",
                f"| weights for the browser (ANN + CNN's two members, 8-bit) | {results['weights_mb']} MB | {TARGETS['weights']} |",
                f"| page load to the canvas: live reading on / its module and weights blocked | {load['on']} s / "
                f"{load['blocked']} s | {TARGETS['load']} |",
                f"| page load to the live strip ready | {load['strip']} s | |",
                f"| live digits at pen-up = the server's, both models ({results['drawings']} drawings: mouse {agree['mouse']} %, "
                f"finger {agree['touch']} %) | {agree['both']} % (ANN {agree['ANN']} %, CNN {agree['CNN']} %) "
                f"| {TARGETS['agreement']} |",
            ]
        )
        + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.live_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--no-readme", action="store_true", help="do not refresh the table in docs/")
    args = parser.parse_args(argv)
    results = measure()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    table = markdown(results)
    if not args.no_readme:
        write_section("live", table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
