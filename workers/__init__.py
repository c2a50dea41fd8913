"""Celery worker entry point (``celery -A workers.app worker``) and thin task wrappers."""

from __future__ import annotations

import sys


def worker_command(node: str, concurrency: int = 1, *extra: str) -> list[str]:
    """The command line of a prefork worker named ``node`` with ``concurrency`` processes, as
    the integration tests and the load-test runner start one (no gossip or mingle: workers
    started side by side do not wait for each other)."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.app",
        "worker",
        "--pool=prefork",
        "-c",
        str(concurrency),
        "--loglevel=INFO",
        "-n",
        node,
        "--without-gossip",
        "--without-mingle",
        *extra,
    ]
