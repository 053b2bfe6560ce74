"""Capacity without browsers: Locust users speaking Streamlit's protocol against one server or the cluster.

`make loadtest` runs `python -m tools.load.capacity --record` (benchmarks/load.json and docs/deploy.md);
tests/system/test_capacity.py a bounded run (20 sessions, measured for 8 s). The table:
- one app server, 200 sessions each drawing every 20 s (10 answers/s);
- `make cluster` (2 replicas behind nginx, PostgreSQL), 200 sessions each drawing every 10 s;
- the knee: the same 200 sessions drawing faster, until stroke-to-answer p95 passes 1 s;
- failover: one of the two replicas killed under load; its sessions must answer again within 10 s.
The users are in tools/load/locustfile.py. Every server it starts listens on 127.0.0.1 and is stopped
by PID at the end; the Locust run is bounded in users and seconds.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from mnist_app.config import ROOT, SHOWN_MODELS
from mnist_app.dataset.mnist import load_mnist
from mnist_app.drawings import Store
from tools.bench.app_bench import OUT_DIR
from tools.drivers.browser import log_problems, running_app
from tools.drivers.process_stats import cpu_seconds, memory_mb, server_pid
from tools.drivers.streamlit_client import StreamlitSession

P95_BUDGET_S = 1.0
FAILOVER_BUDGET_S = 10.0
POOL_SIZE = 400
SPAWN_PER_S = 20  # sessions opened per second while the run ramps up


@dataclass
class Load:
    """One Locust run: how many sessions, how often each draws, for how long it is measured."""

    users: int
    pace_s: float  # each session draws once every pace_s seconds
    measure_s: float
    share_every: int = 5

    @property
    def warm_up_s(self) -> float:  # every session open, and drawing at its pace
        return self.users / SPAWN_PER_S + self.pace_s

    @property
    def offered_per_s(self) -> float:
        return self.users / self.pace_s


@dataclass
class Result:
    target: str
    users: int
    pace_s: float
    offered_answers_per_s: float
    answers: int = 0
    users_answered: int = 0  # sessions that got at least one right answer, at any time of the run
    answers_per_s: float = 0.0
    stroke_to_answer_s: dict[str, float] = field(default_factory=dict)
    server_cpu_ms_per_answer: float | None = None
    memory_mb_per_session: float | None = None
    server_rss_mb: float | None = None
    load_generator_cpu_share: float | None = None  # of one core: Locust's own load on the machine
    shares_confirmed: int = 0
    shares_stored: int | None = None
    errors: int = 0
    wrong_answers: int = 0
    connections_lost: int = 0  # sessions whose server went away (failover): they reconnect, not errors
    failover_s: list[float] = field(default_factory=list)
    failover_parts_s: dict[str, float] = field(default_factory=dict)  # medians: reconnect, first run there
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.errors == 0
            and self.wrong_answers == 0
            and self.stroke_to_answer_s.get("p95", 99) <= P95_BUDGET_S
            and all(s <= FAILOVER_BUDGET_S for s in self.failover_s)
        )


def canvas_drawing(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit as the canvas would send it: hard white strokes on opaque black, 280x280 RGBA."""
    big = Image.fromarray(digit).resize((224, 224), Image.Resampling.BILINEAR)
    strokes = big.point(lambda v: 255 if v > 96 else 0).filter(ImageFilter.GaussianBlur(1))  # canvas antialiasing
    canvas = Image.new("L", (280, 280), 0)
    canvas.paste(strokes, (28, 28))
    return np.dstack([np.asarray(canvas)] * 3 + [np.full((280, 280), 255, np.uint8)])


def data_url(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def drawing_pool(size: int = POOL_SIZE, seed: int = 0) -> list[dict]:
    """MNIST test digits drawn as the canvas draws, each kept only if both shown models read it right and
    sure (then any other answer a user sees is a fault of the server, not of the models)."""
    from mnist_app.serving.reader import load_reader

    reader = load_reader(names=SHOWN_MODELS, numbers=False)
    _, (x_test, y_test) = load_mnist()
    pool = []
    for index in np.random.default_rng(seed).permutation(len(x_test)):
        image = canvas_drawing(x_test[index])
        reading = reader.read_digit(image, polarity="light")
        label = int(y_test[index])
        right = all(p.digit == label and p.sure for p in reading.predictions.values())
        if right and reading.typical and reading.letter is None:
            pool.append({"label": label, "png": data_url(image), "mnist_test_index": int(index)})
        if len(pool) == size:
            break
    return pool


def warm_up(url: str) -> None:
    """One session's first run: the models are loaded before anything is measured."""
    session = StreamlitSession(url, timeout=120)
    session.connect()
    session.run()
    session.close()


def run_locust(
    url: str, load: Load, pool_path: Path, work: Path, during: Callable[[float], None] | None = None
) -> tuple[list[dict], float]:
    """Run Locust headless for warm-up + measurement; `during(started)` runs beside it (in a thread).
    Returns the users' records and Locust's CPU seconds."""
    records = work / f"records-{load.users}-{load.pace_s}.jsonl"
    env = {
        **os.environ,
        "LOAD_POOL": str(pool_path),
        "LOAD_RECORDS": str(records),
        "LOAD_PACE_S": str(load.pace_s),
        "LOAD_SHARE_EVERY": str(load.share_every),
    }
    seconds = load.warm_up_s + load.measure_s
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "tools" / "load" / "locustfile.py"),
        "--headless",
        "--users",
        str(load.users),
        "--spawn-rate",
        str(SPAWN_PER_S),
        "--run-time",
        f"{seconds:.0f}s",
        "--host",
        url,
        "--stop-timeout",
        "30",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--csv",
        str(work / f"locust-{load.users}-{load.pace_s}"),
    ]
    log = open(work / "locust.log", "a")  # noqa: SIM115 (closed below)
    started = time.time()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    helper = threading.Thread(target=during, args=(started,)) if during else None
    if helper:
        helper.start()
    try:
        process.wait(timeout=seconds + 120)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
        if helper:
            helper.join()
    cpu = _cpu_seconds_of_children()
    lines = records.read_text().splitlines() if records.is_file() else []
    return [json.loads(line) for line in lines], cpu


def _cpu_seconds_of_children() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


class CpuWindow:
    """The server processes' CPU seconds and memory across the measurement window."""

    def __init__(self, pids: list[int], window: tuple[float, float]) -> None:
        self.pids, self.window = pids, window
        self.cpu_s = 0.0
        self.rss_mb = 0.0

    def __call__(self, started: float) -> None:
        begin, end = (started + t for t in self.window)
        time.sleep(max(0.0, begin - time.time()))
        before = {pid: cpu_seconds(pid) for pid in self.pids}
        time.sleep(max(0.0, end - time.time()))
        after = {pid: cpu_seconds(pid) for pid in self.pids}
        self.cpu_s = sum(after[p] - before[p] for p in self.pids if before[p] is not None and after[p] is not None)
        self.rss_mb = sum(memory_mb(pid) or 0 for pid in self.pids)


def summarise(
    result: Result, records: list[dict], load: Load, started_at: float, window: CpuWindow, baseline_rss_mb: float
) -> Result:
    begin, end = started_at + load.warm_up_s, started_at + load.warm_up_s + load.measure_s
    answers = [r for r in records if r["kind"] == "answer"]
    measured = [r for r in answers if r.get("answered") and begin <= r["answered"] <= end and not r["error"]]
    latencies = [r["latency"] for r in measured]
    result.answers = len(measured)
    result.users_answered = len({r["user"] for r in answers if r.get("answered") and not r["error"]})
    result.answers_per_s = round(len(measured) / load.measure_s, 2)
    if latencies:
        result.stroke_to_answer_s = {
            "p50": round(statistics.median(latencies), 3),
            "p95": round(float(np.percentile(latencies, 95)), 3),
            "max": round(max(latencies), 3),
        }
    if measured and window.cpu_s:
        result.server_cpu_ms_per_answer = round(window.cpu_s * 1000 / len(measured), 1)
    result.server_rss_mb = round(window.rss_mb)
    result.memory_mb_per_session = round((window.rss_mb - baseline_rss_mb) / load.users, 2)
    result.wrong_answers = sum(1 for r in answers if r["error"] and "showed" in r["error"])
    result.connections_lost = sum(1 for r in records if r["kind"] == "lost")
    result.errors = sum(1 for r in records if r.get("error")) - result.wrong_answers - result.connections_lost
    if recovered := [r for r in records if r["kind"] == "recovered"]:
        result.failover_parts_s = {
            "reconnect": round(statistics.median(r["at"] - r["lost_at"] - r["first_run_s"] for r in recovered), 2),
            "first_run": round(statistics.median(r["first_run_s"] for r in recovered), 2),
        }
    result.shares_confirmed = sum(1 for r in records if r["kind"] == "share" and not r["error"])
    result.problems = sorted({r["error"] for r in records if r.get("error") and r["kind"] != "lost"})[:10]
    return result


@dataclass
class Running:
    """What a run is pointed at: the URL users open, each server's URL and PID, and the database."""

    url: str
    server_urls: list[str]
    pids: list[int]
    database: str
    cluster: object = None  # deploy.cluster.Cluster, when it is the cluster


@contextlib.contextmanager
def one_server(work: Path) -> Iterator[Running]:
    database = f"sqlite:///{work / 'room.db'}"
    with running_app(work / "server.log", env={"MNIST_APP_DB": database}, timeout=120) as url:
        yield Running(url, [url], [server_pid(url)], database)
    if problems := log_problems(work / "server.log"):
        raise RuntimeError("the server logged problems:\n" + "\n".join(problems))


@contextlib.contextmanager
def cluster(work: Path) -> Iterator[Running]:
    from deploy import cluster as cluster_module
    from deploy.services import free_port

    for folder in (work, *work.parents):  # PostgreSQL and nginx's workers run as other users
        if folder == Path(tempfile.gettempdir()):
            break
        folder.chmod(0o755)
    started = cluster_module.start(replicas=2, port=free_port(), run_dir=work / "cluster")
    try:
        pids = [int(started.replica_pid_file(i).read_text()) for i in range(2)]
        yield Running(started.url, [started.replica_url(i) for i in range(2)], pids, started.database, started)
    finally:
        cluster_module.stop(started.run_dir)


class Killer:
    """Kills the cluster's first replica (SIGKILL, as a crash) at_s seconds into the run."""

    def __init__(self, running: Running, at_s: float) -> None:
        self.running, self.at_s = running, at_s
        self.killed_at = 0.0
        self.replica = f"127.0.0.1:{running.cluster.replica_ports[0]}"  # as nginx's X-Replica names it

    def __call__(self, started_at: float) -> None:
        from deploy import cluster as cluster_module

        time.sleep(max(0.0, started_at + self.at_s - time.time()))
        self.killed_at = time.time()
        cluster_module.kill_replica(self.running.cluster, 0)


def measure(target: str, load: Load, pool_path: Path, work: Path, kill_at_s: float | None = None) -> Result:
    """One Locust run against a fresh server ('server') or a fresh cluster ('cluster')."""
    result = Result(target, load.users, load.pace_s, round(load.offered_per_s, 2))
    work.mkdir(parents=True, exist_ok=True)
    with one_server(work) if target == "server" else cluster(work) as running:
        for url in running.server_urls:
            warm_up(url)
        baseline = sum(memory_mb(pid) or 0 for pid in running.pids)
        window = CpuWindow(running.pids, (load.warm_up_s, load.warm_up_s + load.measure_s))
        killer = Killer(running, kill_at_s) if kill_at_s is not None else None
        cpu_before = _cpu_seconds_of_children()

        def beside(started_at: float) -> None:
            if killer:
                threading.Thread(target=killer, args=(started_at,)).start()
            window(started_at)

        began = time.time()
        records, cpu_after = run_locust(running.url, load, pool_path, work, during=beside)
        result = summarise(result, records, load, began, window, baseline)
        result.load_generator_cpu_share = round((cpu_after - cpu_before) / (load.warm_up_s + load.measure_s), 2)
        result.shares_stored = Store(running.database).count()
        if killer:
            result.failover_s = failover_seconds(records, killer.killed_at, killer.replica)
            result.memory_mb_per_session = None  # one of the two servers is gone
    return result


def failover_seconds(records: list[dict], killed_at: float, replica: str) -> list[float]:
    """Per session of the killed replica: from its first drawing after the kill (or the kill itself, if it
    was waiting then) to the answer, through the reconnection. A session that never answered: inf."""
    on_killed = {
        r["user"] for r in records if r["kind"] == "answer" and r["replica"] == replica and r["at"] < killed_at
    }
    recovered = {r["user"]: r for r in records if r["kind"] == "answer" and r.get("recovered") and r.get("answered")}
    return [
        round(recovered[u]["answered"] - max(recovered[u]["at"], killed_at), 2) if u in recovered else float("inf")
        for u in sorted(on_killed)
    ]


TARGETS = {"server": Load(users=200, pace_s=20, measure_s=60), "cluster": Load(users=200, pace_s=10, measure_s=60)}
# Past the targets, the same 200 sessions drawing faster, until p95 passes 1 s: the knee.
KNEE_PACES = {"server": (13.3, 11.4, 10, 8), "cluster": (8, 6.7, 5, 4)}
# Failover: at the cluster's target (then the survivor carries it all, past one server's knee), and
# at a rate one server holds (how a 2-replica deployment must be sized to lose one).
FAILOVER_PACES = (10, 15)
KNEE_MEASURE_S = 40


def full_table(pool_path: Path, work: Path) -> list[Result]:
    results = []
    for target, load in TARGETS.items():
        results.append(measure(target, load, pool_path, work / target))
        print(one_line(results[-1]), flush=True)
        for pace in KNEE_PACES[target]:
            if results[-1].stroke_to_answer_s.get("p95", 99) > P95_BUDGET_S:
                break
            results.append(
                measure(target, Load(load.users, pace, KNEE_MEASURE_S), pool_path, work / f"{target}-{pace}")
            )
            print(one_line(results[-1]), flush=True)
    for pace in FAILOVER_PACES:
        failover = Load(users=200, pace_s=pace, measure_s=45)
        kill_at_s = failover.warm_up_s + 15
        results.append(measure("cluster", failover, pool_path, work / f"failover-{pace}", kill_at_s=kill_at_s))
        print(one_line(results[-1]), flush=True)
    return results


def record(results: list[Result]) -> None:
    """benchmarks/load.json (beside the browser runs' figures) and the capacity table (docs/deploy.md)."""
    from tools.bench.app_bench import machine
    from tools.reports.report import write_section

    path = OUT_DIR / "load.json"
    recorded = json.loads(path.read_text()) if path.is_file() else {}
    recorded["locust"] = {"machine": machine(), "runs": [asdict(r) | {"ok": r.ok} for r in results]}
    path.write_text(json.dumps(recorded, indent=1) + "\n")
    write_section("capacity", capacity_table(results))


def capacity_table(results: list[Result]) -> str:
    rows = [
        "| where | sessions, each drawing every | answers/s (offered) | stroke to answer p50 / p95 | server CPU per "
        "answer | memory per session | errors / wrong answers | shares confirmed / stored |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = {"server": "one app server", "cluster": "2 replicas + nginx"}
    notes = []
    for r in results:
        where = names[r.target] + (" — one replica killed" if r.failover_s else "")
        latency = r.stroke_to_answer_s
        memory = "—" if r.memory_mb_per_session is None else f"{r.memory_mb_per_session} MB"
        rows.append(
            f"| {where} | {r.users}, {r.pace_s:g} s | {r.answers_per_s} ({r.offered_answers_per_s}) | "
            f"{latency.get('p50', '-')} s / {latency.get('p95', '-')} s | {r.server_cpu_ms_per_answer} ms | "
            f"{memory} | {r.errors} / {r.wrong_answers} | {r.shares_confirmed} / {r.shares_stored} |"
        )
        if r.failover_s:
            within = sum(s <= FAILOVER_BUDGET_S for s in r.failover_s)
            notes.append(
                f"Killed at {r.offered_answers_per_s} answers/s: {len(r.failover_s)} sessions moved; "
                f"{within} answered again within {FAILOVER_BUDGET_S:g} s (median "
                f"{statistics.median(r.failover_s):.2f} s, max {max(r.failover_s):.2f} s); reconnecting took "
                f"{r.failover_parts_s['reconnect']} s and the first run there {r.failover_parts_s['first_run']} "
                "s (medians)."
            )
    return "\n".join(rows) + "\n\n" + "\n".join(notes) + ("\n" if notes else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write benchmarks/load.json and the table in docs/")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="mnist-capacity-"))
    pool_path = work / "pool.json"
    pool_path.write_text(json.dumps(drawing_pool()))
    results = full_table(pool_path, work)
    if args.record:
        record(results)
    targets = [r for r in results if r.pace_s == TARGETS[r.target].pace_s]
    return 0 if all(r.ok for r in targets) else 1


def one_line(result: Result) -> str:
    latency = result.stroke_to_answer_s
    return (
        f"{result.target}: {result.users} sessions every {result.pace_s:g} s -> {result.answers_per_s} answers/s "
        f"(offered {result.offered_answers_per_s}); p50 {latency.get('p50')} s, p95 {latency.get('p95')} s; "
        f"server CPU {result.server_cpu_ms_per_answer} ms/answer; {result.memory_mb_per_session} MB/session; "
        f"errors {result.errors}, wrong {result.wrong_answers}; shares {result.shares_confirmed} confirmed, "
        f"{result.shares_stored} stored; Locust {result.load_generator_cpu_share} of a core"
        + (
            f"; {result.connections_lost} lost, failover {result.failover_s} {result.failover_parts_s}"
            if result.failover_s
            else ""
        )
        + (f"; problems {result.problems}" if result.problems else "")
    )


if __name__ == "__main__":
    sys.exit(main())
