"""Failover, repeated: `python -m tools.load.failover_series [--sizes 1,2,4,12] [--runs 5] [--record]`.

Runs `tools.load.scaletest` (a fresh cluster each time, one replica killed) `--runs` times for each
number of browser sessions, pools the moved sessions' kill-to-answer times per size, and reports the
median, p95 and maximum, with the medians of each part (tools/load/failover_parts.py) and nginx's
passes to the survivor. `--record` writes benchmarks/failover.json, from which docs/deploy.md's table is made.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from mnist_app.config import ROOT
from tools.load import scaletest
from tools.load.failover_parts import PARTS, medians
from tools.reports.report import write_section

RECORD = ROOT / "benchmarks" / "failover.json"


def series(size: int, runs: int) -> dict:
    """`runs` scaletests with `size` sessions asked for; the moved sessions' figures pooled."""
    seconds, parts, opened, moved, redrawn, passed, problems = [], [], [], [], 0, 0, []
    started = time.monotonic()
    for _ in range(runs):
        report = scaletest.run(size, rounds=1)
        print(scaletest.summary(report), flush=True)
        seconds += report.failover_answer_s
        parts += report.failover_parts
        opened.append(report.sessions)
        moved.append(report.moved)
        redrawn += report.redrawn_after_kill
        passed += report.nginx.get("requests_passed_on", 0)
        problems += report.problems
    return {
        "sessions_asked": size,
        "runs": runs,
        "sessions_opened": opened,
        "moved_per_run": moved,
        "kill_to_answer_s": sorted(seconds),
        "median_s": _quantile(seconds, 0.5),
        "p95_s": _quantile(seconds, 0.95),
        "max_s": max(seconds, default=None),
        "within_budget": sum(s <= scaletest.FAILOVER_BUDGET_S for s in seconds),
        "parts_median_s": medians(parts),
        "redrawn": redrawn,
        "nginx_requests_passed_on": passed,
        "problems": problems,
        "wall_s": round(time.monotonic() - started, 1),
    }


def _quantile(values: list[float], q: float) -> float | None:
    """The q-quantile, interpolated between the nearest values (numpy's default)."""
    return round(float(np.quantile(values, q)), 2) if values else None


def table(results: list[dict]) -> str:
    """The docs/deploy.md table: per size, the pooled kill-to-answer figures and each part's median."""
    header = [
        "sessions asked for (opened per run)",
        "runs",
        "moved sessions",
        "kill to answer: median / p95 / max",
        "within 10 s",
        *(name.replace("_", " ") for name in PARTS),
        "redrawn",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for result in results:
        parts = result["parts_median_s"]
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{result['sessions_asked']} ({', '.join(map(str, result['sessions_opened']))})",
                    str(result["runs"]),
                    str(len(result["kill_to_answer_s"])),
                    f"{_seconds(result['median_s'])} / {_seconds(result['p95_s'])} / {_seconds(result['max_s'])}",
                    f"{result['within_budget']} of {len(result['kill_to_answer_s'])}",
                    *(_seconds(parts[name]) for name in PARTS),
                    str(result["redrawn"]),
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.load.failover_series", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,2,4,12", help="browser sessions asked for, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="scaletests per size")
    parser.add_argument("--record", action="store_true", help=f"write {RECORD.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    if args.runs < 1 or not sizes or min(sizes) < 1:
        parser.error("--runs and every size take 1 or more")
    results = [series(size, args.runs) for size in sizes]
    for result in results:
        print(json.dumps({key: value for key, value in result.items() if key != "kill_to_answer_s"}))
    print(table(results))
    if args.record:
        RECORD.write_text(json.dumps({"series": results}, indent=1) + "\n")
        write_section("failover", table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
