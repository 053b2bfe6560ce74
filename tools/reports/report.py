"""The generated tables of the README and docs/ (`python -m tools.reports.report`): the model and calibration
tables from the model cards, the scale-out table from benchmarks/scale.json, the numbers table from
benchmarks/numbers*.json and a recorded series of experiments; and `write_section`, with which the other tools
write theirs (between `<!-- name:start -->` and `<!-- name:end -->` in whichever page holds them)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

from mnist_app.config import CONFIDENCE_THRESHOLD, MODEL_TITLES, MODELS_DIR, ROOT, STRING_READER
from mnist_app.serving.model_files import read_cards
from tools.reports.release_tables import families_before_after, styles_before_after

README = ROOT / "README.md"
DOCS = ROOT / "docs"

PUBLISHED = {  # best published accuracy of the hobby projects we compare against
    "cnn": "95.3-99.12 %",
    "ann": "97.0-97.9 %",
    "rnn": "97.3 %",
    "logreg": "84.4 %",
    "forest": "95 % (validation)",
}


def replace_section(text: str, name: str, content: str) -> str:
    """Replace what stands between `<!-- name:start -->` and `<!-- name:end -->`."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        return text
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{content}{end}{tail}"


def pages() -> list[Path]:
    """The README and every docs/ page."""
    return [README, *sorted(DOCS.glob("*.md"))]


def write_section(name: str, content: str) -> list[Path]:
    """Write `content` into every page that holds the section `name`; returns those pages."""
    written = []
    for page in pages():
        if not page.is_file():
            continue
        text = page.read_text()
        if f"<!-- {name}:start -->" in text:
            page.write_text(replace_section(text, name, content))
            written.append(page)
    return written


def measured_report_main(
    argv: list[str] | None,
    module: str,
    section: str,
    out: Path,
    measure: Callable[[Path], dict],
    table: Callable[[dict], str],
    totals: Callable[[dict], dict] | None = None,
) -> int:
    """The command line of a report tool: `python -m MODULE [--record] [--models-dir DIR] [--out FILE]` measures the
    models in DIR, writes `out` (with its totals), prints the table, and with --record writes it into `section`'s
    page. --out keeps another release's figures apart (docs/ compares them with this release's)."""
    source = sys.modules[module]
    name = source.__spec__.name if source.__spec__ else module  # run as `python -m`, the module is __main__
    parser = argparse.ArgumentParser(prog=f"python -m {name}", description=(source.__doc__ or "").splitlines()[0])
    parser.add_argument("--record", action="store_true", help=f"write the {section} table into its docs/ page")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--out", type=Path, default=out, help=f"where the figures go (default {out.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    report = measure(args.models_dir)
    if totals is not None:
        report["totals"] = totals(report)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(table(report))
    if args.record:
        write_section(section, table(report))
    return 0


def results_table(models_dir: Path = MODELS_DIR) -> str:
    rows = [
        "| model | test accuracy | errors / 10,000 | published hobby results | parameters | file | training time "
        "| latency per image |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, card in read_cards(models_dir).items():
        rows.append(
            f"| {MODEL_TITLES[name]} (`{name}`) | **{card['test_accuracy']:.2%}** | {len(card['misclassified']['index'])} "
            f"| {PUBLISHED[name]} | {card['parameters']:,} | {card['file_bytes'] / 1e6:.2f} MB "
            f"| {card['train_seconds'] / 60:.1f} min ({_how_long(card)}) "
            f"| {card['latency_ms']:.2f} ms |"
        )
    return "\n".join(rows) + "\n"


def _how_long(card: dict) -> str:
    experts = card.get("soft_experts")
    if experts:
        epochs = experts["hyperparameters"]["epochs"]
        return f"{_how_long({k: v for k, v in card.items() if k != 'soft_experts'})}; {len(experts['networks'])} soft-ink experts, {epochs} epochs each"
    hyperparameters = card["hyperparameters"]
    if "trees" in hyperparameters:
        return f"{hyperparameters['trees']} trees"
    fine_tuned = card.get("fine_tuned")
    if fine_tuned and "hyperparameters" in fine_tuned["from"]:
        return f"{_how_long(fine_tuned['from'])}, then {fine_tuned['epochs']} fine-tuning epochs"
    return f"{hyperparameters['epochs']} epochs"


def calibration_table(models_dir: Path = MODELS_DIR) -> str:
    """Per calibrated model: its temperature, the test-set ECE before and after, and the "not sure" line."""
    rows = [
        f"| model | temperature | test ECE, raw | test ECE, calibrated | wrong answers shown as not sure "
        f"(< {CONFIDENCE_THRESHOLD:.0%}) | right answers shown as not sure |",
        "|---|---|---|---|---|---|",
    ]
    for name, card in read_cards(models_dir).items():
        calibration = card.get("calibration")
        if not calibration:
            continue
        effect = next((e for e in calibration.get("not_sure_test", []) if e["threshold"] == CONFIDENCE_THRESHOLD), None)
        caught = f"{effect['wrong_caught']:.0%}" if effect else "n/a"
        flagged = f"{effect['right_flagged']:.2%}" if effect else "n/a"
        rows.append(
            f"| {MODEL_TITLES[name]} | {calibration['temperature']:.3f} | {calibration['ece_test_before']:.2%} "
            f"| {calibration['ece_test_after']:.2%} | {caught} | {flagged} |"
        )
    return "\n".join(rows) + "\n"


def scale_table(path: Path = ROOT / "benchmarks" / "scale.json") -> str:
    """`make scaletest`'s recorded run: spread, throughput with 2 and 1 replicas, failover, the room."""
    if not path.is_file():
        return "No recorded run yet: `make scaletest` writes benchmarks/scale.json.\n"
    run = json.loads(path.read_text())
    spread = " + ".join(str(n) for n in sorted(run["per_replica"].values(), reverse=True))
    failover = run["failover_answer_s"]
    return (
        "\n".join(
            [
                "| sessions through nginx | spread over replicas | answers/s, 2 replicas | answers/s, 1 replica "
                "| killed replica's sessions: kill to next answer | a drawing shared on A seen on B | drawings shared / stored |",
                "|---|---|---|---|---|---|---|",
                f"| {run['sessions']} x {run['rounds']} drawings, before and after the kill | {spread} "
                f"| {run['answers_per_s']['2 replicas']} | {run['answers_per_s']['1 replica']} "
                f"| {len(failover)} sessions, median {statistics.median(failover):.1f} s, max {max(failover):.1f} s "
                f"| {'yes' if run['room_seen_across_replicas'] else 'no'} | {run['shared']} / {run['stored']} |",
            ]
        )
        + "\n"
    )


def provenance_table(models_dir: Path = MODELS_DIR) -> str:
    """Every shipped model's record, oldest run first: what each run did, at which commit, with which command."""
    rows = ["| model | run | commit | command |", "|---|---|---|---|"]
    cards = read_cards(models_dir)
    for extra in (STRING_READER, "tuning"):  # not models the app compares, but trained by train.py too
        path = models_dir / f"{extra}.json"
        if path.is_file():
            cards[extra] = json.loads(path.read_text())
    titles = {**MODEL_TITLES, STRING_READER: "String reader", "tuning": "ANN search"}
    for name, card in cards.items():
        title = titles.get(name, name)
        for entry in card.get("provenance", []):
            command = f"`{entry['command']}`" if entry.get("command") else "not recorded"
            rows.append(f"| {title} (`{name}`) | {entry['what']} | `{entry['commit'] or 'outside git'}` | {command} |")
    return "\n".join(rows) + "\n"


NUMBERS = ROOT / "benchmarks" / "numbers.json"  # tools.reports.number_report writes it
NUMBERS_PREVIOUS = ROOT / "benchmarks" / "numbers_previous_releases.json"  # the same numbers, read by earlier releases
NUMBER_ROWS = {
    "canvas": "on a canvas, digits apart",
    "paper_photo": "photographed on paper (uneven light, JPEG 75), digits apart",
    "canvas_touching_2_4": "on a canvas, touching, 2-4 digits",
    "canvas_touching_5_8": "on a canvas, touching, 5-8 digits",
    "paper_photo_touching_2_4": "on paper, touching, 2-4 digits",
    "paper_photo_touching_5_8": "on paper, touching, 5-8 digits",
    "typeface_canvas_touching_2_8": "typefaces no string reader saw, on a canvas, touching, 2-8 digits",
    "typeface_paper_photo_touching_2_8": "typefaces no string reader saw, on paper, touching, 2-8 digits",
}
EARLIER_READERS = ("first_string_reader", "over_segmentation", "before_cutting")


def numbers_table(results: dict | None = None, previous: dict | None = None) -> str:
    """docs/numbers.md's table: this release's figures (benchmarks/numbers.json) beside earlier releases'."""
    results = json.loads(NUMBERS.read_text()) if results is None else results
    previous = json.loads(NUMBERS_PREVIOUS.read_text()) if previous is None else previous
    lines = [
        "| input | whole number read exactly | previous release (first string reader) | over-segmentation "
        "| before cutting | per digit, this release (dropped / added) | numbers |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, title in NUMBER_ROWS.items():
        row = results[key]
        count = row.get("numbers", row.get("numbers_apart"))
        decimals = 0 if count == 100 else 1  # a hundred numbers: whole points
        earlier = [_percent(previous.get(key, {}).get(column), decimals) for column in EARLIER_READERS]
        per_digit = (
            f"{_percent(row['digit_accuracy'], 1)} ({row['dropped']} / {row['added']} of {row['digits']})"
            if "digits" in row
            else ""
        )
        exact = _percent(row["exact"], decimals)
        lines.append(f"| {title} | **{exact}** | {' | '.join(earlier)} | {per_digit} | {count} |")
    return "\n".join(lines) + "\n"


def _percent(share: float | None, decimals: int) -> str:
    return "" if share is None else f"{100 * share:.{decimals}f} %"


EXPERIMENTS = {  # section: a recorded series of experiments, one row a recipe
    "experiments": ROOT / "benchmarks" / "degraded_share_experiments.json",
    "letter-part": ROOT / "benchmarks" / "letter_part_experiments.json",
    "string-reader": ROOT / "benchmarks" / "string_reader_experiments.json",
}


def experiments_table(path: Path) -> str:
    """A recorded series of experiments: one row a recipe, the best of each column (by its "better") in bold."""
    record = json.loads(path.read_text())
    columns = record["columns"]
    pick = {"higher": max, "lower": min}
    best = {key: pick[spec["better"]](row[key] for row in record["rows"]) for key, spec in columns.items()}
    titles = [spec["title"] for spec in columns.values()]
    lines = [f"| {record['first_column']} | " + " | ".join(titles) + " |", "|---" * (len(columns) + 1) + "|"]
    for row in record["rows"]:
        cells = [_percent(row[key], spec["decimals"]) for key, spec in columns.items()]
        cells = [f"**{cell}**" if row[key] == best[key] else cell for cell, key in zip(cells, columns, strict=True)]
        lines.append(f"| {row['recipe']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    tables = {
        "models": results_table(),
        "calibration": calibration_table(),
        "scale": scale_table(),
        "provenance": provenance_table(),
        "numbers": numbers_table(),
        **{section: experiments_table(path) for section, path in EXPERIMENTS.items()},
        "styles-before-after": styles_before_after(),
        "families-before-after": families_before_after(),
    }
    for section, table in tables.items():
        write_section(section, table)
    print("\n".join(tables.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
