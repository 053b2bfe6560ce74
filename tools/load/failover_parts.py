"""Where a moved session's seconds go, from the kill of its replica to its next answer.

The page records each WebSocket's life and each mount of the drawing surface (`SOCKET_LIFE` in
tools/drivers/browser.py); nginx logs each request's upstreams and times (deploy/nginx.conf). From
them, one session's failover splits into consecutive parts that add up to the whole:
- `socket_closed`: the kill until the page's socket closes;
- `reconnected`: until a new socket is open (Streamlit's client waits 250-500 ms, asks the health
  endpoint through nginx, which tries the dead replica first and passes on to the survivor);
- `first_message`: until the new session's first message arrives (the survivor's new session);
- `page_back`: until the drawing surface is mounted again, if the page mounted a new one;
- `cleared`: until the person's Clear has emptied the canvas (a press made while the socket is down is
  lost, and the person presses again);
- `drawn`: until the pen lifts from the new drawing (the person's own time);
- `answer`: until both answers show (the rerun on the survivor, the page drawing the digits).
A part whose event came before the previous one's (a Clear taken before the socket reopened) counts 0.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

PARTS = ("socket_closed", "reconnected", "first_message", "page_back", "cleared", "drawn", "answer")
_LINE = re.compile(
    r"upstream=(?P<upstreams>[^ ]*(?:, [^ ]*)*) route=(?P<route>\S+) msec=(?P<msec>[\d.]+) "
    r'request_time=(?P<request_time>[\d.]+) connect="(?P<connect>[^"]*)"'
)


def socket_parts(
    sockets: list[dict], mounts: list[float], kill_ms: float, person: dict[str, float]
) -> dict[str, float | None]:
    """One session's parts in seconds (None where the event did not happen: no new surface was mounted).
    `person`: epoch milliseconds of its `cleared`, `drawn` (pen up) and `answer` after the kill."""
    before = [life for life in sockets if life.get("created", 0) < kill_ms and "closed" in life]
    after = [life for life in sockets if life.get("created", 0) >= kill_ms and "opened" in life]
    closed = min((life["closed"] for life in before if life["closed"] >= kill_ms), default=None)
    if closed is None or not after:
        return dict.fromkeys(PARTS)
    reopened = after[0]
    first = reopened.get("first", reopened["opened"])
    mounted = max((at for at in mounts if first <= at <= person["answer"]), default=None)
    marks = (closed, reopened["opened"], first, mounted, person["cleared"], person["drawn"], person["answer"])
    parts: dict[str, float | None] = {}
    last = kill_ms
    for name, mark in zip(PARTS, marks, strict=True):
        parts[name] = None if mark is None else round(max(0.0, mark - last) / 1000, 3)
        last = max(last, mark) if mark is not None else last
    return parts


def nginx_passes(access_log: Path, routes: set[str], kill_ms: float) -> dict[str, float]:
    """After the kill, the moved sessions' requests that nginx first sent to the dead replica: how many,
    and the most time one spent on it (its failed connect) before the survivor answered."""
    passed, spent = 0, 0.0
    if not access_log.is_file():
        return {"requests_passed_on": 0, "longest_failed_connect_s": 0.0}
    for line in access_log.read_text(errors="replace").splitlines():
        found = _LINE.search(line)
        if not found or found["route"] not in routes or float(found["msec"]) * 1000 < kill_ms:
            continue
        upstreams = found["upstreams"].split(", ")
        if len(upstreams) > 1:
            passed += 1
            failed = found["connect"].split(", ")[0]
            spent = max(spent, float(failed) if failed.replace(".", "", 1).isdigit() else 0.0)
    return {"requests_passed_on": passed, "longest_failed_connect_s": round(spent, 3)}


def medians(parts: list[dict[str, float | None]]) -> dict[str, float | None]:
    """Each part's median over the sessions that had it."""
    found = {name: [p[name] for p in parts if p.get(name) is not None] for name in PARTS}
    return {name: round(statistics.median(values), 3) if values else None for name, values in found.items()}
