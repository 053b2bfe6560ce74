"""Before-and-after tables, from the records of two releases measured by the same command.

docs/styles.md: the style set's held-out hand, `benchmarks/styles_previous_release.json` (the previous release's
models and check, by `python -m tools.reports.style_report --models-dir DIR`) beside `benchmarks/styles.json`.
docs/families.md: each typeface family left out, `benchmarks/family_check.json`: the check as given (fitted on
no typeface, as the previous release's) beside the check refitted without that family. Targets are the issues';
each says whether this release meets it.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from pathlib import Path

from mnist_app.config import ROOT

BENCHMARKS = ROOT / "benchmarks"
AT_MOST, AT_LEAST = operator.le, operator.ge


def _share(part: float, whole: float = 1, decimals: int = 1) -> str:
    return f"{100 * part / whole:.{decimals}f} %"


def _target(value: float | None, target: tuple[Callable[[float, float], bool], float] | None) -> str:
    if target is None:
        return ""
    compare, bound = target
    sign = "≤" if compare is AT_MOST else "≥"
    if value is None:
        return f"{sign} {_share(bound, decimals=0)}"
    return f"{sign} {_share(bound, decimals=0)}: " + ("met" if compare(value, bound) else "**missed**")


def _table(header: list[str], rows: list[tuple[str, str, str, str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    lines += [f"| {title} | {before} | **{after}** | {target} |" for title, before, after, target in rows]
    return "\n".join(lines) + "\n"


def _style_rows(report: dict) -> dict[str, str]:
    """One release's figures on the held-out hand, as the table shows them."""
    styles, letters, totals = report["styles"], report["letters"], report["totals"]

    def both(forms: list[str], counted: str) -> str:
        n = sum(styles[form]["drawings"] for form in forms)
        cnn, ann = (sum(styles[form][f"{name}_{counted}"] for form in forms) for name in ("cnn", "ann"))
        return f"{cnn} / {ann} of {n}"

    mnist = report.get("mnist_test")
    return {
        "cnn": _share(totals["cnn_right_sure"]),
        "ann": _share(totals["ann_right_sure"]),
        "flag": both(["1 with a flag"], "right_sure"),
        "european": both(["1 with a long flag (European)"], "right"),
        "sevens": both(["7 plain", "7 with a crossbar", "7 with a hook"], "right_sure"),
        "called_letter": _share(totals["called_letter"]),
        "not_like_a_digit": _share(totals["not_like_a_digit"]),
        "capitals": _share(totals["capitals_flagged"]),
        "s": f"{letters['S']['flagged']} of {letters['S']['drawings']}",
        "mnist": "not measured" if mnist is None else _share(mnist["flagged"], mnist["digits"], 2),
        "mnist_letter": "not measured" if mnist is None else _share(mnist["called_letter"], mnist["digits"], 2),
    }


STYLE_ROWS = {  # key: (title, target)
    "cnn": ("CNN right and sure, all 22 forms", (AT_LEAST, 0.99)),
    "ann": ("ANN right and sure, all 22 forms", None),
    "flag": ("1 with a flag: CNN / ANN right and sure", None),
    "european": ("1 with a long flag (European): CNN / ANN right", None),
    "sevens": ("7 plain, crossed, hooked: CNN / ANN right and sure", None),
    "called_letter": ("digits called a letter", (AT_MOST, 0.01)),
    "not_like_a_digit": ('digits said not to look like a digit ("not a digit")', None),
    "capitals": ("capitals A, B, E, H, K, M, R, X flagged", (AT_LEAST, 0.90)),
    "s": ("capital S flagged (it is also a 5: the page names both)", None),
    "mnist": ("MNIST test digits flagged by the check (this CNN's answers)", (AT_MOST, 0.01)),
    "mnist_letter": ("MNIST test digits called a letter", None),
}
STYLE_VALUES = {"cnn": "cnn_right_sure", "called_letter": "called_letter", "capitals": "capitals_flagged"}


def styles_before_after(
    previous: Path = BENCHMARKS / "styles_previous_release.json", current: Path = BENCHMARKS / "styles.json"
) -> str:
    """docs/styles.md: the held-out hand read by the previous release and by this one."""
    before, after = (json.loads(path.read_text()) for path in (previous, current))
    before_cells, after_cells = _style_rows(before), _style_rows(after)
    values = dict(after["totals"])
    if "mnist_test" in after:
        values["mnist"] = after["mnist_test"]["flagged"] / after["mnist_test"]["digits"]
    rows = [
        (title, before_cells[key], after_cells[key], _target(values.get(STYLE_VALUES.get(key, key)), target))
        for key, (title, target) in STYLE_ROWS.items()
    ]
    return _table(["held-out hand", "previous release", "this release", "target"], rows)


def _pooled(rows: dict, which: str, key: str, of: str) -> float:
    return sum(row[which][key] for row in rows.values()) / sum(row[which][of] for row in rows.values())


def _worst(rows: dict, which: str, key: str, of: str, highest: bool) -> tuple[str, dict[str, int]]:
    """The family with the highest (or lowest) share of `key` among `of`, and its counts."""
    pick = max if highest else min
    family = pick(rows, key=lambda name: rows[name][which][key] / rows[name][which][of])
    return family, rows[family][which]


FAMILY_FIGURES = [  # title, key, counted over, whether the worst family has the highest share, target
    ('digits called a letter or "not a digit"', "not_like_a_digit", "digits", True, (AT_MOST, 0.01)),
    ("digits called a letter", "called_letter", "digits", True, None),
    ("capitals A B E H K M R X flagged", "capitals_flagged", "capitals", False, (AT_LEAST, 0.95)),
]


def families_before_after(path: Path = BENCHMARKS / "family_check.json") -> str:
    """docs/families.md: typeface families left out, the check fitted on no typeface beside the one refitted."""
    rows = json.loads(path.read_text())["families"]
    table_rows = []
    for title, key, of, highest, target in FAMILY_FIGURES:
        before, after = (_pooled(rows, which, key, of) for which in ("shipped", "left_out"))
        table_rows.append((f"{title}, all {len(rows)}", _share(before), _share(after), _target(after, target)))
        worst = {which: _worst(rows, which, key, of, highest) for which in ("shipped", "left_out")}
        cells = [f"{family}, {counts[key]} of {counts[of]}" for family, counts in worst.values()]
        _, after_counts = worst["left_out"]
        table_rows.append((f"{title}, worst family", *cells, _target(after_counts[key] / after_counts[of], target)))
    header = ["typeface families, each left out", "check fitted on no typeface (previous release)"]
    return _table([*header, "refitted without it (this release)", "target"], table_rows)
