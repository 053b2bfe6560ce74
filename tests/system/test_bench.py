"""The benchmark runs on a tiny setting and writes results in the documented shape."""

from __future__ import annotations

import json
import shutil

import pytest

from tools.bench import app_bench
from tools.reports import report


@pytest.mark.slow
def test_benchmark_writes_valid_results(tmp_path, loaded_once):
    assert (
        app_bench.main(
            ["--repeats", "3", "--batch-images", "500", "--no-browser", "--no-readme", "--out", str(tmp_path)]
        )
        == 0
    )
    results = json.loads((tmp_path / "results.json").read_text())
    assert {
        "machine",
        "preprocess_ms",
        "inference_ms",
        "rerun_model_work_ms",
        "rerun_server_ms",
        "throughput_images_per_s",
        "cold_start_s",
        "rss_mb",
        "train_epoch_s",
        "browser_ms",
        "number_ms",
        "server_cpu_ms_per_drawing",
    } <= set(results)
    assert set(results["inference_ms"]) == {"ann", "cnn", "rnn", "logreg", "forest"}
    for figures in results["inference_ms"].values():
        assert 0 < figures["median"] <= figures["p95"] and figures["predict_median"] > 0
    assert results["preprocess_ms"]["median"] > 0
    assert all(value > 0 for value in results["throughput_images_per_s"].values())
    table = (tmp_path / "results.md").read_text()
    assert "| preprocessing, one 280x280 canvas |" in table
    assert results["number_ms"]["touching"]["median"] > 0 and "| Number mode: a 6-digit number" in table


def test_readme_sections_are_replaced_in_place():
    text = "intro\n<!-- models:start -->\nold\n<!-- models:end -->\noutro\n"
    assert (
        report.replace_section(text, "models", "new\n")
        == "intro\n<!-- models:start -->\nnew\n<!-- models:end -->\noutro\n"
    )
    assert report.replace_section("no markers", "models", "new") == "no markers"


def test_results_table_lists_every_shipped_model():
    table = report.results_table()
    for title in ("ANN", "CNN", "RNN (LSTM)", "Logistic regression", "Random forest"):
        assert f"| {title} (" in table


def test_room_refresh_times_each_part_on_a_filled_database(tmp_path):
    from tools.bench import room_refresh

    figures = room_refresh.measure(f"sqlite:///{tmp_path / 'room.db'}", 500)
    assert set(figures) == {"counts", "held_back_count", "gallery", "refresh"}
    assert all(value > 0 for value in figures.values())


def test_live_benchmark_summary_counts_agreement_per_model_and_input():
    from tools.bench import live_bench

    def row(live: dict, server: dict, touch: bool) -> dict:
        return {"digit": 1, "pen": 20, "slant": 0.0, "touch": touch, "live": live, "server": server}

    same, ann_differs = {"ANN": "7", "CNN": "7"}, {"ANN": "1", "CNN": "7"}
    drawings = [row(same, same, False), row(ann_differs, same, False), row(same, same, True), row(same, same, True)]
    loads = {"on": [1.0, 1.2, 1.1], "blocked": [0.9, 1.0, 1.1], "strip": [1.3, 1.4, 1.5]}
    strokes = [{"first_ms": 40.0, "per_second": 30.0}, {"first_ms": None, "per_second": 20.0}]
    summary = live_bench.summarise(loads, strokes, drawings)
    assert summary["agreement_percent"] == {"both": 75.0, "ANN": 75.0, "CNN": 100.0, "mouse": 50.0, "touch": 100.0}
    assert summary["page_load_s"] == {"on": 1.1, "blocked": 1.0, "strip": 1.4}
    assert summary["first_live_ms"] == 40.0 and summary["updates_per_second"] == 25.0
    assert summary["disagreements"] == [drawings[1]]
    assert "| 75.0 % (ANN 75.0 %, CNN 100.0 %) |" in live_bench.markdown(summary)


def test_write_section_writes_the_page_that_holds_the_section(tmp_path, monkeypatch):
    (tmp_path / "docs").mkdir()
    readme, page = tmp_path / "README.md", tmp_path / "docs" / "results.md"
    readme.write_text("no tables here\n")
    page.write_text("intro\n<!-- bench:start -->\nold\n<!-- bench:end -->\n")
    monkeypatch.setattr(report, "README", readme)
    monkeypatch.setattr(report, "DOCS", tmp_path / "docs")
    assert report.write_section("bench", "new\n") == [page]
    assert page.read_text() == "intro\n<!-- bench:start -->\nnew\n<!-- bench:end -->\n"
    assert readme.read_text() == "no tables here\n"


def test_the_committed_tables_are_what_the_cards_give(tmp_path, monkeypatch):
    """`python -m tools.reports.report` on the committed README and docs/ changes nothing: every table it writes
    (models, calibration, scale-out, provenance, numbers, experiments) matches the cards and benchmarks as committed."""
    shutil.copy(report.README, tmp_path / "README.md")
    shutil.copytree(report.DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns("*.png"))
    monkeypatch.setattr(report, "README", tmp_path / "README.md")
    monkeypatch.setattr(report, "DOCS", tmp_path / "docs")
    assert report.main() == 0
    for page in report.pages():
        committed = (report.ROOT / page.relative_to(tmp_path)).read_text()
        assert page.read_text() == committed, f"{page.name}: run python -m tools.reports.report"


def test_the_numbers_table_shows_each_figure_once_in_its_row():
    from tools.reports.report import numbers_table

    results = {key: {"numbers_apart": 352, "exact": 0.9744} for key in ("canvas", "paper_photo")}
    touching = ("canvas_touching_2_4", "canvas_touching_5_8", "paper_photo_touching_2_4", "paper_photo_touching_5_8")
    for key in (*touching, "typeface_canvas_touching_2_8", "typeface_paper_photo_touching_2_8"):
        results[key] = {
            "numbers": 100,
            "exact": 0.92,
            "digits": 307,
            "digit_accuracy": 0.9837,
            "dropped": 2,
            "added": 3,
        }
    rows = numbers_table(results, {"canvas": {"before_cutting": 0.98}}).splitlines()
    assert len(rows) == 2 + 8
    assert rows[2] == "| on a canvas, digits apart | **97.4 %** |  |  | 98.0 % |  | 352 |"
    assert rows[4] == "| on a canvas, touching, 2-4 digits | **92 %** |  |  |  | 98.4 % (2 / 3 of 307) | 100 |"


def test_the_families_before_after_table_names_the_worst_family_and_judges_each_target(tmp_path):
    from tools.reports.release_tables import families_before_after

    def counts(flagged: int, letters: int, capitals: int) -> dict[str, int]:
        return {
            "digits": 100,
            "not_like_a_digit": flagged,
            "called_letter": letters,
            "capitals": 50,
            "capitals_flagged": capitals,
        }

    record = tmp_path / "family_check.json"
    families = {
        "Plain": {"shipped": counts(1, 0, 50), "left_out": counts(0, 0, 49)},
        "Script": {"shipped": counts(3, 2, 40), "left_out": counts(2, 1, 45)},
    }
    record.write_text(json.dumps({"families": families}))
    rows = families_before_after(record).splitlines()[2:]
    assert rows[0] == '| digits called a letter or "not a digit", all 2 | 2.0 % | **1.0 %** | ≤ 1 %: met |'
    assert rows[1] == (
        '| digits called a letter or "not a digit", worst family | Script, 3 of 100 | **Script, 2 of 100** '
        "| ≤ 1 %: **missed** |"
    )
    assert rows[4] == "| capitals A B E H K M R X flagged, all 2 | 90.0 % | **94.0 %** | ≥ 95 %: **missed** |"
    assert (
        rows[5]
        == "| capitals A B E H K M R X flagged, worst family | Script, 40 of 50 | **Script, 45 of 50** | ≥ 95 %: **missed** |"
    )
