"""Locust users that draw as browsers do, over Streamlit's own protocol (tools/drivers/streamlit_client.py).

Run by tools/load/capacity.py (`make loadtest`, and bounded in `make test`), which builds the pool of
drawings and reads the records. Each user:
1. opens a session (the page, then the WebSocket) and receives the first run of the app;
2. every LOAD_PACE_S seconds sends a new drawing as the canvas's widget value (a PNG of an MNIST
   test digit drawn as the canvas draws: white on black, 280x280) and waits for both answers,
   which must be the digit it drew (the pool holds only drawings both models read right);
3. shares every LOAD_SHARE_EVERY-th drawing, and checks that the app confirms it;
4. when its server goes away, reconnects as Streamlit's client does (health check, then the
   WebSocket with its old session id) and resends its widget states.
Settings come from the environment (LOAD_POOL, LOAD_RECORDS, LOAD_PACE_S, LOAD_SHARE_EVERY).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time

import gevent
from locust import User, events, task

from tools.drivers.streamlit_client import ProtocolError, Run, StreamlitSession

POOL = json.loads(open(os.environ["LOAD_POOL"]).read()) if "LOAD_POOL" in os.environ else []  # noqa: SIM115
RECORDS_PATH = os.environ.get("LOAD_RECORDS", "")
PACE_S = float(os.environ.get("LOAD_PACE_S", "20"))
SHARE_EVERY = int(os.environ.get("LOAD_SHARE_EVERY", "5"))
ANSWERS = ("ANN", "CNN")
SHARE_KEY = "share"
SHARED_LABEL = "Shared with the room ✓"
# Streamlit's client (1.67) retries after 100 ms, doubling up to 4 s, each wait after the first
# shortened at random by up to 30 %.
RECONNECT_FIRST_S, RECONNECT_MAX_S = 0.1, 4.0
RECONNECT_GIVE_UP_S = 60
# What the canvas sends besides the image (Fabric's JSON of the strokes); the app reads the image.
RAW_DRAWING = {"version": "7.4.0", "objects": [], "background": "#000000"}

records: list[dict] = []
user_numbers = itertools.count()


@events.test_stop.add_listener
def _write_records(**_: object) -> None:
    if RECORDS_PATH:
        with open(RECORDS_PATH, "w") as out:
            out.writelines(json.dumps(record) + "\n" for record in records)


class DrawingUser(User):
    def wait_time(self) -> float:
        """One drawing every PACE_S seconds, in this user's own phase (Locust's constant_pacing lets
        the users fall into step: then they all draw at once)."""
        self.next_drawing += PACE_S
        return max(0.0, self.next_drawing - time.monotonic())

    def on_start(self) -> None:
        self.number = next(user_numbers)
        order = list(range(len(POOL)))
        random.Random(self.number).shuffle(order)
        self.drawings = itertools.cycle(order)  # its own drawings, none twice before the pool is used up
        self.drawn = 0
        self.fragment = ""
        self.canvas_id = ""
        # A real tab opens at some moment, not in step with the others.
        gevent.sleep(random.Random(-self.number).uniform(0, PACE_S))
        self.session = StreamlitSession(self.host)
        started = time.monotonic()
        try:
            self.session.connect()
            self._learn(self.session.run())
        except (ProtocolError, OSError) as error:
            self._fire("open session", started, error)
            raise
        self._fire("open session", started)
        self.next_drawing = time.monotonic()

    def on_stop(self) -> None:
        self.session.close()

    @task
    def draw(self) -> None:
        index = next(self.drawings)
        label = POOL[index]["label"]
        self.session.set_json(self.canvas_id, {"drawing": {"raw": RAW_DRAWING, "data": POOL[index]["png"]}})
        sent_at = time.time()
        try:
            run = self.session.run(self.fragment)
        except ProtocolError as error:
            self._record("lost", sent_at, error=str(error), replica=self.session.replica)
            run = self._reconnect(sent_at)
            if run is None:
                return
            self._check_answers(run, label, sent_at, recovered=True)
        else:
            self._check_answers(run, label, sent_at)
        self.drawn += 1
        if self.drawn % SHARE_EVERY == 0:
            self._share(run)

    def _check_answers(self, run: Run, label: int, sent_at: float, recovered: bool = False) -> None:
        answered = run.answered_at(ANSWERS)
        latency = None if answered is None else answered - run.started
        expected = {name: str(label) for name in ANSWERS}
        shown = {name: run.metrics.get(name) for name in ANSWERS}
        error = None if shown == expected else f"drew {label}, the app showed {shown}"
        answered_wall = None if answered is None else time.time() - (time.monotonic() - answered)
        self._record(
            "answer",
            sent_at,
            latency=latency,
            answered=answered_wall,
            error=error,
            replica=self.session.replica,
            recovered=recovered,
        )
        self._fire("drawing -> both answers", run.started, error, latency)

    def _share(self, run: Run) -> None:
        button = run.buttons.get(SHARE_KEY)
        started = time.monotonic()
        if button is None:
            self._fire("share", started, "no share button after an answer")
            return
        self.session.press(button[0])
        try:
            shared = self.session.run(self.fragment)
        except ProtocolError as error:
            self._fire("share", started, str(error))
            return
        label = shared.buttons.get(SHARE_KEY, ("", ""))[1]
        error = None if label == SHARED_LABEL else f"the share button says {label!r}: {shared.texts[-3:]}"
        self._record("share", time.time(), error=error, replica=self.session.replica)
        self._fire("share", started, error)

    def _learn(self, run: Run) -> None:
        """The canvas's widget id and the Draw panel's fragment, from the app's own first run."""
        self.canvas_id = run.components.get("canvas", self.canvas_id)
        if not self.canvas_id:
            raise ProtocolError("the first run had no canvas")
        self.fragment = next(iter(run.fragment_ids), self.fragment)

    def _reconnect(self, lost_at: float) -> Run | None:
        """Reconnect and rerun the whole page with the widget states, as the browser does."""
        for attempt in itertools.count():
            if time.time() - lost_at > RECONNECT_GIVE_UP_S:
                break
            wait = min(RECONNECT_MAX_S, RECONNECT_FIRST_S * 2**attempt)
            gevent.sleep(wait if attempt == 0 else wait * random.uniform(0.7, 1.0))
            self.session.close()
            try:
                self.session.connect(reconnecting=True)
                run = self.session.run()
            except (ProtocolError, OSError):
                continue
            self._learn(run)
            self._record(
                "recovered",
                time.time(),
                lost_at=lost_at,
                attempts=attempt + 1,
                first_run_s=time.monotonic() - run.started,
                replica=self.session.replica,
            )
            return run
        self._fire("reconnect", time.monotonic(), f"no server within {RECONNECT_GIVE_UP_S} s")
        return None

    def _record(self, kind: str, at: float, **fields: object) -> None:
        records.append({"kind": kind, "user": self.number, "at": at, **fields})

    def _fire(self, name: str, started: float, error: object = None, seconds: float | None = None) -> None:
        elapsed = time.monotonic() - started if seconds is None else seconds
        events.request.fire(
            request_type="WS",
            name=name,
            response_time=elapsed * 1000,
            response_length=0,
            exception=None if error is None else (error if isinstance(error, Exception) else ProtocolError(error)),
            context={},
        )
