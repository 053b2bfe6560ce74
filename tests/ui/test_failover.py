"""A session new to this server (its replica died) runs the whole page for a rerun of a fragment it never ran.

The browser side is tests/system/test_cluster.py (a session that opened another tab before its replica was
killed answers again on the other). Here the rule alone, on Streamlit's own ClientState."""

from __future__ import annotations

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime.app_session import AppSession

from mnist_app.ui import failover


class Session:
    """What the rule asks of a session: which fragments it holds."""

    def __init__(self, fragments: set[str]) -> None:
        self.fragments = fragments

    def has_fragment(self, fragment_id: str) -> bool:
        return fragment_id in self.fragments


def installed(monkeypatch) -> list[str]:
    """The rule over a recording request_rerun; returns the fragment id of each request passed on."""
    passed: list[str] = []
    monkeypatch.setattr(AppSession, "request_rerun", lambda self, state: passed.append(state.fragment_id))
    failover.run_whole_page_for_new_sessions()
    return passed


def rerun(fragment_id: str) -> ClientState:
    state = ClientState(fragment_id=fragment_id)
    state.widget_states.widgets.add(id="canvas", json_value='{"objects": []}')
    return state


def test_a_new_sessions_first_rerun_of_an_unknown_fragment_runs_the_whole_page(monkeypatch):
    passed = installed(monkeypatch)
    moved = Session(set())
    state = rerun("draw-panel")
    AppSession.request_rerun(moved, state)
    assert passed == [""], "the whole page, not the fragment"
    assert state.fragment_id == "draw-panel", "the browser's message is left as it was"
    AppSession.request_rerun(moved, rerun("draw-panel"))
    assert passed == ["", "draw-panel"], "once it has run, Streamlit's own rule decides"


def test_a_known_fragment_and_a_full_run_pass_as_they_are(monkeypatch):
    passed = installed(monkeypatch)
    AppSession.request_rerun(Session({"draw-panel"}), rerun("draw-panel"))
    AppSession.request_rerun(Session(set()), rerun(""))
    assert passed == ["draw-panel", ""]


def test_installing_twice_wraps_once(monkeypatch):
    installed(monkeypatch)
    rule = AppSession.request_rerun
    failover.run_whole_page_for_new_sessions()
    assert AppSession.request_rerun is rule
