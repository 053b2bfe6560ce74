"""Charts of the models (Models tab, Room tab): errors, training, confusion, calibration, size, tuning."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from mnist_app.ui.charts import DIGIT_COLOURS, DIGITS, HIGHLIGHT, MUTED, compact


def metric_bars(names: Sequence[str], values: Sequence[float], title: str, axis: str, fmt: str) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=list(names),
            y=list(values),
            marker_color=DIGIT_COLOURS[: len(names)],
            text=[format(v, fmt) for v in values],
            textposition="outside",
            cliponaxis=False,
        )
    )
    fig.update_yaxes(title=axis)
    return compact(fig, 300, title)


def training_curves(history: dict[str, list[float]], title: str, fine_tuned_after: int | None = None) -> go.Figure:
    """Loss and accuracy per epoch, training vs validation; a dotted line where fine-tuning began."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    epochs = list(range(1, len(history.get("loss", [])) + 1))
    for column, metric in enumerate(("loss", "accuracy"), start=1):
        for prefix, colour, label in (("", "#1f77b4", "train"), ("val_", "#ff7f0e", "validation")):
            values = history.get(prefix + metric)
            if values:
                fig.add_trace(
                    go.Scatter(x=epochs, y=values, name=label, line_color=colour, showlegend=column == 1),
                    row=1,
                    col=column,
                )
    fig.update_xaxes(title="epoch")
    if fine_tuned_after:
        for column in (1, 2):
            fig.add_vline(x=fine_tuned_after + 0.5, line_dash="dot", line_color="grey", row=1, col=column)
    fig = compact(fig, 320, title)
    fig.update_layout(showlegend=True)
    return fig


def confusion_heatmap(matrix: np.ndarray, title: str) -> go.Figure:
    """Counts of true (rows) vs predicted (columns) digits; the diagonal is dimmed to show mistakes."""
    off_diagonal = matrix.astype(float).copy()
    np.fill_diagonal(off_diagonal, np.nan)
    fig = go.Figure(
        go.Heatmap(
            z=off_diagonal,
            x=DIGITS,
            y=DIGITS,
            colorscale="Reds",
            zmin=0,  # no mistakes at all stays white, instead of one uniform colour
            zmax=max(1.0, float(np.nanmax(off_diagonal)) if np.isfinite(off_diagonal).any() else 1.0),
            text=matrix,
            texttemplate="%{text}",
            hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
            showscale=False,
        )
    )
    fig.update_yaxes(autorange="reversed", title="true digit", type="category")
    fig.update_xaxes(title="predicted digit", type="category", side="top")
    return compact(fig, 420, title)


def reliability_diagram(before: dict, after: dict, title: str) -> go.Figure:
    """Mean confidence against accuracy per confidence bin; the diagonal is perfect calibration.

    Marker size shows how many test images fall in each bin (most sit near 100 %)."""
    fig = go.Figure(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            line={"dash": "dot", "color": MUTED},
            name="perfectly calibrated",
            hoverinfo="skip",
        )
    )
    for table, label, colour in ((before, "raw", MUTED), (after, "calibrated", HIGHLIGHT)):
        points = [
            (c, a, n) for c, a, n in zip(table["confidence"], table["accuracy"], table["count"], strict=True) if n
        ]
        fig.add_trace(
            go.Scatter(
                x=[c for c, _, _ in points],
                y=[a for _, a, _ in points],
                mode="lines+markers",
                name=label,
                line_color=colour,
                marker={"size": [6 + 3 * np.log10(n) for _, _, n in points]},
                customdata=[n for _, _, n in points],
                hovertemplate="confidence %{x:.1%}: right %{y:.1%} of %{customdata} images<extra>" + label + "</extra>",
            )
        )
    fig.update_xaxes(title="confidence", range=[0, 1.02], tickformat=".0%")
    fig.update_yaxes(title="accuracy", range=[0, 1.02], tickformat=".0%")
    fig = compact(fig, 360, title)
    fig.update_layout(showlegend=True, legend={"x": 0.02, "y": 0.98})
    return fig


def size_curve(curve: list[dict], title: str) -> go.Figure:
    """Validation accuracy against file size, one point per number of trees."""
    fig = go.Figure(
        go.Scatter(
            x=[point["megabytes"] for point in curve],
            y=[point["val_accuracy"] * 100 for point in curve],
            mode="lines+markers+text",
            text=[f"{point['trees']} trees" for point in curve],
            textposition="bottom right",
        )
    )
    fig.update_xaxes(title="model files (MB)")
    fig.update_yaxes(title="validation accuracy (%)")
    return compact(fig, 320, title)


def tuning_scatter(trials: list[dict], shipped: dict, title: str) -> go.Figure:
    """Every trial of the search: validation accuracy against parameters, sized by epochs; the shipped ANN starred."""
    fig = go.Figure(
        go.Scatter(
            x=[t["parameters"] for t in trials],
            y=[t["val_accuracy"] * 100 for t in trials],
            mode="markers",
            marker={"size": [6 + 2 * (t.get("epochs") or 0) for t in trials], "opacity": 0.7},
            text=[
                f"trial {t['trial']}: {t['hyperparameters']['units']} units, {t.get('epochs')} epochs" for t in trials
            ],
            hovertemplate="%{text}<br>%{y:.2f} %<extra></extra>",
            name="trials",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[shipped["parameters"]],
            y=[shipped["val_accuracy"] * 100],
            mode="markers",
            name="shipped settings",
            marker={"symbol": "star", "size": 16, "color": "#d62728"},
        )
    )
    fig.update_xaxes(title="parameters", type="log")
    fig.update_yaxes(title="validation accuracy (%)")
    fig = compact(fig, 340, title)
    fig.update_layout(showlegend=True)
    return fig
