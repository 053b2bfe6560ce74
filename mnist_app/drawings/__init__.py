"""Drawings the room chose to share: storage (`store`), migrations (`schema`), statistics (`summary`).

`python -m mnist_app.drawings stats|export|import|forget` works on the same database as the app
(`MNIST_APP_DB`, default: a SQLite file under data/).
"""

from mnist_app.drawings.store import (
    Answer,
    DrawingsError,
    SharedDrawing,
    ShareRefused,
    Store,
    database_url,
    new_drawing,
    new_uid,
    png_array,
    png_bytes,
)
from mnist_app.drawings.summary import RoomSummary, room_summary

__all__ = [
    "Answer",
    "DrawingsError",
    "RoomSummary",
    "ShareRefused",
    "SharedDrawing",
    "Store",
    "database_url",
    "new_drawing",
    "new_uid",
    "png_array",
    "png_bytes",
    "room_summary",
]
