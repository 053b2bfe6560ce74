"""Number mode's words: what the page says of the ink it left out."""

from __future__ import annotations

from mnist_app.serving.reader import Reader
from mnist_app.ui.number_view import ignored_line
from tests.support import specks_beside_305


def test_the_ink_left_out_is_said_with_its_place_among_the_digits(shipped):
    reading = specks_beside_305(Reader({"cnn": shipped["cnn"]}))
    assert ignored_line(reading) == (
        "Left out, not read as digits (grey boxes): a speck before digit #1; a speck between digits #1 and #2."
    )
