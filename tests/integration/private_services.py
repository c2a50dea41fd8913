"""Private Redis and PostgreSQL servers for fault tests: stopped and restarted at will, on free
ports, never the machine's shared instances (6379 / 5432)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import IN_CI

PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout}s")
        time.sleep(0.05)


class PrivateRedis:
    """``redis-server`` on a free port with an append-only file, so a stop/start keeps the
    messages already queued (as a production Redis with persistence does)."""

    def __init__(self) -> None:
        if shutil.which("redis-server") is None:
            _unavailable("redis-server is not installed (needed for the Redis fault test)")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="revive-redis-"))
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        self.start()

    def _ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        cmd = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.dir),
            "--save",
            "",
            "--appendonly",
            "yes",
        ]
        with (self.dir / "redis.log").open("a") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        _wait(self._ping, 10, "private redis-server")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: flushes the append-only file, then exits
            self.proc.wait(10)

    def flush(self) -> None:
        import redis

        redis.Redis(port=self.port).flushall()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivatePostgres:
    """A throw-away PostgreSQL cluster (initdb as the postgres user) on a free port."""

    def __init__(self) -> None:
        if not PG_BIN:
            _unavailable("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self.bin = PG_BIN[-1].parent
        self.pg_ctl = str(self.bin / "pg_ctl")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="revive-pg-"))
        self.data = self.dir / "data"
        try:
            shutil.chown(self.dir, "postgres", "postgres")
            initdb = [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust"]
            self._as_postgres(*initdb, "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C")
        except (OSError, LookupError, subprocess.CalledProcessError) as exc:
            shutil.rmtree(self.dir, ignore_errors=True)
            _unavailable(f"cannot create a private PostgreSQL cluster: {exc}")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.start()

    def _as_postgres(self, *cmd: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *cmd],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.dir / "pg.log")
        self._as_postgres(self.pg_ctl, "-D", str(self.data), "-o", opts, "-l", log, "-w", "start")

    def stop(self) -> None:
        # fast: every session is disconnected at once, as in a restart of the service
        self._as_postgres(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
