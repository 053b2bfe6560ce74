"""A server's start (mnist_app.ui.startup): loading before the first visitor, and the readiness endpoint.

The real server's start is tested in a browser (tests/system/test_browser.py, its first test)."""

from __future__ import annotations

import asyncio

import pytest

from mnist_app.config import READY_PATH
from mnist_app.ui import resources, startup


def answer(readiness: startup.Readiness, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setattr(startup, "READINESS", readiness)
    response = asyncio.run(startup.ready(None))
    return response.status_code, response.body.decode()


def test_ready_answers_503_until_loaded_and_says_why_it_is_not(monkeypatch):
    assert [route.path for route in startup.routes()] == [READY_PATH]
    assert answer(startup.Readiness(), monkeypatch) == (503, "starting")
    failed = startup.Readiness("failed", "OSError: models/cnn.keras: no such file")
    assert answer(failed, monkeypatch) == (503, "failed: OSError: models/cnn.keras: no such file")
    assert answer(startup.Readiness("ready", "loaded in 9.1 s"), monkeypatch) == (200, "ok: loaded in 9.1 s")


def test_loading_for_visitors_loads_the_reader_and_the_string_reader_and_reads_once(loaded_once):
    readiness = startup.Readiness()
    startup.load_for_visitors(readiness)
    assert readiness.state == "ready" and readiness.detail.startswith("loaded in"), readiness
    reader = resources.load_reader_now()  # the one loaded: no second load
    assert reader.load_strings is None and reader.string_reader is not None, "the string reader is loaded too"


def test_a_failed_load_is_reported_and_the_server_stays_up(monkeypatch):
    def broken() -> None:
        raise OSError("models/cnn.keras: no such file")

    monkeypatch.setattr(resources, "load_reader_now", broken)
    readiness = startup.Readiness()
    startup.load_for_visitors(readiness)  # no exception: the health endpoint keeps answering
    assert readiness == startup.Readiness("failed", "OSError: models/cnn.keras: no such file")
