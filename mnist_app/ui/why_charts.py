"""Charts of the "Why the CNN wins" panel: each network's confidence against a change, and over a stroke."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from mnist_app.config import MODEL_TITLES
from mnist_app.ui.charts import DIGIT_COLOURS

# The colours the Models tab gives the two networks; the ANN's line is dashed as well, for who cannot tell them apart.
MODEL_COLOURS = {"ann": DIGIT_COLOURS[0], "cnn": DIGIT_COLOURS[1]}
MODEL_DASHES = {"ann": "dash", "cnn": "solid"}
HEIGHT = 260
THUMBNAIL_SIDE = 56  # pixels: the changed inputs shown under each chart


def confidence_lines(
    values: Sequence[float],
    confidence: Mapping[str, np.ndarray],
    unchanged: float,
    axis: str,
    digit: int,
) -> go.Figure:
    """Each network's confidence in `digit` against the change, the unchanged input marked by a dotted line."""
    lines = [_line(name, list(values), line, "%{x}") for name, line in confidence.items()]
    return _figure(lines, axis, digit, [unchanged], "as drawn")


def stroke_lines(
    seconds: np.ndarray, probabilities: Mapping[str, np.ndarray], stroke_starts: Sequence[float], digit: int
) -> go.Figure:
    """Each network's probability of `digit` frame by frame while the pen moved; dotted lines where strokes began."""
    lines = [_line(name, seconds.tolist(), line, "%{x:.2f} s") for name, line in probabilities.items()]
    return _figure(lines, "seconds since the pen first touched", digit, list(stroke_starts[1:]))


def _line(name: str, x: list[float], y: np.ndarray, where: str) -> dict:
    title = MODEL_TITLES.get(name, name)
    return {
        "type": "scatter",
        "x": x,
        "y": np.asarray(y, dtype=float).tolist(),
        "name": title,
        "mode": "lines+markers",
        "marker": {"size": 4},
        "line": {"color": MODEL_COLOURS.get(name), "dash": MODEL_DASHES.get(name, "solid"), "width": 2},
        "hovertemplate": f"{title}: %{{y:.0%}} at {where}<extra></extra>",
    }


def _figure(lines: list[dict], axis: str, digit: int, marks: list[float], mark_label: str = "") -> go.Figure:
    """The figure in one go: Plotly's add_vline and update_* calls cost more than the lines themselves."""
    shapes = [
        {
            "type": "line",
            "x0": x,
            "x1": x,
            "xref": "x",
            "y0": 0,
            "y1": 1,
            "yref": "paper",
            "line": {"dash": "dot", "color": "grey", "width": 1},
        }
        for x in marks
    ]
    notes = [
        # at the foot of the line, where it meets neither the legend nor (mostly) the curves
        {
            "x": x,
            "xref": "x",
            "y": 0,
            "yref": "paper",
            "text": mark_label,
            "showarrow": False,
            "xanchor": "left",
            "yanchor": "bottom",
            "font": {"size": 11, "color": "grey"},
        }
        for x in marks
        if mark_label
    ]
    layout = {
        "height": HEIGHT,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "showlegend": True,
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "xanchor": "left"},
        "xaxis": {"title": {"text": axis}},
        "yaxis": {"title": {"text": f"confidence in {digit}"}, "range": [0, 1.05], "tickformat": ".0%"},
        "shapes": shapes,
        "annotations": notes,
    }
    return go.Figure(data=lines, layout=layout)


def thumbnail_indexes(count: int, unchanged: int) -> list[int]:
    """Five versions to show: both ends, the unchanged input, and one between it and each end."""
    return sorted({0, unchanged // 2, unchanged, (unchanged + count - 1) // 2, count - 1})
