"""A session moved to another replica answers again: its first fragment rerun there runs the whole page.

When a replica dies, nginx sends its visitors' browsers to another one, where Streamlit makes each a new
session. The browser asks that new session for a full run only when its last run held a fragment or was
cut short (streamlit/streamlit#11890). After a full run (a tab opened, say), it asks for nothing, and
its next drawing arrives as a rerun of the Draw panel's fragment, which the new session has never run.
Streamlit drops such a rerun (`AppSession.request_rerun`: "the fragment ... does not exist anymore"), so
the moved visitor's drawings went unanswered for good. Here a session that has not yet run anything
runs the whole page instead, with the browser's widget states, so the drawing is read at once.
A session that has run keeps Streamlit's rule: a rerun of a fragment a full run removed is dropped.
"""

from __future__ import annotations

from streamlit.runtime.app_session import AppSession

_HAS_RUN = "_mnist_app_has_run"  # set on a session once a rerun request has gone through


def run_whole_page_for_new_sessions() -> None:
    """Install the rule on Streamlit's sessions (once per server; a second call changes nothing)."""
    if getattr(AppSession.request_rerun, "_mnist_app_rule", False):
        return
    original = AppSession.request_rerun

    def request_rerun(self: AppSession, client_state: object | None) -> None:
        fragment_id = getattr(client_state, "fragment_id", "")
        if fragment_id and not getattr(self, _HAS_RUN, False) and not self.has_fragment(fragment_id):
            whole_page = type(client_state)()
            whole_page.CopyFrom(client_state)
            whole_page.fragment_id = ""
            client_state = whole_page
        setattr(self, _HAS_RUN, True)
        original(self, client_state)

    request_rerun._mnist_app_rule = True
    AppSession.request_rerun = request_rerun
