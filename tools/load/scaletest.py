"""Scale-out and failover through nginx: `python -m tools.load.scaletest [--sessions 12] [--record]`.

Starts the `make cluster` setup (PostgreSQL, 2 replicas, nginx) in a temporary run directory on
free loopback ports, then with headless Chromium:
1. every session opens the app through nginx; the `X-Replica` header says which replica it got;
2. each draws `rounds` digits and shares each one (timed: answers per second with 2 replicas), and
   with `uploads`, then uploads a photo of a digit on paper and must read it right;
3. a session on replica B sees, in its Room tab, the drawings shared by sessions on replica A;
4. replica A is killed (SIGKILL). Sessions on B draw on, unaffected; sessions of A reconnect
   (Streamlit's client retries, nginx hashes them on to B) and must answer within 10 s of their
   first stroke after the kill; everyone draws another `rounds` digits (answers per second with 1);
5. no shared drawing is lost: the database holds every one, once, under its own session's anonymous id.
Everything it started is stopped by PID at the end. `make test` runs a bounded form
(tests/system/test_cluster.py); `make scaletest` the full one, recorded in benchmarks/scale.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from deploy import cluster as cluster_module
from mnist_app.config import ROOT
from mnist_app.drawings import Store
from tools.drivers.async_driver import ANSWER_TIMEOUT, draw, shown_metrics, upload_photo, wait_for
from tools.drivers.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, SOCKET_LIFE
from tools.load.failover_parts import medians, nginx_passes, socket_parts

if TYPE_CHECKING:
    from playwright.async_api import Page

FAILOVER_BUDGET_S = 10.0  # a session of the killed replica answers again within this...
BUDGET_SESSIONS = 4  # ...when at most this many browsers share the machine; beyond, the run states what it held
MAX_ROUNDS = 4  # rounds before the kill, and again after it: rounds 0-3, the failover round, 5-8
FAILOVER_ROUND = MAX_ROUNDS
MAX_EXTRA_SESSIONS = 8


@dataclass
class Session:
    number: int
    page: object
    replica: str = ""
    shared_digits: list[int] = field(default_factory=list)  # what it drew and shared, in order
    uploaded_right: bool = False
    answered_at: float = 0.0  # time.monotonic() when its last answer showed
    redrawn: bool = False  # its first drawing after the kill was lost in the reconnection
    route: str = ""  # its affinity cookie, as nginx's log shows it
    moments: dict = field(default_factory=dict)  # epoch ms of its last drawing's Clear done and pen up
    failover_parts: dict = field(default_factory=dict)  # where its failover's seconds went (failover_parts)
    problems: list[str] = field(default_factory=list)

    @property
    def shared(self) -> int:
        return len(self.shared_digits)


@dataclass
class Report:
    sessions: int
    rounds: int
    per_replica: dict[str, int]
    answers_per_s: dict[str, float]  # "2 replicas" / "1 replica"
    failover_answer_s: list[float]  # per session of the killed replica: the kill -> its next answer (Clear, draw)
    moved: int  # sessions of the killed replica (each should answer again on the other)
    room_seen_across_replicas: bool
    redrawn_after_kill: int  # sessions whose first drawing after the kill had to be drawn again
    shared: int
    stored: int
    problems: list[str]
    shared_digits: list[int] = field(default_factory=list)  # every session's shared drawings, sorted
    stored_digits: list[int] = field(default_factory=list)  # the labels the database holds, sorted
    stored_ids: int = 0  # distinct drawing ids in the database
    stored_sessions: int = 0  # distinct anonymous session ids in the database
    sessions_before_kill: int = 0  # distinct anonymous session ids of the drawings shared before the kill
    uploads_read_right: int = 0  # sessions whose uploaded photo both models read right (with `uploads`)
    failover_parts: list[dict] = field(default_factory=list)  # per moved session, in seconds
    nginx: dict = field(default_factory=dict)  # the moved sessions' requests nginx passed on after the kill
    kill_ms: float = 0.0  # epoch milliseconds of the kill
    sessions_asked: int = 0  # the sessions asked for (more open when the first all land on one replica)

    @property
    def ok(self) -> bool:
        return (
            not self.problems
            and self.room_seen_across_replicas
            and self.shared == self.stored
            and (self.sessions_asked > BUDGET_SESSIONS or all(s <= FAILOVER_BUDGET_S for s in self.failover_answer_s))
            and len(self.per_replica) >= 2
        )


def digit_for(session: int, round_number: int) -> int:
    """A different digit in each of a session's rounds 0-9 (the same drawing twice is shared once)."""
    return (session * 3 + round_number * 7) % 10


async def draw_and_share(
    session: Session, digit: int, clear: bool, timeout: float = ANSWER_TIMEOUT, record: bool = True
) -> float | None:
    """Draw a digit, wait for both right answers, share it; returns seconds from the first stroke."""
    page = session.page
    if clear:
        await clear_canvas(page)
    session.moments["cleared"] = time.time() * 1000
    started = time.monotonic()
    await draw(page, digit)
    session.moments["drawn"] = time.time() * 1000
    expected = {"ANN": str(digit), "CNN": str(digit)}
    shown = await wait_for(page, expected, timeout)
    if shown != expected:
        if record:
            ARTIFACTS.mkdir(exist_ok=True)  # what the canvas held, to tell a misread from a lost stroke
            await page.screenshot(path=str(ARTIFACTS / f"scaletest-session-{session.number}-drew-{digit}.png"))
            session.problems.append(f"session {session.number} on {session.replica}: drew {digit}, saw {shown}")
        return None
    session.answered_at = time.monotonic()
    answered = session.answered_at - started
    await page.get_by_role("button", name="Share with the room").click()
    await page.get_by_role("button", name="Shared with the room").wait_for(timeout=ANSWER_TIMEOUT * 1000)
    session.shared_digits.append(digit)
    return answered


async def upload_and_return(session: Session) -> None:
    """Upload a photo of a digit on paper, wait for both right answers, go back to the Draw tab."""
    page, digit = session.page, (session.number + 5) % 10
    shown = await upload_photo(page, digit)
    session.uploaded_right = shown == {"ANN": str(digit), "CNN": str(digit)}
    if not session.uploaded_right:
        session.problems.append(f"session {session.number} on {session.replica}: uploaded {digit}, saw {shown}")
    await page.get_by_role("tab", name="Draw").click()
    await page.locator("canvas.upper-canvas").first.wait_for(timeout=ANSWER_TIMEOUT * 1000)


async def clear_canvas(page: Page) -> None:
    """Press Clear until the empty-canvas prompt shows: a press made while the websocket is down is lost,
    and a person would press again."""
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while True:
        await page.get_by_role("button", name="Clear").click()
        try:
            await page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=3000)
            return
        except Exception:  # playwright's TimeoutError: not cleared yet
            if time.monotonic() > deadline:
                raise


async def one_round(sessions: list[Session], round_number: int, clear: bool) -> float:
    started = time.monotonic()
    await asyncio.gather(*(draw_and_share(s, digit_for(s.number, round_number), clear) for s in sessions))
    return time.monotonic() - started


async def room_count(page: Page, expected: str, timeout: float) -> str:
    """Open the Room tab and wait until it shows `expected` drawings; returns the count shown last."""
    await page.get_by_role("tab", name="Room").click()
    deadline, shown = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        shown = (await shown_metrics(page)).get("Drawings", "")
        if shown == expected:
            return shown
        await asyncio.sleep(0.2)
    return shown


async def recover(session: Session, kill_time: float, kill_ms: float) -> float | None:
    """A session of the killed replica clears, draws and shares at once; returns seconds from the kill to its answer.

    Strokes made while the page reconnects to the other replica can be lost (the canvas is mounted
    again there), so, like a person, it redraws once if the answer is not there within 5 s.
    """
    digit = digit_for(session.number, FAILOVER_ROUND)
    answered = await draw_and_share(session, digit, clear=True, timeout=5, record=False)
    if answered is None:
        session.redrawn = True
        answered = await draw_and_share(session, digit, clear=True)
    if answered is None:
        return None
    seconds = session.answered_at - kill_time
    life = await session.page.evaluate("({sockets: window.__sockets || [], mounts: window.__canvasMounts || []})")
    moments = {**session.moments, "answer": kill_ms + seconds * 1000}
    session.failover_parts = socket_parts(life["sockets"], life["mounts"], kill_ms, moments)
    return seconds


async def drive(cluster: cluster_module.Cluster, sessions_count: int, rounds: int, uploads: bool = False) -> Report:
    from playwright.async_api import async_playwright

    problems: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        sessions: list[Session] = []

        async def open_session() -> None:
            number = len(sessions)
            context = await browser.new_context(viewport={"width": 1200, "height": 900})
            page = await context.new_page()
            page.on("pageerror", lambda error, n=number: problems.append(f"session {n}: page error {error}"))
            await page.add_init_script(SOCKET_LIFE)
            response = await page.goto(cluster.url, timeout=ANSWER_TIMEOUT * 1000)
            route = next((c["value"] for c in await context.cookies() if c["name"] == "mnist_replica"), "")
            sessions.append(Session(number, page, response.headers.get("x-replica", "?"), route=route))

        for _ in range(sessions_count):
            await open_session()
        # The affinity hash is random per browser: a few sessions can all land on one replica
        # (4 sessions: 1 time in 8). A few more browsers then show whether nginx spreads at all.
        while len({s.replica for s in sessions}) < 2 and len(sessions) < sessions_count + MAX_EXTRA_SESSIONS:
            await open_session()
        for session in sessions:  # models loaded on both replicas before anything is timed
            await session.page.get_by_text("Draw a digit from 0 to 9").wait_for(timeout=ANSWER_TIMEOUT * 1000)
        per_replica = {r: sum(s.replica == r for s in sessions) for r in {s.replica for s in sessions}}

        two_replicas = sum([await one_round(sessions, r, clear=r > 0) for r in range(rounds)])
        answers_two = sum(s.shared for s in sessions)
        if uploads:  # concurrent uploads, after the timed rounds
            await asyncio.gather(*(upload_and_return(s) for s in sessions))

        killed = f"127.0.0.1:{cluster.replica_ports[0]}"
        on_killed = [s for s in sessions if s.replica == killed]
        survivors = [s for s in sessions if s.replica != killed]
        watcher = survivors[0] if survivors else None
        expected_room = str(sum(s.shared for s in sessions))
        seen = await room_count(watcher.page, expected_room, timeout=30) if watcher else ""
        if seen != expected_room:
            problems.append(f"the room on {watcher.replica if watcher else '-'} showed {seen!r}, not {expected_room}")
        room_seen = bool(on_killed) and seen == expected_room
        if watcher:
            await watcher.page.get_by_role("tab", name="Draw").click()
            await watcher.page.locator("canvas.upper-canvas").first.wait_for(timeout=ANSWER_TIMEOUT * 1000)

        sessions_before_kill = len({d.session for d in Store(cluster.database).latest(with_images=False)})
        kill_time, kill_ms = time.monotonic(), time.time() * 1000
        cluster_module.kill_replica(cluster, 0)
        recovered = await asyncio.gather(*(recover(s, kill_time, kill_ms) for s in on_killed))
        after_kill = [one_round(survivors, FAILOVER_ROUND, clear=True)] if survivors else []
        await asyncio.gather(*after_kill)
        shared_before_last = sum(s.shared for s in sessions)
        one_replica = sum([await one_round(sessions, FAILOVER_ROUND + 1 + r, clear=True) for r in range(rounds)])
        answers_one = sum(s.shared for s in sessions) - shared_before_last
        await browser.close()

    shared = sum(s.shared for s in sessions)
    stored = Store(cluster.database).latest(with_images=False)
    return Report(
        sessions=len(sessions),
        rounds=rounds,
        per_replica=per_replica,
        answers_per_s={
            "2 replicas": round(answers_two / two_replicas, 2),
            "1 replica": round(answers_one / one_replica, 2),
        },
        failover_answer_s=[round(seconds, 2) for seconds in recovered if seconds is not None],
        moved=len(on_killed),
        room_seen_across_replicas=room_seen,
        redrawn_after_kill=sum(s.redrawn for s in on_killed),
        shared=shared,
        stored=len(stored),
        shared_digits=sorted(d for s in sessions for d in s.shared_digits),
        stored_digits=sorted(d.label for d in stored),
        stored_ids=len({d.uid for d in stored}),
        stored_sessions=len({d.session for d in stored}),
        sessions_before_kill=sessions_before_kill,
        uploads_read_right=sum(s.uploaded_right for s in sessions),
        failover_parts=[s.failover_parts for s in on_killed if s.failover_parts],
        nginx=nginx_passes(cluster.run_dir / "access.log", {s.route for s in on_killed}, kill_ms),
        kill_ms=kill_ms,
        sessions_asked=sessions_count,
        problems=problems
        + [p for s in sessions for p in s.problems]
        + [
            f"session {s.number}: no answer after the kill"
            for s, a in zip(on_killed, recovered, strict=True)
            if a is None
        ],
    )


def run(sessions: int, rounds: int, run_dir: Path | None = None, uploads: bool = False) -> Report:
    """Start a cluster on free ports, drive it, stop everything it started."""
    directory = run_dir or Path(tempfile.mkdtemp(prefix="mnist-scale-"))
    from deploy.services import free_port

    try:
        cluster = cluster_module.start(replicas=2, port=free_port(), run_dir=directory)
        return asyncio.run(drive(cluster, sessions, rounds, uploads))
    finally:
        cluster_module.stop(directory)


def summary(report: Report) -> str:
    failover = max(report.failover_answer_s) if report.failover_answer_s else float("nan")
    return (
        f"{report.sessions} sessions through nginx, spread {sorted(report.per_replica.values())} over "
        f"{len(report.per_replica)} replicas; answers/s: 2 replicas {report.answers_per_s['2 replicas']}, "
        f"1 replica {report.answers_per_s['1 replica']}; after the kill, the moved sessions answered within "
        f"{failover:.1f} s of the kill (median {statistics.median(report.failover_answer_s or [float('nan')]):.1f} s); "
        f"redrawn after the kill: {report.redrawn_after_kill}; parts (medians, s): {medians(report.failover_parts)}; "
        f"nginx: {report.nginx}; room seen across replicas: "
        f"{report.room_seen_across_replicas}; shared {report.shared}, stored {report.stored}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.load.scaletest", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2, help="drawings per session before and after the kill")
    parser.add_argument("--record", action="store_true", help="write benchmarks/scale.json")
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= MAX_ROUNDS:
        parser.error(f"--rounds takes 1 to {MAX_ROUNDS}")
    report = run(args.sessions, args.rounds)
    print(summary(report))
    for problem in report.problems:
        print("problem:", problem)
    if args.record and report.ok:
        (ROOT / "benchmarks" / "scale.json").write_text(json.dumps(report.__dict__, indent=1) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
