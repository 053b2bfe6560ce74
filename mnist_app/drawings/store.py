"""Shared drawings in a real database: share, correct, list, count, delete, export and import.

Any SQLAlchemy URL works. The default is an embedded SQLite file in WAL mode (readers never block
the writer, and writers wait `busy_timeout` for each other instead of failing); replicas share one
PostgreSQL database (`postgresql+psycopg://...`). Nothing here imports Streamlit.
"""

from __future__ import annotations

import datetime
import io
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from mnist_app import __version__
from mnist_app.config import DEFAULT_DRAWINGS_DB, IMAGE_SIDE, ROOM_SETTINGS, SHOWN_MODELS
from mnist_app.drawings.schema import ANSWER_COLUMNS, answer_digit, drawings, migrate

ENV_VAR = "MNIST_APP_DB"


class DrawingsError(RuntimeError):
    """The database cannot be reached or used; the message says which one and why."""


class ShareRefused(ValueError):
    """A share the room does not take (the room is full, the image too large); nothing was stored."""


@dataclass(frozen=True)
class Answer:
    """One model's reading of a shared drawing."""

    digit: int
    confidence: float


@dataclass(frozen=True)
class SharedDrawing:
    """A drawing as stored (images as PNG bytes)."""

    uid: str
    created_at: datetime.datetime
    session: str
    model_input: bytes
    original: bytes
    answers: dict[str, Answer]
    label: int | None
    label_source: str
    app_version: str = __version__
    model_versions: dict[str, str] = field(default_factory=dict)
    held_back: bool = False  # kept out of the gallery until a presenter shows it (it does not look like a digit)

    def missed_by(self) -> list[str]:
        """The models whose answer differs from the label (none when there is no label)."""
        if self.label is None:
            return []
        return [name for name, answer in self.answers.items() if answer.digit != self.label]


def new_drawing(
    model_input: np.ndarray,
    original: np.ndarray,
    answers: dict[str, Answer],
    session: str,
    correction: int | None = None,
    model_versions: dict[str, str] | None = None,
    held_back: bool = False,
) -> SharedDrawing:
    """A drawing ready to share. Its label is the person's correction, else the models' agreed answer."""
    digits = {answer.digit for answer in answers.values()}
    if correction is not None:
        label, source = int(correction), "user"
    elif len(digits) == 1:
        label, source = digits.pop(), "models"
    else:
        label, source = None, "none"  # the models disagree and nobody said: counted, never scored
    return SharedDrawing(
        uid=new_uid(),
        created_at=datetime.datetime.now(datetime.UTC),
        session=session,
        model_input=png_bytes(model_input),
        original=png_bytes(original),
        answers=answers,
        label=label,
        label_source=source,
        model_versions=model_versions or {},
        held_back=held_back,
    )


def database_url() -> str:
    return os.environ.get(ENV_VAR) or DEFAULT_DRAWINGS_DB


def new_uid() -> str:
    return uuid.uuid4().hex


def png_bytes(image: np.ndarray) -> bytes:
    """A uint8 greyscale, RGB or RGBA array (or floats in [0, 1]) as PNG bytes."""
    if image.dtype != np.uint8:
        image = np.clip(np.asarray(image, np.float32) * 255.0, 0, 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def png_array(data: bytes) -> np.ndarray:
    """PNG bytes of a model input -> uint8 (28, 28)."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("L").resize((IMAGE_SIDE, IMAGE_SIDE)), dtype=np.uint8)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL mode and a busy timeout on every connection."""
    try:
        engine = sa.create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError) as error:
        raise DrawingsError(f"cannot use the drawings database {_safe(url)}: {error}") from error
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DrawingsError(
                    f"cannot create the folder for the drawings database {database}: {error}"
                ) from error

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 (DBAPI objects)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # many sessions read while one writes
            cursor.execute(f"PRAGMA busy_timeout={ROOM_SETTINGS.busy_timeout_ms}")  # wait for a writer, don't fail
            cursor.close()

    return engine


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):
        return "(unparseable URL)"


class Store:
    """The shared drawings behind one database URL. The schema is created (migrated) on first use."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or database_url()
        self.engine = make_engine(self.url)
        self._ready = False

    @property
    def where(self) -> str:
        return _safe(self.url)

    def _connect(self) -> Engine:
        if not self._ready:
            self._guard(lambda: migrate(self.engine))
            self._ready = True
        return self.engine

    def _guard(self, work):  # noqa: ANN001, ANN202 (a thunk and its result)
        try:
            return work()
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise DrawingsError(f"the drawings database {self.where} failed: {reason}") from error

    def share(self, drawing: SharedDrawing) -> bool:
        """Store a drawing; returns False when one with the same uid was stored already.
        Raises ShareRefused, storing nothing, when the room is full or an image is too large."""
        largest = max(len(drawing.original), len(drawing.model_input))
        if largest > ROOM_SETTINGS.max_image_bytes:
            raise ShareRefused(
                f"the drawing is too large to share ({largest / 1e6:.1f} MB; at most "
                f"{ROOM_SETTINGS.max_image_bytes / 1e6:.0f} MB)"
            )
        if self.count() >= ROOM_SETTINGS.max_drawings:
            raise ShareRefused(
                f"the room is full ({ROOM_SETTINGS.max_drawings:,} drawings); the presenter can make room"
            )
        row = {
            "uid": drawing.uid,
            "created_at": drawing.created_at,
            "session": drawing.session,
            "app_version": drawing.app_version,
            "model_versions": drawing.model_versions,
            "model_input": drawing.model_input,
            "original": drawing.original,
            "answers": {name: {"digit": a.digit, "confidence": a.confidence} for name, a in drawing.answers.items()},
            "label": drawing.label,
            "label_source": drawing.label_source,
            "held_back": drawing.held_back,
            **{column: _digit(drawing.answers.get(model)) for model, column in ANSWER_COLUMNS.items()},
        }
        engine = self._connect()

        def insert() -> bool:
            try:
                with engine.begin() as connection:
                    connection.execute(sa.insert(drawings).values(**row))
            except IntegrityError:
                return False  # the same press arrived twice: it is stored once
            return True

        return self._guard(insert)

    def relabel(self, uid: str, label: int) -> bool:
        """A person's correction; returns whether the drawing exists."""
        if not 0 <= label <= 9:
            raise ValueError(f"a label is a digit from 0 to 9, not {label}")
        update = sa.update(drawings).where(drawings.c.uid == uid).values(label=label, label_source="user")
        return self._write(update) > 0

    def reveal(self, uid: str) -> bool:
        """Show a held-back drawing in the gallery; returns whether the drawing exists."""
        return self._write(sa.update(drawings).where(drawings.c.uid == uid).values(held_back=False)) > 0

    def delete(self, uid: str) -> bool:
        return self._write(sa.delete(drawings).where(drawings.c.uid == uid)) > 0

    def forget(self) -> int:
        """Delete every drawing; returns how many there were."""
        return self._write(sa.delete(drawings))

    def _write(self, statement: sa.Executable) -> int:
        engine = self._connect()

        def run() -> int:
            with engine.begin() as connection:
                return connection.execute(statement).rowcount

        return self._guard(run)

    def count(self, held_back: bool | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(drawings)
        if held_back is not None:
            query = query.where(drawings.c.held_back == held_back)
        return self.read(query).scalar_one()

    def latest(
        self,
        limit: int | None = None,
        with_images: bool = True,
        held_back: bool | None = None,
        misses_first: bool = False,
    ) -> list[SharedDrawing]:
        """Newest first; without images, only what statistics need is read. `held_back`: only the drawings
        held back (True), only those shown (False), or all (None). `misses_first`: drawings some model
        answered wrong (against their label) come first, newest first within each group."""
        columns = (
            list(drawings.c) if with_images else [c for c in drawings.c if c.name not in ("model_input", "original")]
        )
        query = sa.select(*columns).order_by(drawings.c.created_at.desc(), drawings.c.id.desc()).limit(limit)
        if held_back is not None:
            query = query.where(drawings.c.held_back == held_back)
        if not misses_first:
            return [_drawing(row._mapping) for row in self.read(query).all()]
        # Two walks down the time index, each stopping at `limit` rows: the misses, then the rest.
        missed = sa.or_(*[answer_digit(name) != drawings.c.label for name in SHOWN_MODELS])  # NULL: no miss
        misses = [_drawing(row._mapping) for row in self.read(query.where(missed)).all()]
        if limit is not None and len(misses) >= limit:
            return misses
        others = query.where(sa.not_(sa.func.coalesce(missed, False)))
        if limit is not None:
            others = others.limit(limit - len(misses))
        return misses + [_drawing(row._mapping) for row in self.read(others).all()]

    def read(self, query: sa.Executable) -> sa.Result:
        """Run a query; its rows are fetched before the connection goes back to the pool."""
        engine = self._connect()

        def run() -> sa.Result:
            with engine.connect() as connection:
                return connection.execute(query).freeze()()  # fetched before the connection goes back

        return self._guard(run)

    def export_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The labelled drawings as MNIST does it: uint8 (n, 28, 28) images and uint8 labels, oldest first."""
        labelled = [d for d in reversed(self.latest()) if d.label is not None]
        images = np.stack([png_array(d.model_input) for d in labelled]) if labelled else np.zeros((0, 28, 28), np.uint8)
        return images.astype(np.uint8), np.array([d.label for d in labelled], dtype=np.uint8)

    def import_arrays(self, images: np.ndarray, labels: np.ndarray, session: str = "import") -> int:
        """Store MNIST-shaped drawings (e.g. another room's export); returns how many."""
        now = datetime.datetime.now(datetime.UTC)
        for image, label in zip(images, labels, strict=True):
            png = png_bytes(np.asarray(image, dtype=np.uint8))
            drawing = SharedDrawing(new_uid(), now, session, png, png, {}, int(label), "import")
            self.share(drawing)
        return len(images)


def _digit(answer: Answer | None) -> int | None:
    return None if answer is None else answer.digit


def _drawing(row: sa.RowMapping) -> SharedDrawing:
    answers = {name: Answer(int(a["digit"]), float(a["confidence"])) for name, a in (row["answers"] or {}).items()}
    created = row["created_at"]
    if created.tzinfo is None:  # SQLite keeps no time zone; every time is stored in UTC
        created = created.replace(tzinfo=datetime.UTC)
    return SharedDrawing(
        uid=row["uid"],
        created_at=created,
        session=row["session"],
        model_input=row.get("model_input", b""),
        original=row.get("original", b""),
        answers=answers,
        label=row["label"],
        label_source=row["label_source"],
        app_version=row["app_version"],
        model_versions=dict(row["model_versions"] or {}),
        held_back=bool(row.get("held_back", False)),
    )
