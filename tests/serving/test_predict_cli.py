"""`python -m mnist_app.predict`: good files classified, bad ones reported, never a crash."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from tools.inputs.synthetic_drawings import render

PREDICT = [sys.executable, "-m", "mnist_app.predict"]


def make_files(folder):
    """Three readable digits (drawing, paper scan, JPEG photo) and three bad files."""
    Image.fromarray(render(7, pen=20)).save(folder / "seven.png")
    Image.fromarray(255 - render(2, pen=12)[:, :, 0]).save(folder / "two-on-paper.bmp")
    Image.fromarray(255 - render(4, pen=30)[:, :, 0]).convert("RGB").save(folder / "four.jpg", quality=85)
    Image.fromarray(np.full((60, 60), 255, np.uint8)).save(folder / "blank.png")
    (folder / "notes.txt").write_text("not an image")
    (folder / "broken.png").write_bytes((folder / "seven.png").read_bytes()[:200])
    return {"seven.png": 7, "two-on-paper.bmp": 2, "four.jpg": 4}, [
        "blank.png",
        "notes.txt",
        "broken.png",
        "missing.png",
    ]


def test_json_output_for_a_mix_of_good_and_bad_files(tmp_path, predict_cli):
    good, bad = make_files(tmp_path)
    files = [str(tmp_path / name) for name in [*good, *bad]]
    result = predict_cli(["--json", *files])  # the CLI's own main; `python -m` itself: the refusal test below
    assert result.returncode == 1  # some files failed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == files
    by_name = {line["file"].rsplit("/", 1)[-1]: line for line in lines}
    for name, digit in good.items():
        predictions = by_name[name]["predictions"]
        assert set(predictions) == {"ann", "cnn", "rnn", "logreg", "forest"}
        assert predictions["cnn"]["digit"] == digit and predictions["ann"]["digit"] == digit
        assert len(predictions["cnn"]["probabilities"]) == 10
        assert abs(sum(predictions["cnn"]["probabilities"]) - 1) < 1e-4
    assert "no ink" in by_name["blank.png"]["error"]
    assert "not an image" in by_name["notes.txt"]["error"]
    assert "damaged or truncated" in by_name["broken.png"]["error"]
    assert "cannot read the file" in by_name["missing.png"]["error"]


def test_text_output_and_model_choice(tmp_path, predict_cli):
    good, _ = make_files(tmp_path)
    files = [str(tmp_path / name) for name in good]
    result = predict_cli(["--models", "cnn,ann", *files])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(files[0]) and "cnn 7 (" in lines[0] and "ann 7 (" in lines[0] and "rnn" not in lines[0]


def test_unknown_model_name_is_refused():
    """Refused by the real command, before TensorFlow starts."""
    result = subprocess.run([*PREDICT, "--models", "svm", "x.png"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--models takes names" in result.stderr


def test_a_letter_is_named_in_text_and_json(tmp_path, predict_cli):
    from tools.inputs.synthetic_drawings import LETTERS, render_strokes

    Image.fromarray(render_strokes(LETTERS["B"], pen=16)).save(tmp_path / "b.png")
    text = predict_cli(["--models", "cnn", str(tmp_path / "b.png")])
    assert "(looks like the letter B, not a digit)" in text.stdout, text.stdout
    line = json.loads(predict_cli(["--json", str(tmp_path / "b.png")]).stdout)
    assert line["looks_like_a_letter"] == "B" and line["looks_like_a_digit"] is False


def test_the_cli_reads_every_file_as_the_app_does(tmp_path, predict_cli):
    """One reader behind both doors: on the same files, the CLI's JSON and the app's readings (the Upload
    tab's, for a digit and for a number) give the same digits, confidences and digit-check verdicts."""
    from mnist_app.config import SHOWN_MODELS
    from mnist_app.reading.uploads import decode_image
    from mnist_app.ui import digit_view, number_view
    from tools.inputs.number_images import drawn_number, touching_drawing
    from tools.inputs.synthetic_drawings import LETTERS, render_strokes

    digits = {"seven.png": render(7, pen=20), "letter-b.png": render_strokes(LETTERS["B"], pen=16)}
    numbers = {
        "year.png": drawn_number("2026", np.random.default_rng(2), pen=8),
        "touching.png": touching_drawing("9876", advance=0.35),
    }
    for name, image in {**digits, **numbers}.items():
        Image.fromarray(image).save(tmp_path / name)
    for name in digits:
        path = tmp_path / name
        cli = json.loads(predict_cli(["--json", str(path)]).stdout)
        app = digit_view.read(decode_image(path.read_bytes()), "auto").as_json()
        assert {key: value for key, value in cli.items() if key.startswith("looks_like")} == {
            key: value for key, value in app.items() if key.startswith("looks_like")
        }, name
        assert {model: cli["predictions"][model] for model in SHOWN_MODELS} == app["predictions"], name
    assert cli["looks_like_a_letter"] == "B"  # the check spoke, so agreeing is not agreeing on nothing
    for name in numbers:
        path = tmp_path / name
        app = number_view.read(decode_image(path.read_bytes()), "auto")
        for model in SHOWN_MODELS:
            cli = json.loads(predict_cli(["--number", "--json", "--models", model, str(path)]).stdout)
            assert {key: value for key, value in cli.items() if key != "file"} == app.as_json(model), (name, model)
    assert any(digit["read_with_neighbours"] for digit in app.as_json("cnn")["digits"])
