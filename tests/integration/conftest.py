"""Integration harness: a real ``celery -A workers.app worker`` process on Redis and PostgreSQL.

Needs TEST_DATABASE_URL (PostgreSQL; the session ``_app`` fixture has created the tables there)
and REVIVE_TEST_REDIS_URL (a Redis database of its own: it is flushed at start). Outside CI,
without them, the tests skip with the reason; in CI a missing service is a failure (and
tests/conftest.py turns any skipped integration test into a failure as well).

The test app sends tasks through the public path (``revive.queue.enqueue`` reads
``app.extensions["celery"]``), so for these tests that entry is swapped for a client configured
exactly like the worker: same broker settings, same queue.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from revive.config import broker_settings
from tests.conftest import IN_CI, TEST_DATABASE_URL
from tests.worker_process import start_worker, stop_worker

REDIS_URL = os.environ.get("REVIVE_TEST_REDIS_URL")
READY_TIMEOUT = 60  # seconds for the worker to answer a ping
STOP_TIMEOUT = 30  # seconds for a warm shutdown before SIGKILL


def _require_services() -> None:
    missing = [
        name
        for name, value in (
            ("TEST_DATABASE_URL", TEST_DATABASE_URL),
            ("REVIVE_TEST_REDIS_URL", REDIS_URL),
        )
        if not value
    ]
    if TEST_DATABASE_URL and not TEST_DATABASE_URL.startswith(("postgres", "postgresql")):
        missing.append("TEST_DATABASE_URL pointing at PostgreSQL")
    if missing:
        reason = (
            f"integration tests need {', '.join(missing)} "
            "(real PostgreSQL + Redis + Celery worker; `bash .ci/run` sets them up)"
        )
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


def celery_client(
    broker_url: str, data_dir: Path, name: str = "revive-integration-client"
) -> Celery:
    """A Celery client with the worker's settings (revive.config.broker_settings) on
    ``broker_url``."""
    conf = broker_settings(data_dir, broker_url)
    client = Celery(name, set_as_current=False)
    client.config_from_object(conf)
    return client


@pytest.fixture(scope="session")
def celery_worker(_app, _data_dir: Path) -> Iterator[Celery]:
    """Start ``celery -A workers.app worker --pool=prefork -c 2``; yield a client for it."""
    _require_services()
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # no messages left over from an aborted run
    client = celery_client(REDIS_URL or "", _data_dir)
    node = f"revive-test-{uuid.uuid4().hex[:8]}@localhost"
    log_path = _data_dir / "celery-worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": TEST_DATABASE_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "REVIVE_DATA_DIR": str(_data_dir),  # shared with the test app, like the compose volume
        "SECRET_KEY": "test-secret-of-the-suite-and-its-workers",
        # Small shards and a fan-out of 2: every all-demand run of these tests is a real chord
        # (matching.score_shards parts on both pool processes → matching.merge_scores).
        "REVIVE_INDEX_SHARD_DOCS": "2",
        "REVIVE_MATCH_FANOUT": "2",
    }
    env.pop("REDIS_URL", None)
    proc = start_worker(
        env,
        log_path,
        node=node,
        concurrency=2,
        ready=lambda: bool(client.control.ping(destination=[node], timeout=1.0)),
        timeout=READY_TIMEOUT,
    )
    try:
        yield client
    finally:
        stop_worker(proc, STOP_TIMEOUT)
        client.close()


@pytest.fixture
def live_queue(app, celery_worker: Celery, monkeypatch) -> Celery:
    """The app's enqueue goes to the real worker for this test."""
    monkeypatch.setitem(app.extensions, "celery", celery_worker)
    return celery_worker


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
