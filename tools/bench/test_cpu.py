"""What each test costs the machine in CPU-seconds: `make test-cpu`, then `python -m tools.bench.test_cpu --record`.

As a pytest plugin (`-p tools.bench.test_cpu`, one test process on an otherwise idle machine) it records, for
every test, the machine's busy CPU time from /proc/stat across the test, its fixtures' setup and teardown
included: the test process, the servers and browsers it drives, and the daemons they use. Wall time on two
cores depends on what runs beside a test; its CPU-seconds do not, so their sum is the suite's work, and half
of it is the least time two cores can take. Written to benchmarks/test_cpu.json; the command line prints
the per-file table, and with --record writes it into docs/testing.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict

import pytest

from mnist_app.config import ROOT
from tools.reports.report import write_section

OUT = ROOT / "benchmarks" / "test_cpu.json"
SECTION = "test-cpu"
SHOWN_FILES = 14  # the costliest files; the rest are summed in one row


def machine_cpu_seconds() -> float:
    """Busy CPU time of the whole machine so far (all cores; idle and I/O wait left out)."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


_rows: list[dict] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):  # noqa: ANN201 (a hook wrapper)
    cpu, wall = machine_cpu_seconds(), time.monotonic()
    yield
    _rows.append(
        {
            "test": item.nodeid,
            "cpu_s": round(machine_cpu_seconds() - cpu, 2),
            "wall_s": round(time.monotonic() - wall, 2),
        }
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _rows:
        OUT.write_text(json.dumps({"cores": os.cpu_count(), "tests": _rows}, indent=0) + "\n")


def table(record: dict) -> str:
    """CPU-seconds and wall seconds per test file, costliest first, and the suite's total."""
    cpu: dict[str, float] = defaultdict(float)
    wall: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for row in record["tests"]:
        name = row["test"].split("::")[0]
        cpu[name] += row["cpu_s"]
        wall[name] += row["wall_s"]
        count[name] += 1
    ranked = sorted(cpu, key=cpu.get, reverse=True)
    lines = ["| test file | tests | CPU-s | seconds alone |", "|---|---|---|---|"]
    for name in ranked[:SHOWN_FILES]:
        lines.append(f"| `{name}` | {count[name]} | {cpu[name]:.0f} | {wall[name]:.0f} |")
    rest = ranked[SHOWN_FILES:]
    if rest:
        lines.append(
            f"| the other {len(rest)} files | {sum(count[n] for n in rest)} | {sum(cpu[n] for n in rest):.0f} "
            f"| {sum(wall[n] for n in rest):.0f} |"
        )
    total = sum(cpu.values())
    cores = record["cores"]
    lines.append(
        f"| **all** | {len(record['tests'])} | **{total:.0f}** | {sum(wall.values()):.0f} |\n\n"
        f"On {cores} cores the suite cannot take less than {total / cores:.0f} s of tests (its CPU-seconds / {cores})."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.test_cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write the table into docs/testing.md")
    args = parser.parse_args(argv)
    if not OUT.is_file():
        raise SystemExit(f"{OUT.relative_to(ROOT)} is missing: run `make test-cpu` first")
    text = table(json.loads(OUT.read_text()))
    print(text)
    if args.record:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
