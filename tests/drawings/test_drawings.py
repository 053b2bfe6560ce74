"""Shared drawings in a real database: SQLite (the default) and a throwaway PostgreSQL server."""

from __future__ import annotations

import dataclasses
import datetime
import json
import multiprocessing
import os
import subprocess
import sys
import traceback

import numpy as np
import pytest
import sqlalchemy as sa

from deploy.services import have_postgres, throwaway_postgres
from mnist_app.config import ROOT, SHOWN_MODELS
from mnist_app.drawings import Answer, DrawingsError, Store, new_drawing, png_array, room_summary
from mnist_app.drawings import schema as schema_module
from tests.drawings.samples import drawing, share_five

NEEDS_POSTGRES = "needs Debian's postgresql (the Makefile installs it for make test)"


@pytest.fixture(scope="module")
def postgres_url():
    if not have_postgres():
        if os.environ.get("CI"):
            pytest.fail(NEEDS_POSTGRES)  # CI installs it: missing there is a broken setup, not a skip
        pytest.skip(NEEDS_POSTGRES)
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])  # make check: SQLite only
def store(request, tmp_path):
    if request.param == "sqlite":
        yield Store(f"sqlite:///{tmp_path / 'drawings.db'}")
        return
    url = request.getfixturevalue("postgres_url")
    store = Store(url)
    store.forget()
    yield store
    store.forget()


def test_share_list_relabel_delete(store):
    first, second = drawing(7, cnn=7, ann=7), drawing(3, cnn=3, ann=5)
    assert store.share(first) and store.share(second)
    assert store.share(first) is False, "the same press twice is stored once"
    assert store.count() == 2
    latest = store.latest()
    assert [d.uid for d in latest] == [second.uid, first.uid], "newest first"
    assert latest[1].label == 7 and latest[1].label_source == "models"
    assert latest[0].label is None and latest[0].label_source == "none", "the models disagree: no label"
    assert latest[1].model_versions == {"cnn": "t1", "ann": "t2"}
    assert (png_array(latest[1].model_input) == png_array(first.model_input)).all()
    assert latest[1].created_at.tzinfo is not None
    assert store.relabel(second.uid, 3)
    assert store.latest()[0].label == 3 and store.latest()[0].label_source == "user"
    assert store.latest()[0].missed_by() == ["ann"]
    assert store.relabel("no-such-uid", 1) is False
    with pytest.raises(ValueError):
        store.relabel(second.uid, 12)
    assert store.delete(first.uid) and not store.delete(first.uid)
    assert store.count() == 1
    assert store.forget() == 1 and store.count() == 0


def test_room_summary_counts_what_each_model_got_right(store):
    for digit, cnn, ann, correction in [(1, 1, 1, None), (2, 2, 7, 2), (4, 9, 9, 4), (5, 5, 6, None)]:
        store.share(drawing(digit, cnn, ann, correction))
    summary = room_summary(store)
    assert (summary.count, summary.labelled, summary.corrected) == (4, 3, 2)
    assert summary.accuracy == {"ann": pytest.approx(1 / 3), "cnn": pytest.approx(2 / 3)}
    assert summary.confusion["cnn"][4, 9] == 1 and summary.confusion["ann"][2, 7] == 1
    assert summary.confusion["cnn"].sum() == 3


def test_export_and_import_round_trip(store, tmp_path, mnist):
    (_, _), (x_test, y_test) = mnist
    assert store.import_arrays(x_test[:25], y_test[:25]) == 25
    images, labels = store.export_arrays()
    assert images.dtype == np.uint8 and images.shape == (25, 28, 28)
    assert sorted(labels.tolist()) == sorted(y_test[:25].tolist())
    order = np.argsort([int(x.sum()) for x in x_test[:25]])
    assert (np.sort(images.reshape(25, -1).sum(1)) == x_test[:25].reshape(25, -1).sum(1)[order]).all()


def test_a_later_migration_keeps_the_drawings(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Store(url)
    old.share(drawing(8, 8, 8))

    def add_note_column(connection) -> None:
        connection.execute(sa.text("ALTER TABLE drawings ADD COLUMN note VARCHAR(200)"))

    latest = schema_module.LATEST + 1
    monkeypatch.setattr(schema_module, "MIGRATIONS", (*schema_module.MIGRATIONS, add_note_column))
    monkeypatch.setattr(schema_module, "LATEST", latest)
    assert schema_module.migrate(old.engine) == latest
    assert schema_module.migrate(old.engine) == latest, "applied once"
    with old.engine.connect() as connection:
        versions = connection.execute(sa.text("SELECT version FROM schema_version ORDER BY version")).scalars().all()
        assert versions == list(range(1, latest + 1))
        assert "note" in [c["name"] for c in sa.inspect(connection).get_columns("drawings")]
    assert Store(url).count() == 1


def test_sqlite_uses_write_ahead_logging(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'wal.db'}")
    store.count()
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_an_unreachable_database_is_a_clear_error(tmp_path):
    with pytest.raises(DrawingsError, match="127.0.0.1:9"):
        Store("postgresql+psycopg://mnist@127.0.0.1:9/mnist").count()
    with pytest.raises(DrawingsError, match="cannot use"):
        Store("nosuchdialect://x")
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(DrawingsError):
        Store(f"sqlite:///{tmp_path / 'file' / 'drawings.db'}").count()


def share_five_at_once(url: str, session: int, start: object, errors: object) -> None:
    """One writer process: wait for the other nineteen, then share five drawings; a failure is reported."""
    try:
        start.wait(timeout=60)
        share_five(url, session)
    except BaseException:
        errors.put(f"writer {session}: {traceback.format_exc()}")
        raise


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_twenty_processes_share_at_once_and_nothing_is_lost(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'busy.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    Store(url).forget()
    # Twenty processes, like app replicas: each opens its own connections and shares five drawings, all
    # starting at once. Forked from this process, which has the store's modules loaded already (twenty
    # fresh interpreters cost 0.6 CPU-s each to import them); not spawned, since after an AppTest run
    # __main__ is a Streamlit script, which spawned processes would run again.
    fork = multiprocessing.get_context("fork")
    start, errors = fork.Barrier(20), fork.Queue()
    writers = [fork.Process(target=share_five_at_once, args=(url, s, start, errors)) for s in range(20)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert [w.exitcode for w in writers] == [0] * 20, "\n".join(problems)
    stored = Store(url).latest(with_images=False)
    assert len(stored) == 100 and len({d.uid for d in stored}) == 100
    assert sorted({d.session for d in stored}) == sorted(f"session{s}" for s in range(20))


def cli(*args: str, db: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MNIST_APP_DB": db}
    return subprocess.run(
        [sys.executable, "-m", "mnist_app.drawings", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_cli_stats_export_import_forget(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(db)
    store.share(drawing(2, 2, 2))
    store.share(drawing(6, 5, 6, correction=6))
    stats = cli("stats", "--json", db=db)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout) == {"count": 2, "labelled": 2, "corrected": 1, "accuracy": {"ann": 1.0, "cnn": 0.5}}
    assert cli("export", "--out", str(tmp_path / "room.npz"), db=db).returncode == 0
    with np.load(tmp_path / "room.npz") as npz:
        assert npz["images"].shape == (2, 28, 28) and npz["images"].dtype == np.uint8
        assert npz["labels"].tolist() == [2, 6]
    refused = cli("forget", db=db)
    assert refused.returncode == 2 and "--yes" in refused.stderr and store.count() == 2
    assert cli("forget", "--yes", db=db).returncode == 0 and store.count() == 0
    assert cli("import", str(tmp_path / "room.npz"), db=db).returncode == 0
    assert json.loads(cli("stats", "--json", db=db).stdout)["labelled"] == 2


@pytest.mark.parametrize("content", [b"not a zip", None], ids=["not an npz", "wrong arrays"])
def test_cli_import_refuses_bad_files(tmp_path, content):
    path = tmp_path / "bad.npz"
    if content is None:
        np.savez(path, images=np.zeros((3, 10, 10), np.uint8), labels=np.zeros(3, np.uint8))
    else:
        path.write_bytes(content)
    result = cli("import", str(path), db=f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 2 and result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    missing = cli("import", str(tmp_path / "nope.npz"), db=f"sqlite:///{tmp_path / 'x.db'}")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_drawings_carry_the_time(store):
    before = datetime.datetime.now(datetime.UTC)
    store.share(drawing(1, 1, 1))
    assert store.latest()[0].created_at >= before - datetime.timedelta(seconds=1)


def test_held_back_drawings_wait_until_shown(store):
    shown, scribble = drawing(7, 7, 7), drawing(8, 8, 8)
    scribble = dataclasses.replace(scribble, held_back=True)
    assert store.share(shown) and store.share(scribble)
    assert [d.uid for d in store.latest(held_back=False)] == [shown.uid]
    assert [d.uid for d in store.latest(held_back=True)] == [scribble.uid] and store.latest(held_back=True)[0].held_back
    assert store.reveal(scribble.uid) and not store.reveal("no-such-uid")
    assert {d.uid for d in store.latest(held_back=False)} == {shown.uid, scribble.uid}


def test_refused_shares_store_nothing_and_change_nothing(store, monkeypatch):
    from mnist_app.drawings import ShareRefused
    from mnist_app.drawings import store as store_module

    kept = drawing(1, 1, 1)
    store.share(kept)
    monkeypatch.setattr(store_module, "ROOM_SETTINGS", dataclasses.replace(store_module.ROOM_SETTINGS, max_drawings=1))
    with pytest.raises(ShareRefused, match="the room is full"):
        store.share(drawing(2, 2, 2))
    monkeypatch.setattr(store_module, "ROOM_SETTINGS", dataclasses.replace(store_module.ROOM_SETTINGS, max_drawings=9))
    huge = dataclasses.replace(drawing(3, 3, 3), original=b"\x89PNG" + bytes(2_000_001))
    with pytest.raises(ShareRefused, match="too large"):
        store.share(huge)
    assert [d.uid for d in store.latest()] == [kept.uid] and store.latest()[0].original == kept.original


def test_the_answer_columns_are_the_models_the_app_shows():
    assert set(schema_module.ANSWER_COLUMNS) == set(SHOWN_MODELS)


def test_a_version_1_room_keeps_its_drawings_and_shows_them(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'v1.db'}"
    engine = sa.create_engine(url)
    monkeypatch.setattr(schema_module, "MIGRATIONS", schema_module.MIGRATIONS[:1])
    monkeypatch.setattr(schema_module, "LATEST", 1)
    assert schema_module.migrate(engine) == 1
    answers = {"ann": {"digit": 4, "confidence": 0.9}, "cnn": {"digit": 9, "confidence": 0.8}}
    row = {
        "uid": "a" * 32,
        "created_at": datetime.datetime.now(datetime.UTC),
        "session": "s",
        "app_version": "1",
        "model_versions": {},
        "model_input": b"",
        "original": b"",
        "answers": answers,
        "label": 4,
        "label_source": "user",
    }
    version_1 = sa.Table("drawings", sa.MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        connection.execute(sa.insert(version_1).values(**row))
    monkeypatch.undo()
    store = Store(url)
    assert [(d.uid, d.label, d.held_back) for d in store.latest(held_back=False)] == [("a" * 32, 4, False)]
    summary = room_summary(store)  # counted from the answer columns that version 3 filled from the JSON
    assert summary.answered == {"ann": 1, "cnn": 1} and summary.accuracy == {"ann": 1.0, "cnn": 0.0}
    assert summary.corrected == 1 and summary.confusion["cnn"][4, 9] == 1


def test_the_databases_counts_equal_counts_made_row_by_row(store):
    """The Room tab's aggregates (GROUP BY) and its misses-first gallery, against the rows themselves."""
    rng = np.random.default_rng(5)
    rows = []
    for k in range(300):
        digit = int(rng.integers(10))
        answers = {name: Answer(int(rng.choice([digit, rng.integers(10)])), 0.9) for name in ("ann", "cnn")}
        correction = digit if k % 5 == 0 else None
        made = new_drawing(np.zeros((28, 28), np.uint8), np.zeros((8, 8), np.uint8), answers, "s", correction)
        made = dataclasses.replace(
            made,
            created_at=made.created_at + datetime.timedelta(seconds=k),
            held_back=k % 11 == 0,
        )
        store.share(made)
        rows.append(made)
    shown = [d for d in rows if not d.held_back]
    labelled = [d for d in shown if d.label is not None]
    summary = room_summary(store)
    assert (summary.count, summary.labelled) == (len(shown), len(labelled))
    assert summary.corrected == sum(d.label_source == "user" for d in labelled)
    for name in SHOWN_MODELS:  # the models whose answers the app shares
        expected = np.zeros((10, 10), np.int64)
        for d in labelled:
            if name in d.answers:
                expected[d.label, d.answers[name].digit] += 1
        if expected.sum():
            np.testing.assert_array_equal(summary.confusion[name], expected)
            assert summary.accuracy[name] == pytest.approx(np.trace(expected) / expected.sum())
        else:
            assert name not in summary.confusion
    newest_first = sorted(shown, key=lambda d: d.created_at, reverse=True)
    by_rows = sorted(newest_first, key=lambda d: not d.missed_by())[:24]
    assert [d.uid for d in store.latest(24, held_back=False, misses_first=True)] == [d.uid for d in by_rows]
