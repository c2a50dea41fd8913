"""A real ``celery -A workers.app worker`` subprocess for the harnesses that need one
(tests/integration on Redis + PostgreSQL, tests/browser on the filesystem broker)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from revive.config import PROJECT_ROOT
from workers import worker_command


def log_tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def start_worker(
    env: Mapping[str, str],
    log_path: Path,
    *,
    node: str,
    concurrency: int,
    ready: Callable[[], bool],
    timeout: float,
    extra_args: tuple[str, ...] = (),
) -> subprocess.Popen:
    """Start a prefork worker named ``node`` logging to ``log_path`` and wait until
    ``ready()``; fail the test with the log's tail if it exits or times out."""
    cmd = worker_command(node, concurrency, *extra_args)
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=PROJECT_ROOT,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the prefork children go with it
        )
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"celery worker exited with {proc.returncode}:\n{log_tail(log_path)}")
        if time.monotonic() > deadline:
            stop_worker(proc, 0)
            pytest.fail(f"celery worker not ready after {timeout}s:\n{log_tail(log_path)}")
        time.sleep(0.2)
    return proc


def stop_worker(proc: subprocess.Popen, timeout: float) -> None:
    """Warm shutdown (finish running tasks), then SIGKILL the group after ``timeout``."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
