"""Real servers on loopback, each started and stopped by its own PID file: PostgreSQL, nginx, app replicas.

Used by `make cluster` (deploy/cluster.py) and by the tests. Debian's postgresql and nginx
packages provide the binaries (the Makefile installs them when missing). PostgreSQL refuses to
run as root, so as root its throwaway cluster belongs to the `postgres` user (or `nobody`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from mnist_app.config import READY_PATH

ROOT = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf"
MIME_TYPES = "/etc/nginx/mime.types"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin(tool: str) -> str | None:
    """A PostgreSQL server tool (initdb, pg_ctl, postgres) from Debian's versioned directory."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    return found[-1] if found else shutil.which(tool)


def nginx_bin() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def have_postgres() -> bool:
    return all(postgres_bin(tool) for tool in ("initdb", "pg_ctl", "postgres"))


def _as_service_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", _service_user(), "--", *command]


def _service_user() -> str:
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and there is no 'postgres' or 'nobody' user to run PostgreSQL as")


@dataclass
class Postgres:
    """A throwaway PostgreSQL cluster in `directory`, on 127.0.0.1:`port`, trusting loopback logins."""

    directory: Path
    port: int
    user: str = "mnist"
    database: str = "mnist"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{self.database}"

    @property
    def data(self) -> Path:
        return self.directory / "pgdata"

    def start(self) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam(_service_user())
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        if not (self.data / "PG_VERSION").exists():
            self._run(
                postgres_bin("initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust", "--no-sync", "-E", "UTF8"
            )
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            postgres_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.directory / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        self._ensure_database()
        return self.url

    def _ensure_database(self) -> None:
        psql = [
            postgres_bin("psql") or "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            "postgres",
        ]
        found = subprocess.run(
            _as_service_user([*psql, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"]),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if found.stdout.strip() != "1":
            self._run(*psql, "-c", f"CREATE DATABASE {self.database}")

    def _run(self, *command: str | None) -> None:
        result = subprocess.run(
            _as_service_user([str(c) for c in command]), capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(f"{Path(str(command[0])).name} failed: {result.stderr.strip() or result.stdout.strip()}")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@contextlib.contextmanager
def throwaway_postgres():  # noqa: ANN201 (a context manager of URLs)
    """A PostgreSQL server for the duration of a `with` block; yields its SQLAlchemy URL.

    Its files live in a new directory under /tmp (the service user must reach them), removed after.
    """
    directory = Path(tempfile.mkdtemp(prefix="mnist-pg-"))
    server = Postgres(directory, free_port())
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def start_process(command: list[str], pid_file: Path, log_file: Path, env: dict | None = None) -> int:
    """Start a background process in its own process group; its PID goes to `pid_file`."""
    log = open(log_file, "ab")  # noqa: SIM115 (the child keeps it)
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    log.close()
    pid_file.write_text(f"{process.pid}\n")
    return process.pid


def stop_pid_file(pid_file: Path, timeout: float = 20) -> bool:
    """Stop the process (group) named in `pid_file`: TERM, then KILL; returns whether one was running."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    pid_file.unlink(missing_ok=True)
    if not _alive(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    return True


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        finished, _ = os.waitpid(pid, os.WNOHANG)  # reap our own children, or they stay zombies
        if finished == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def replica_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]


def wait_ready(url: str, timeout: float = 120, process: subprocess.Popen | None = None) -> float:
    """Wait until the app's readiness endpoint (READY_PATH: its models loaded) answers; returns the
    seconds it took. With `process`, stop early (RuntimeError) if that server has exited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the app exited with status {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url + READY_PATH, timeout=2) as response:
            if response.status == 200:
                return time.monotonic() - started
        time.sleep(0.2)
    raise TimeoutError(f"{url} was not ready within {timeout:.0f} s")


def nginx_config(template: str, upstreams: list[str], listen: str, run_dir: Path) -> str:
    """The shipped nginx.conf for loopback: our replicas, our port, files under `run_dir`.

    The template's lines marked `# cluster:` are what differs from Docker Compose.
    """
    servers = "\n".join(f"        server {address} max_fails=1 fail_timeout=10s;" for address in upstreams)
    replaced = (
        template.replace("        server app:8501 max_fails=1 fail_timeout=10s;  # cluster: upstreams", servers)
        .replace("listen 8500;  # cluster: listen", f"listen {listen};")
        .replace("/run/nginx/", f"{run_dir}/")
        .replace("/var/log/nginx/", f"{run_dir}/")
        # Workers of a root master run as nobody; a non-root master runs them as itself.
        .replace("user nginx;  # cluster: user", "user nobody nogroup;" if os.geteuid() == 0 else "")
    )
    if servers not in replaced:
        raise ValueError("deploy/nginx.conf lost its '# cluster: upstreams' line")
    return replaced
