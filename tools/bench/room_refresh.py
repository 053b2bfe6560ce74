"""The Room tab's database work per refresh, with 100,000 stored drawings, on SQLite and PostgreSQL.

`python -m tools.bench.room_refresh` (run by `make bench`) fills a throwaway database of each kind with
100,000 drawings (a drawn canvas's PNG each, 90-95 % read right, 2 % held back), then times what one Room refresh asks the
database for: the grouped counts, the held-back count and the gallery's 24 rows. Medians of 15
refreshes go to benchmarks/room.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from deploy.services import have_postgres, throwaway_postgres
from mnist_app.config import ROOM_SETTINGS, ROOT
from mnist_app.drawings import Store, png_bytes, room_summary
from mnist_app.drawings.schema import drawings
from tools.bench.stopwatch import timed
from tools.inputs.synthetic_drawings import render

REFRESHES = 15
OUT_DIR = ROOT / "benchmarks"


def fill(store: Store, count: int, seed: int = 0) -> None:
    """`count` drawings in bulk, one second apart, each with a drawn canvas's PNG (as the rows hold them)."""
    rng = np.random.default_rng(seed)
    png = png_bytes(np.zeros((28, 28), np.uint8))
    canvas = png_bytes(render(7, pen=20))
    start = datetime.datetime.now(datetime.UTC)
    store.count()  # creates the tables

    def answer(label: int, right: float) -> int:
        return label if rng.random() < right else int(rng.integers(10))

    rows = []
    for k in range(count):
        label = int(rng.integers(10))
        ann, cnn = answer(label, 0.9), answer(label, 0.95)
        rows.append(
            {
                "uid": f"{k:032x}",
                "created_at": start + datetime.timedelta(seconds=k),
                "session": f"s{k % 200}",
                "app_version": "bench",
                "model_versions": {},
                "model_input": png,
                "original": canvas,
                "answers": {"ann": {"digit": ann, "confidence": 0.9}, "cnn": {"digit": cnn, "confidence": 0.9}},
                "answer_ann": ann,
                "answer_cnn": cnn,
                "label": label,
                "label_source": "user" if k % 10 == 0 else "models",
                "held_back": k % 50 == 0,
            }
        )
    with store.engine.begin() as connection:
        for first in range(0, count, 5000):
            connection.execute(sa.insert(drawings), rows[first : first + 5000])
    if store.engine.dialect.name == "postgresql":  # what autovacuum does after a bulk load, at once
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE drawings"))


def measure(url: str, count: int) -> dict[str, float]:
    store = Store(url)
    store.forget()
    fill(store, count)
    parts = {
        "counts": lambda: room_summary(store),
        "held_back_count": lambda: store.count(held_back=True),
        "gallery": lambda: store.latest(ROOM_SETTINGS.gallery_size, held_back=False, misses_first=True),
    }
    figures = {name: timed(work, REFRESHES, warmup=1)["median"] for name, work in parts.items()}
    figures["refresh"] = timed(lambda: [work() for work in parts.values()], REFRESHES, warmup=1)["median"]
    store.forget()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.room_refresh", description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    results = {"drawings": args.drawings, "ms": {}}
    with tempfile.TemporaryDirectory() as folder:
        results["ms"]["sqlite"] = measure(f"sqlite:///{folder}/room.db", args.drawings)
    if have_postgres():
        with throwaway_postgres() as url:
            results["ms"]["postgresql"] = measure(url, args.drawings)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "room.json").write_text(json.dumps(results, indent=1) + "\n")
    for database, figures in results["ms"].items():
        print(
            f"{database}, {args.drawings:,} drawings: one Room refresh {figures['refresh']} ms of database work "
            f"(counts {figures['counts']}, held back {figures['held_back_count']}, gallery {figures['gallery']})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
