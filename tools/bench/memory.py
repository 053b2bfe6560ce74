"""What each part of a server costs in resident memory: `python -m tools.bench.memory [--record]`.

One fresh process loads the parts in the order a server meets them (the app's code, the models a
visitor of the Draw and Upload tabs uses, served in NumPy, one reading, then each of the rest) and reads
its resident set size (VmRSS, /proc) after each; the difference is that part's cost. `--record` writes
benchmarks/memory.json and its table in docs/performance.md. In its own process: what was loaded before it
would hide a part's cost.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from mnist_app.config import ROOT
from tools.drivers.process_stats import memory_mb

OUT = ROOT / "benchmarks" / "memory.json"


def _parts() -> list[tuple[str, float]]:
    """Load each part in turn in this process; (part, resident MB after it)."""
    import os

    pid = os.getpid()
    steps = [("Python, NumPy", memory_mb(pid))]

    def after(name: str) -> None:
        steps.append((name, memory_mb(pid)))

    import streamlit  # noqa: F401

    after("Streamlit")
    from mnist_app.config import MODELS_DIR, SHOWN_MODELS
    from mnist_app.serving.reader import load_reader

    after("the app's code")
    reader = load_reader(MODELS_DIR, SHOWN_MODELS)  # the CNN judges: it is one of them
    after("the ANN and the CNN (in NumPy) and the digit checks")
    reader.whole_reader()
    after("the two string readers")
    from mnist_app.ui.startup import warm_up_drawing  # the drawing a server warms up on

    reader.read_digit(warm_up_drawing(), SHOWN_MODELS, "light", saliency=("cnn",))
    after("one drawing read (with the CNN's saliency)")
    for name in ("rnn", "logreg", "forest"):
        load_reader(MODELS_DIR, (name,), numbers=False)
        after(f"the {name} model")
    from mnist_app.dataset.mnist import load_mnist

    (x_train, y_train), _ = load_mnist()
    after("MNIST (the Explore tab)")
    cnn_probe, _ = reader.probes
    after("the probes (the inside view)")
    from mnist_app.serving.explain import cached_index
    from mnist_app.serving.model_files import model_path

    cached_index(cnn_probe, model_path(MODELS_DIR, "cnn"), x_train, y_train)
    after("the neighbour index (the inside view)")
    return steps


def measure() -> dict:
    """Run `_parts` in a fresh interpreter; returns each part's cost and the running total, in MB."""
    code = "import json; from tools.bench.memory import _parts; print(json.dumps(_parts()))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600, check=True
    )
    steps = json.loads(result.stdout.strip().splitlines()[-1])
    parts = [
        {"part": name, "mb": round(total - previous, 1), "total_mb": round(total, 1)}
        for (name, total), (_, previous) in zip(steps[1:], steps, strict=False)
    ]
    return {"start_mb": round(steps[0][1], 1), "parts": parts}


def table(figures: dict) -> str:
    rows = [f"| {p['part']} | {p['mb']:,.0f} MB | {p['total_mb']:,.0f} MB |" for p in figures["parts"]]
    return "\n".join(["| part | resident memory | total |", "|---|---:|---:|", *rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help=f"write {OUT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    figures = measure()
    print(table(figures))
    if args.record:
        OUT.write_text(json.dumps(figures, indent=1) + "\n")
        from tools.reports.report import write_section  # TensorFlow: not in the measured process

        write_section("memory", table(figures) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
