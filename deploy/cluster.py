"""`make cluster`: the Compose deployment on this machine, without Docker.

    python -m deploy.cluster start [--replicas 2] [--port 8500]   # PostgreSQL, N replicas, nginx
    python -m deploy.cluster status
    python -m deploy.cluster stop

Everything listens on 127.0.0.1 and lives in one run directory (MNIST_CLUSTER_DIR, default
/tmp/mnist-cluster): a PID file and a log per process, the rendered nginx.conf and cluster.json.
nginx uses deploy/nginx.conf with only the ports and paths changed. Each process is stopped by
its own PID file; PostgreSQL by pg_ctl. With MNIST_APP_DB set, that database is used instead.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from deploy import services
from mnist_app.drawings import presenter

DEFAULT_DIR = Path(os.environ.get("MNIST_CLUSTER_DIR", "/tmp/mnist-cluster"))


@dataclass
class Cluster:
    """What runs where; saved as cluster.json in the run directory."""

    run_dir: Path
    port: int  # nginx, the one address users open
    replica_ports: list[int] = field(default_factory=list)
    database: str = ""
    postgres_port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def replica_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.replica_ports[index]}"

    def replica_pid_file(self, index: int) -> Path:
        return self.run_dir / f"replica-{index}.pid"

    def save(self) -> None:
        state = {**asdict(self), "run_dir": str(self.run_dir)}
        (self.run_dir / "cluster.json").write_text(json.dumps(state, indent=1) + "\n")

    @classmethod
    def load(cls, run_dir: Path) -> Cluster | None:
        path = run_dir / "cluster.json"
        if not path.is_file():
            return None
        state = json.loads(path.read_text())
        return cls(**{**state, "run_dir": Path(state["run_dir"])})


def start(
    replicas: int = 2,
    port: int = 8500,
    run_dir: Path = DEFAULT_DIR,
    database: str | None = None,
    presenter_key: str | None = None,
) -> Cluster:
    """Start PostgreSQL (unless `database` is given), the replicas and nginx; wait until all answer.
    Every replica gets the same presenter key (`presenter_key`, else MNIST_APP_PRESENTER_KEY, else a random one)."""
    if (old := Cluster.load(run_dir)) is not None:
        stop(old.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    run_dir.chmod(0o755)  # nginx's workers (nobody) reach their temp files here
    cluster = Cluster(run_dir, port)
    cluster.save()  # saved at once, so `stop` finds whatever has started even if a later step fails
    if database is None:
        postgres = services.Postgres(run_dir / "postgres", services.free_port())
        cluster.postgres_port = postgres.port
        cluster.save()
        database = postgres.start()
    cluster.database = database
    # Replicas must agree on the cookie secret: a session's XSRF cookie, made by one, is checked by another.
    # ...and on the presenter key: the presenter's tab may be served by any of them.
    env = {
        "MNIST_APP_DB": database,
        "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(16),
        presenter.ENV_VAR: presenter_key or presenter.configured_key() or presenter.new_key(),
    }
    for index in range(replicas):
        replica_port = services.free_port()
        cluster.replica_ports.append(replica_port)
        services.start_process(
            services.replica_command(replica_port),
            cluster.replica_pid_file(index),
            run_dir / f"replica-{index}.log",
            env,
        )
        cluster.save()
    for index in range(replicas):
        services.wait_ready(cluster.replica_url(index))
    _start_nginx(cluster)
    services.wait_ready(cluster.url, timeout=30)
    return cluster


def _start_nginx(cluster: Cluster) -> None:
    binary = services.nginx_bin()
    if binary is None:
        raise RuntimeError("nginx is not installed; `make cluster` installs Debian's nginx-light")
    upstreams = [f"127.0.0.1:{port}" for port in cluster.replica_ports]
    config = services.nginx_config(
        services.NGINX_TEMPLATE.read_text(), upstreams, f"127.0.0.1:{cluster.port}", cluster.run_dir
    )
    config = config.replace("include /etc/nginx/mime.types;", f"include {services.MIME_TYPES};")
    path = cluster.run_dir / "nginx.conf"
    path.write_text(config)
    check = subprocess.run(
        [binary, "-t", "-q", "-c", str(path), "-p", str(cluster.run_dir)], capture_output=True, text=True, timeout=30
    )
    if check.returncode != 0:
        raise RuntimeError(f"nginx refused {path}: {check.stderr.strip()}")
    services.start_process(
        [binary, "-c", str(path), "-p", str(cluster.run_dir), "-g", "daemon off;"],
        cluster.run_dir / "nginx-master.pid",
        cluster.run_dir / "nginx.out",
    )


def kill_replica(cluster: Cluster, index: int) -> None:
    """Kill one replica abruptly (SIGKILL), as a crash would."""
    pid = int(cluster.replica_pid_file(index).read_text())
    os.killpg(pid, 9)
    services.stop_pid_file(cluster.replica_pid_file(index), timeout=5)


def stop(run_dir: Path = DEFAULT_DIR) -> list[str]:
    """Stop everything the cluster in `run_dir` started; returns what was stopped."""
    cluster = Cluster.load(run_dir)
    stopped = []
    if services.stop_pid_file(run_dir / "nginx-master.pid"):
        stopped.append("nginx")
    for pid_file in sorted(run_dir.glob("replica-*.pid")):
        if services.stop_pid_file(pid_file):
            stopped.append(pid_file.stem)
    if cluster is not None and cluster.postgres_port is not None:
        postgres = services.Postgres(run_dir / "postgres", cluster.postgres_port)
        if (postgres.data / "postmaster.pid").exists():
            postgres.stop()
            stopped.append("postgresql")
    (run_dir / "cluster.json").unlink(missing_ok=True)
    return stopped


def status(run_dir: Path = DEFAULT_DIR) -> dict:
    cluster = Cluster.load(run_dir)
    if cluster is None:
        return {"running": False}
    ready = {}
    for name, url in [("nginx", cluster.url)] + [
        (f"replica-{i}", cluster.replica_url(i)) for i in range(len(cluster.replica_ports))
    ]:
        try:
            services.wait_ready(url, timeout=2)
            ready[name] = True
        except TimeoutError:
            ready[name] = False
    return {"running": True, "url": cluster.url, "database": cluster.database, "ready": ready}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.cluster", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--replicas", type=int, default=int(os.environ.get("REPLICAS", "2")))
    parser.add_argument("--port", type=int, default=8500)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    if args.command == "stop":
        print("stopped: " + (", ".join(stop(args.dir)) or "nothing was running"))
        return 0
    if args.command == "status":
        print(json.dumps(status(args.dir), indent=1))
        return 0
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    started = time.monotonic()
    configured = presenter.configured_key()
    key = configured or presenter.new_key()
    try:
        cluster = start(args.replicas, args.port, args.dir, os.environ.get("MNIST_APP_DB"), key)
    except (RuntimeError, TimeoutError, OSError) as error:
        print(f"error: {error}; stopping what started", file=sys.stderr)
        stop(args.dir)
        return 2
    print(
        f"{args.replicas} replica(s) behind nginx at {cluster.url} in {time.monotonic() - started:.0f} s; "
        f"drawings in {cluster.database}; logs in {cluster.run_dir}; stop with `make cluster-stop`"
    )
    if configured is None:
        print(presenter.announcement(key))
    return 0


if __name__ == "__main__":
    sys.exit(main())
