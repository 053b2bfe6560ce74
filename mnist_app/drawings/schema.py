"""The drawings database's tables and its versioned migrations.

`migrate(engine)` brings any database to `LATEST`, one numbered step at a time, each in its own
transaction, and records the version reached in `schema_version`. A later change adds a step
(ALTER TABLE ..., a data copy) and never edits an old one, so an existing room keeps its drawings.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)


def _columns_v1() -> list[sa.Column]:
    """The table as version 1 made it (fresh Column objects: a column belongs to one table)."""
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        # Made by the app before the insert: sharing twice (a double click, a retried request) stores one row.
        sa.Column("uid", sa.String(32), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session", sa.String(32), nullable=False),  # random per browser session; nothing personal
        sa.Column("app_version", sa.String(32), nullable=False),
        sa.Column("model_versions", sa.JSON, nullable=False),  # {"cnn": "2026-11-21T...", ...}
        sa.Column("model_input", sa.LargeBinary, nullable=False),  # 28x28 greyscale PNG, as the models saw it
        sa.Column("original", sa.LargeBinary, nullable=False),  # the canvas or photo as drawn, PNG
        sa.Column("answers", sa.JSON, nullable=False),  # {"cnn": {"digit": 7, "confidence": 0.99}, ...}
        sa.Column("label", sa.Integer, nullable=True),  # 0-9, or NULL when the models disagree and nobody said
        sa.Column("label_source", sa.String(16), nullable=False),  # "models", "user", "import" or "none"
    ]


# Version 3: the digit each shown model answered, in a column of its own (also kept in `answers`).
ANSWER_COLUMNS = {"ann": "answer_ann", "cnn": "answer_cnn"}

drawings = sa.Table(
    "drawings",
    metadata,
    *_columns_v1(),
    # Version 2: a drawing that does not look like a digit waits out of the gallery until a presenter shows it.
    sa.Column("held_back", sa.Boolean, nullable=False, server_default=sa.false()),
    *[sa.Column(column, sa.SmallInteger, nullable=True) for column in ANSWER_COLUMNS.values()],
    sa.Index("ix_drawings_created_at", "created_at"),
    # Version 2 too: the Room tab counts the held back, and walks the shown newest first, every refresh.
    sa.Index("ix_drawings_held_back_created_at", "held_back", "created_at"),
    # Version 3: everything the Room tab's counts group by, so they come from this index, not the rows.
    sa.Index("ix_drawings_counts", "held_back", "label", "label_source", *ANSWER_COLUMNS.values()),
)


def answer_digit(model: str) -> sa.ColumnElement[int]:
    """A model's answer (digit) in SQL: its own column for the shown models, else read from the JSON;
    NULL for a model that did not answer."""
    if model in ANSWER_COLUMNS:
        return drawings.c[ANSWER_COLUMNS[model]]
    return drawings.c.answers[(model, "digit")].as_integer()


def _create_v1(connection: Connection) -> None:
    version_1 = sa.Table("drawings", sa.MetaData(), *_columns_v1(), sa.Index("ix_drawings_created_at", "created_at"))
    version_1.create(connection)


def _add_held_back_v2(connection: Connection) -> None:
    column = "held_back BOOLEAN NOT NULL DEFAULT FALSE"
    connection.execute(sa.text(f"ALTER TABLE drawings ADD COLUMN {column}"))  # drawings shared before: shown
    connection.execute(sa.text("CREATE INDEX ix_drawings_held_back_created_at ON drawings (held_back, created_at)"))


def _answer_columns_v3(connection: Connection) -> None:
    table = sa.table("drawings", sa.column("answers", sa.JSON), *[sa.column(c) for c in ANSWER_COLUMNS.values()])
    for model, column in ANSWER_COLUMNS.items():
        connection.execute(sa.text(f"ALTER TABLE drawings ADD COLUMN {column} SMALLINT"))
        connection.execute(sa.update(table).values({column: table.c.answers[(model, "digit")].as_integer()}))
    columns = ", ".join(["held_back", "label", "label_source", *ANSWER_COLUMNS.values()])
    connection.execute(sa.text(f"CREATE INDEX ix_drawings_counts ON drawings ({columns})"))


# Step n brings version n-1 to n. Append new steps; never edit or reorder old ones.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_create_v1, _add_held_back_v2, _answer_columns_v3)
LATEST = len(MIGRATIONS)


def current_version(connection: Connection) -> int:
    if not sa.inspect(connection).has_table("schema_version"):
        return 0
    return connection.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0


def migrate(engine: Engine) -> int:
    """Apply the missing steps; returns the version now in place. Safe to call from many processes."""
    with engine.begin() as connection:
        _lock(connection)
        schema_version.create(connection, checkfirst=True)
        version = current_version(connection)
        for number in range(version + 1, LATEST + 1):
            MIGRATIONS[number - 1](connection)
            connection.execute(sa.insert(schema_version).values(version=number))
        return max(version, LATEST)


def _lock(connection: Connection) -> None:
    """One migrating process at a time: replicas that start together must not both create tables."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(28281)"))  # released at commit
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # takes the write lock now (waits busy_timeout)
