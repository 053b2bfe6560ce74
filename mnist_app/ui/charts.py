"""Figures built from plain arrays (no Streamlit here, so they are easy to test).

The Draw tab's live views are light: HTML bars and PNG images. Plotly is for the data and model tabs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

HIGHLIGHT = "#ff4b4b"
MUTED = "#8c9bb0"
DIGITS = [str(d) for d in range(10)]
DIGIT_COLOURS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


MODE_BAR_CLEARANCE = 30  # pixels kept free above chart titles for Plotly's mode bar
BAR_HEIGHT = 64  # pixels of the tallest bar in the HTML bar chart


def probability_bars_html(probabilities: np.ndarray) -> str:
    """All ten probabilities as a small HTML bar chart: the winner highlighted, exact values on hover."""
    winner = int(np.argmax(probabilities))
    columns = []
    for digit, p in enumerate(np.asarray(probabilities, dtype=float)):
        colour = HIGHLIGHT if digit == winner else MUTED
        label = f"{p:.0%}" if p >= 0.05 else "&nbsp;"
        height = max(1, round(p * BAR_HEIGHT))
        columns.append(
            f'<div title="digit {digit}: {p:.2%}" style="flex:1;display:flex;flex-direction:column;'
            f'align-items:center;justify-content:flex-end;min-width:0">'
            f'<span style="font-size:10px;line-height:12px;white-space:nowrap">{label}</span>'
            f'<div style="width:70%;height:{height}px;background:{colour};border-radius:2px 2px 0 0"></div>'
            f'<span style="font-size:12px;line-height:16px">{digit}</span></div>'
        )
    # A screen reader reads the chart as one image: its label carries every value, the likeliest first.
    ranked = sorted(enumerate(np.asarray(probabilities, dtype=float)), key=lambda pair: -pair[1])
    spoken = ", ".join(f"{digit}: {p:.0%}" for digit, p in ranked)
    return (
        f'<div class="probability-bars" role="img" aria-label="Probability of each digit, likeliest first: {spoken}" '
        f'style="display:flex;align-items:flex-end;gap:1px;height:{BAR_HEIGHT + 30}px">{"".join(columns)}</div>'
    )


def enlarged(image: np.ndarray, side: int) -> np.ndarray:
    """A float image in [0, 1] as uint8, enlarged by whole pixels (nearest) to about `side` so pixels stay sharp."""
    pixels = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    repeat = max(1, side // max(pixels.shape))
    return np.kron(pixels, np.ones((repeat, repeat), dtype=np.uint8)) if repeat > 1 else pixels


def channel_grid(maps: np.ndarray, normalise_each: bool = True, gap: int = 1) -> np.ndarray:
    """(height, width, channels) maps as one uint8 image: a grid of panels, one per channel."""
    height, width, channels = maps.shape
    columns = int(np.ceil(np.sqrt(channels * 2)))  # wider than tall: fits a page
    rows = int(np.ceil(channels / columns))
    scale = max(1, 28 // max(height, width))  # small maps enlarged to at least 28 px
    grid = np.full((rows * (height * scale + gap), columns * (width * scale + gap)), 40, np.uint8)
    overall = float(np.abs(maps).max()) or 1.0
    for channel in range(channels):
        panel = maps[:, :, channel].astype(np.float32)
        if normalise_each:
            low, high = float(panel.min()), float(panel.max())
            panel = (panel - low) / (high - low) if high > low else np.zeros_like(panel)
        else:
            panel = panel / (2 * overall) + 0.5
        panel = np.kron(np.clip(panel, 0, 1), np.ones((scale, scale)))
        row, column = divmod(channel, columns)
        top, left = row * (height * scale + gap), column * (width * scale + gap)
        grid[top : top + height * scale, left : left + width * scale] = (panel * 255).astype(np.uint8)
    return grid


def strip(values: np.ndarray, columns: int = 64, cell: int = 6) -> np.ndarray:
    """A vector of activations as rows of grey cells (brighter: larger), for showing many units at once."""
    values = np.asarray(values, dtype=np.float32)
    rows = int(np.ceil(values.size / columns))
    padded = np.zeros(rows * columns, np.float32)
    top = float(values.max()) or 1.0
    padded[: values.size] = np.clip(values / top, 0, 1)
    return (np.kron(padded.reshape(rows, columns), np.ones((cell, cell))) * 255).astype(np.uint8)


def saliency_rgb(saliency: np.ndarray, side: int) -> np.ndarray:
    """Gradient x input as an RGB image: red pushed towards the answer, blue against, white neutral."""
    limit = float(np.abs(saliency).max()) or 1.0
    value = np.clip(saliency / limit, -1, 1)
    towards, against = np.clip(value, 0, 1), np.clip(-value, 0, 1)
    rgb = np.stack([1 - against, 1 - towards - against, 1 - towards], axis=-1)
    repeat = max(1, side // max(saliency.shape))
    rgb = np.repeat(np.repeat(rgb, repeat, axis=0), repeat, axis=1)
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def compact(fig: go.Figure, height: int, title: str | None = None) -> go.Figure:
    # The title sits below Plotly's mode bar (top right, ~28 px), so the bar never covers it.
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": MODE_BAR_CLEARANCE + 36 if title else 10, "b": 10},
        title={
            "text": title,
            "x": 0.01,
            "xanchor": "left",
            "yref": "container",
            "y": 1.0,
            "yanchor": "top",
            "pad": {"t": MODE_BAR_CLEARANCE},
        }
        if title
        else None,
        showlegend=False,
    )
    return fig


def _square_image_axes(fig: go.Figure) -> None:
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False, showgrid=False, zeroline=False)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_layout(plot_bgcolor="rgba(0,0,0,0)")


def mosaic(image: np.ndarray, height: int, title: str | None = None) -> go.Figure:
    """A grey image shown at a fixed height (e.g. a grid of samples)."""
    fig = go.Figure(go.Heatmap(z=image, colorscale="gray", showscale=False, hoverinfo="skip"))
    _square_image_axes(fig)
    return compact(fig, height, title)


def class_bars(train: np.ndarray, test: np.ndarray) -> go.Figure:
    """Images per digit, train and test side by side."""
    fig = go.Figure(
        [
            go.Bar(name="train", x=DIGITS, y=train, marker_color="#1f77b4"),
            go.Bar(name="test", x=DIGITS, y=test, marker_color="#ff7f0e"),
        ]
    )
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category", title="digit")
    fig.update_yaxes(title="images")
    fig = compact(fig, 320, "Images per digit")
    fig.update_layout(showlegend=True)
    return fig


def class_pie(counts: np.ndarray, title: str) -> go.Figure:
    fig = go.Figure(go.Pie(labels=DIGITS, values=counts, sort=False, marker_colors=DIGIT_COLOURS, hole=0.35))
    fig.update_traces(textinfo="label+percent", hovertemplate="digit %{label}: %{value} images<extra></extra>")
    return compact(fig, 300, title)


def image_row(images: np.ndarray, labels: Sequence[str], title: str, colorscale: str = "gray") -> go.Figure:
    """Several same-size images next to each other, each with a caption."""
    count, side = len(images), images.shape[1]
    gap = 2
    row = np.full((side, count * (side + gap) - gap), np.nan, dtype=np.float32)
    for index, image in enumerate(images):
        row[:, index * (side + gap) : index * (side + gap) + side] = image
    fig = go.Figure(go.Heatmap(z=row, colorscale=colorscale, showscale=False, hoverinfo="skip"))
    _square_image_axes(fig)
    for index, label in enumerate(labels):
        fig.add_annotation(
            x=index * (side + gap) + side / 2, y=-2, text=label, showarrow=False, yanchor="bottom", font_size=12
        )
    fig.update_yaxes(range=[side, -6], autorange=False)
    return compact(fig, 170, title)


def pixel_histogram(counts: np.ndarray) -> go.Figure:
    fig = go.Figure(
        go.Bar(x=np.arange(256), y=counts, marker_color="#1f77b4", hovertemplate="level %{x}: %{y}<extra></extra>")
    )
    fig.update_yaxes(type="log", title="pixels (log scale)")
    fig.update_xaxes(title="grey level (0 = background, 255 = full ink)")
    return compact(fig, 320, "Pixel intensities, training set")


def ink_boxes(ink: np.ndarray, labels: np.ndarray) -> go.Figure:
    fig = go.Figure(
        [
            go.Box(y=ink[labels == digit], name=str(digit), marker_color=DIGIT_COLOURS[digit], boxpoints=False)
            for digit in range(10)
        ]
    )
    fig.update_yaxes(title="ink per image (full-ink pixels)")
    fig.update_xaxes(title="digit")
    return compact(fig, 320, "Ink per image, by digit")


def pca_scatter(
    coordinates: np.ndarray, labels: np.ndarray, explained: np.ndarray, here: np.ndarray | None = None
) -> go.Figure:
    """The digits on their first two principal components; `here` marks the user's drawing."""
    fig = go.Figure()
    for digit in range(10):
        points = coordinates[labels == digit]
        fig.add_trace(
            go.Scattergl(
                x=points[:, 0],
                y=points[:, 1],
                mode="markers",
                name=str(digit),
                marker={"size": 4, "color": DIGIT_COLOURS[digit], "opacity": 0.7},
                hovertemplate=f"digit {digit}<extra></extra>",
            )
        )
    if here is not None:
        fig.add_trace(
            go.Scatter(
                x=[float(here[0])],
                y=[float(here[1])],
                mode="markers",
                name="your drawing",
                marker={"symbol": "star", "size": 22, "color": HIGHLIGHT, "line": {"width": 2, "color": "black"}},
                hovertemplate="your drawing<extra></extra>",
            )
        )
    fig.update_xaxes(title=f"PC 1 ({explained[0]:.1%} of variance)")
    fig.update_yaxes(title=f"PC 2 ({explained[1]:.1%} of variance)")
    fig = compact(fig, 480, "Digits on their first two principal components")
    fig.update_layout(showlegend=True, legend_title_text="digit")
    return fig
