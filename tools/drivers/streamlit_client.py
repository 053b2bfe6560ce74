"""A Streamlit session without a browser: the app's own WebSocket protocol, in the installed protobufs.

What the browser does, reduced to what the load test needs: fetch the page (the XSRF cookie, and
nginx's replica cookie), open `/_stcore/stream`, send `BackMsg.rerun_script` with the widget
states, and read `ForwardMsg`s until the run finishes. The widget ids, the fragment and the page
hash come from the app's own messages, as the browser learns them. Used by tools/load/locustfile.py.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass, field

import requests
import websocket
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

XSRF_COOKIE = "_streamlit_xsrf"
FINISHED = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


class ProtocolError(RuntimeError):
    """The server ended a run badly, showed an exception, or closed the connection."""


@dataclass
class Run:
    """What one script run sent: answers (metrics), widgets by key, and when each answer arrived."""

    started: float
    metrics: dict[str, str] = field(default_factory=dict)
    metric_times: dict[str, float] = field(default_factory=dict)  # time.monotonic() at arrival
    buttons: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (widget id, label)
    components: dict[str, str] = field(default_factory=dict)  # key -> widget id (bidi components)
    widgets: dict[str, str] = field(default_factory=dict)  # key -> widget id (the rest)
    fragment_ids: set[str] = field(default_factory=set)
    texts: list[str] = field(default_factory=list)  # alerts, captions and markdown, for messages
    status: int | None = None

    def answered_at(self, labels: tuple[str, ...]) -> float | None:
        """When the last of `labels` arrived, or None if one of them did not."""
        times = [self.metric_times.get(label) for label in labels]
        return None if None in times else max(times)


def widget_key(widget_id: str) -> str:
    """`$$ID-<hash>-<key>` -> `<key>` (the app gives every widget it talks to a key)."""
    return widget_id.split("-", 2)[-1] if widget_id.startswith("$$ID-") else widget_id


class StreamlitSession:
    """One browser tab's session, over one WebSocket."""

    def __init__(self, base_url: str, timeout: float = 60) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = timeout
        self.http = requests.Session()
        self.socket: websocket.WebSocket | None = None
        self.session_id = ""
        self.page_script_hash = ""
        self.widget_states: dict[str, WidgetState] = {}  # widget id -> its WidgetState, as last sent
        self.replica = ""  # nginx's X-Replica header, when there is one

    def connect(self, reconnecting: bool = False) -> None:
        """Fetch the page (or, when reconnecting, the health check as the client does), open the socket."""
        page = self.http.get(self.base_url + ("_stcore/health" if reconnecting else ""), timeout=self.timeout)
        page.raise_for_status()
        self.replica = page.headers.get("X-Replica", self.replica)
        parts = urllib.parse.urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        xsrf = self.http.cookies.get(XSRF_COOKIE, "")
        protocols = ["streamlit", xsrf] + ([self.session_id] if self.session_id else [])
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        self.socket = websocket.create_connection(
            f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream",
            timeout=self.timeout,
            subprotocols=protocols,
            origin=f"{parts.scheme}://{parts.netloc}",
            cookie=cookies or None,
        )

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
            self.socket = None

    def set_json(self, widget_id: str, value: object) -> None:
        self._state(widget_id).json_value = json.dumps(value, separators=(",", ":"))

    def press(self, widget_id: str) -> None:
        """A button press: a trigger, sent once (the browser does not repeat it either)."""
        self._state(widget_id).trigger_value = True

    def run(self, fragment_id: str = "") -> Run:
        """Rerun the script (or one fragment) with the current widget states; read until it finishes."""
        if self.socket is None:
            raise ProtocolError("not connected")
        message = BackMsg()
        rerun = message.rerun_script
        rerun.page_script_hash = self.page_script_hash
        rerun.fragment_id = fragment_id
        rerun.widget_states.widgets.extend(self.widget_states.values())
        rerun.context_info.timezone = "UTC"
        rerun.context_info.locale = "en-US"
        rerun.context_info.url = self.base_url
        run = Run(started=time.monotonic())
        self.socket.send_binary(message.SerializeToString())
        for widget in list(self.widget_states.values()):  # triggers fire once
            if widget.WhichOneof("value") == "trigger_value":
                del self.widget_states[widget.id]
        self._read_until_finished(run)
        return run

    def _state(self, widget_id: str) -> WidgetState:
        state = self.widget_states.get(widget_id)
        if state is None:
            state = self.widget_states[widget_id] = WidgetState(id=widget_id)
        return state

    def _read_until_finished(self, run: Run) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                frame = self.socket.recv()
            except (websocket.WebSocketException, OSError) as error:
                raise ProtocolError(f"connection lost: {error!r}") from error
            if not frame:
                raise ProtocolError("connection closed by the server")
            message = ForwardMsg()
            message.ParseFromString(frame)
            kind = message.WhichOneof("type")
            if kind == "new_session":
                self.session_id = message.new_session.initialize.session_id or self.session_id
                self.page_script_hash = message.new_session.page_script_hash or self.page_script_hash
            elif kind == "delta":
                self._read_delta(message, run)
            elif kind == "script_finished":
                run.status = message.script_finished
                if message.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # another rerun of ours follows
                if message.script_finished not in FINISHED:
                    raise ProtocolError(f"the run ended with status {message.script_finished}")
                return
        raise ProtocolError(f"no end of the run within {self.timeout:.0f} s")

    def _read_delta(self, message: ForwardMsg, run: Run) -> None:
        delta = message.delta
        if delta.fragment_id:
            run.fragment_ids.add(delta.fragment_id)
        if message.metadata.active_script_hash:
            self.page_script_hash = message.metadata.active_script_hash
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "metric":
            run.metrics[element.metric.label] = element.metric.body
            run.metric_times[element.metric.label] = time.monotonic()
        elif kind == "exception":
            raise ProtocolError(f"the app showed an exception: {element.exception.message}")
        elif kind == "button":
            run.buttons[widget_key(element.button.id)] = (element.button.id, element.button.label)
        elif kind == "bidi_component":
            run.components[widget_key(element.bidi_component.id)] = element.bidi_component.id
        elif kind in ("alert", "markdown"):
            run.texts.append(getattr(element, kind).body)
        else:
            widget_id = getattr(getattr(element, kind), "id", "")
            if isinstance(widget_id, str) and widget_id.startswith("$$ID-"):
                run.widgets[widget_key(widget_id)] = widget_id
