"""scripts/run.sh (`make run`) keeps the site up when the worker dies, and stops cleanly.

The script runs as `make run` starts it (real gunicorn, real Celery worker on the embedded
filesystem broker) in a data folder of its own on a free port; only the migration and demo
seed (the Makefile's steps before it) are left out. Every wait polls for the thing it needs.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "run.sh"
BIN = ROOT / ".venv" / "bin"
# The script's own messages (scripts/run.sh), and the worker's once it takes tasks.
WORKER_STARTED = re.compile(r"worker 已启动（进程 (\d+)）")
WEB_STARTED = re.compile(r"网站已启动（进程 (\d+)）")
WORKER_READY = re.compile(r"celery@\S+ ready\.")
SWEEP_RAN = re.compile(r"Task queue\.resend_stuck\[[^\]]+\] (?:succeeded|raised)")
STARTUP = 60.0  # seconds; an upper bound for a loaded machine, not a wait


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gone(pgid: int) -> bool:
    """No process is left in the process group (the script gives each child one of its own)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # pragma: no cover - a recycled id of another user's group
        return True
    return False


class RunScript:
    def __init__(self, tmp_path: Path, stop_timeout: int, **extra_env: str) -> None:
        self.port = _free_port()
        self.data_dir = tmp_path / "data"
        self.log_path = tmp_path / "run.log"
        env = {
            k: v
            for k, v in os.environ.items()
            # The embedded defaults: SQLite and the filesystem broker in the data folder.
            if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_RESULT_BACKEND"}
        }
        env.update(
            REVIVE_DATA_DIR=str(tmp_path / "data"),
            PORT=str(self.port),
            SECRET_KEY="run-script-test",
            PYTHONUNBUFFERED="1",
            REVIVE_STOP_TIMEOUT=str(stop_timeout),
            **extra_env,
        )
        # A terminal starts `make run` with SIGINT at its default. A test runner that was itself
        # started in the background by a shell inherits SIGINT ignored, and bash cannot trap a
        # signal ignored on entry: the script would never see the Ctrl-C below. A handler
        # installed here is reset to the default in the child at exec.
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            with self.log_path.open("w", encoding="utf-8") as log:
                # A session of its own, as a terminal gives `make run`: Ctrl-C is SIGINT to
                # its group.
                self.proc = subprocess.Popen(
                    ["bash", str(SCRIPT)],
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        finally:
            signal.signal(signal.SIGINT, previous)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        return [int(p) for p in WORKER_STARTED.findall(self.log())]

    def web_pid(self) -> int:
        (pid,) = (int(p) for p in WEB_STARTED.findall(self.log()))
        return pid

    def workers_ready(self) -> int:
        return len(WORKER_READY.findall(self.log()))

    def site_status(self) -> int | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login", timeout=5) as r:
                return r.status
        except OSError:
            return None

    def wait_for(
        self, what: str, predicate: Callable[[], bool], timeout: float, *, running: bool = True
    ) -> None:
        """Poll until ``predicate()``; fail on the timeout, or (``running``) if run.sh exits."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{what}: not after {timeout:.0f} s\n--- run.sh output ---\n{self.tail()}"
                )
            if running and self.proc.poll() is not None and not predicate():
                pytest.fail(
                    f"{what}: run.sh exited ({self.proc.returncode}) first\n"
                    f"--- run.sh output ---\n{self.tail()}"
                )
            time.sleep(0.1)

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"run.sh still running after {timeout:.0f} s\n{self.tail()}")

    def kill_everything(self) -> None:
        """Teardown whatever happened: the script and every group it started."""
        groups = [*self.worker_pids(), *WEB_STARTED.findall(self.log())]
        for pgid in [self.proc.pid, *map(int, groups)]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        self.proc.wait(10)


@pytest.fixture
def run_script(tmp_path: Path) -> Iterator[Callable[..., RunScript]]:
    missing = [n for n in ("celery", "gunicorn", "python", "revive") if not (BIN / n).exists()]
    if missing or os.name != "posix":
        reason = f"scripts/run.sh needs POSIX and .venv/bin/{{{','.join(missing)}}} (make install)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    started: list[RunScript] = []

    def start(stop_timeout: int = 20, **extra_env: str) -> RunScript:
        started.append(RunScript(tmp_path, stop_timeout, **extra_env))
        return started[-1]

    yield start
    for script in started:
        script.kill_everything()


def test_a_killed_worker_is_restarted_while_the_site_stays_up(run_script):
    run = run_script()
    run.wait_for("site answers", lambda: run.site_status() == 200, STARTUP)
    _refused_in_chinese(run.port)
    _no_mount_point_from_headers(run.port)
    run.wait_for("worker ready", lambda: run.workers_ready() >= 1, STARTUP)
    (first,) = run.worker_pids()

    os.kill(first, signal.SIGKILL)
    run.wait_for("restart announced", lambda: "worker 已停止（被信号 KILL 终止）" in run.log(), 20)
    assert "秒后重启" in run.log()
    assert run.site_status() == 200  # while the worker is down or still starting
    run.wait_for("a new worker", lambda: len(run.worker_pids()) == 2, 15)
    second = run.worker_pids()[1]
    assert second != first
    # The dead worker's whole process group (prefork children, embedded beat) is gone.
    run.wait_for("old worker's group gone", lambda: _gone(first), 10)
    run.wait_for("new worker ready", lambda: run.workers_ready() >= 2, STARTUP)
    assert not _gone(second)
    assert run.proc.poll() is None
    assert run.site_status() == 200

    # Ctrl-C: SIGINT to the terminal's foreground group, which is the script's alone.
    os.killpg(run.proc.pid, signal.SIGINT)
    assert run.wait_exit(30) == 0, run.tail()
    assert "已停止。" in run.log()
    # Killed orphans can linger as zombies until init reaps them.
    run.wait_for(
        "both groups gone", lambda: _gone(second) and _gone(run.web_pid()), 5, running=False
    )
    assert run.site_status() is None


def _pool_children(worker: int) -> list[int]:
    """The worker's pool processes: its children but the embedded beat, which Celery starts
    after the pool (the last child to start; /proc's start time, in clock ticks)."""
    found = subprocess.run(["pgrep", "-P", str(worker)], capture_output=True, text=True)

    def started(pid: int) -> int:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])

    children = sorted((int(p) for p in found.stdout.split()), key=started)
    return children[:-1]


def test_a_killed_pool_process_restarts_the_worker_on_the_embedded_broker(run_script):
    """A tester's kill -9 of an idle pool process stopped all background work: on the folder
    broker the pool's children share one lock, which the dead child held, and the worker's
    main process lived on, so run.sh saw nothing to restart (workers/pool.py)."""
    run = run_script(REVIVE_SWEEP_SECONDS="2")  # the sweep: a task every 2 s, seen in the log
    run.wait_for("worker ready", lambda: run.workers_ready() >= 1, STARTUP)
    (first,) = run.worker_pids()
    # a pool process ran a sweep (it fails or not: this folder's database is not migrated)
    run.wait_for("a sweep ran", lambda: bool(SWEEP_RAN.search(run.log())), 30)
    pool = _pool_children(first)
    assert len(pool) == 2, pool  # --concurrency=2
    for pid in pool:  # whichever of them held the task pipe's lock
        os.kill(pid, signal.SIGKILL)
    run.wait_for("the guard restarts the worker", lambda: len(run.worker_pids()) == 2, 60)
    assert "restarting the whole worker" in run.log()
    run.wait_for("new worker ready", lambda: run.workers_ready() >= 2, STARTUP)
    after = len(run.log())
    run.wait_for("the new worker runs tasks", lambda: bool(SWEEP_RAN.search(run.log()[after:])), 30)


def _refused_in_chinese(port: int) -> None:
    """What gunicorn refuses before Flask sees it (a request line over its limit, headers over
    its limit) gets a Chinese page, not gunicorn's English one (revive/gunicorn_worker.py)."""
    import http.client

    for path, headers, status, words in (
        ("/patents/?q=" + "专" * 3000, {}, 414, "网址过长"),
        ("/login", {"Cookie": "x=" + "a" * 9000}, 431, "请求头过大"),
    ):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.putrequest("GET", urllib.parse.quote(path, safe="/?="))
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.endheaders()
            resp = conn.getresponse()
            body = resp.read().decode("utf-8")
        finally:
            conn.close()
        assert resp.status == status and words in body, (resp.status, body[:200])
        assert resp.getheader("Content-Type") == "text/html; charset=utf-8"


def _no_mount_point_from_headers(port: int) -> None:
    """gunicorn took a SCRIPT_NAME request header from localhost as the mount point, so a
    same-host proxy passing it let a client have url_for() write //evil.example/… (a
    redirect's Location, a logged reset link). Revive sits at the root whatever it says."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/", headers={"SCRIPT_NAME": "//evil.example"})
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    assert resp.status == 302 and resp.getheader("Location", "").startswith("/login")


def test_the_script_stops_with_the_worker_when_the_site_dies(run_script):
    """The other choice: without the site there is nothing to use, so run.sh stops and fails.
    (The worker may still be starting, when a warm shutdown takes long: 1 s, then SIGKILL.)"""
    run = run_script(stop_timeout=1)
    run.wait_for("site answers", lambda: run.site_status() == 200, STARTUP)
    web, (worker,) = run.web_pid(), run.worker_pids()

    os.kill(web, signal.SIGKILL)
    assert run.wait_exit(30) == 1, run.tail()
    log = run.log()
    assert "网站进程已退出（被信号 KILL 终止），正在停止 worker。" in log
    assert "已停止。" in log
    assert len(run.worker_pids()) == 1  # not restarted on the way out
    run.wait_for("both groups gone", lambda: _gone(worker) and _gone(web), 5, running=False)
