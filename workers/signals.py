"""Worker process hooks: warm-up, task leases and reconciliation of work the broker may have lost.

* every task sent through revive.queue has a ``task_dispatches`` row: ``task_prerun`` claims it
  (node, boot id, lease), ``task_postrun`` finishes it, and a thread in the worker's main
  process renews the leases of this worker's running tasks every REVIVE_RECONCILE_SECONDS;
* at start and on that same beat the worker reconciles: dispatches never handed to the broker
  (it was down) are sent, and those whose worker died (lease run out) are re-sent by task name;
* at start it also re-sends domain rows stuck for 10+ minutes (imports, index builds, match
  runs) and queues tokenization of stale patents.

REVIVE_TEST_PAUSE_AT=<task name>:<n> (tests only) parks the task's process after its n-th
database commit, writing its pid to REVIVE_TEST_PAUSE_DIR/<task name>.pid, so a fault test can
kill it at a known point instead of guessing with timings.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

from celery.signals import (
    task_postrun,
    task_prerun,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)

logger = logging.getLogger(__name__)

# One id per worker start; inherited by the prefork children (forked after this import).
BOOT_ID = uuid.uuid4().hex
RECONCILE_SECONDS = float(os.environ.get("REVIVE_RECONCILE_SECONDS") or 30)
LEASE = timedelta(seconds=max(3 * RECONCILE_SECONDS, 3))
_stop = threading.Event()


def _app():
    from workers.app import flask_app

    return flask_app


# ---------------------------------------------------------------------------- leases


@task_prerun.connect
def _claim(task_id: str | None = None, task: object = None, **_: object) -> None:
    from revive import queue

    node = getattr(getattr(task, "request", None), "hostname", None) or "unknown"
    try:
        with _app().app_context():
            queue.claim(task_id or "", node, BOOT_ID, LEASE)
    except Exception:  # bookkeeping must never keep a task from running
        logger.exception("Could not claim dispatch of task %s", task_id)


@task_postrun.connect
def _finish(task_id: str | None = None, **_: object) -> None:
    from revive import queue

    try:
        with _app().app_context():
            queue.finish(task_id or "")
    except Exception:
        logger.exception("Could not finish dispatch of task %s", task_id)


def _reconcile_once(app) -> None:
    from revive import queue

    with app.app_context():
        queue.renew_leases(BOOT_ID, LEASE)
        done = queue.reconcile()
        if done["sent"] or done["resent"]:
            logger.info("Reconciled dispatches: %s", done)


def _reconcile_loop() -> None:
    app = _app()
    last_prune = 0.0
    while not _stop.wait(RECONCILE_SECONDS):
        try:
            _reconcile_once(app)
            if time.monotonic() - last_prune > 3600:
                from revive import queue

                with app.app_context():
                    queue.prune()
                last_prune = time.monotonic()
        except Exception:  # database or broker down: try again on the next beat
            logger.warning("Reconciliation failed; retrying in %ss", RECONCILE_SECONDS)


@worker_ready.connect
def _requeue_stale_jobs(sender: object = None, **_: object) -> None:
    """On start: send or re-send lost dispatches, re-send import jobs, index builds and match
    runs stuck for 10+ minutes, queue tokenization of stale patents; then keep reconciling."""
    from revive.imports.services import requeue_stale_jobs
    from revive.matching.services import request_tokenize, requeue_stale_runs

    flask_app = _app()
    try:
        _reconcile_once(flask_app)
    except Exception:  # never keep a worker from starting
        logger.exception("Could not reconcile dispatches")
    with flask_app.app_context():
        try:
            sent = requeue_stale_jobs(older_than_minutes=10)
            if sent:
                logger.info("Re-sent %d stale import job(s): %s", len(sent), sent)
        except Exception:
            logger.exception("Could not reconcile stale import jobs")
        try:
            runs = requeue_stale_runs(older_than_minutes=10)
            if runs["index_builds"] or runs["match_runs"]:
                logger.info("Re-sent stale matching work: %s", runs)
            request_tokenize(None)
        except Exception:
            logger.exception("Could not reconcile stale matching work")
    _stop.clear()
    threading.Thread(target=_reconcile_loop, name="revive-reconcile", daemon=True).start()


@worker_shutdown.connect
def _stop_reconciling(**_: object) -> None:
    _stop.set()


@worker_process_init.connect
def _warm_up(**_: object) -> None:
    """In each child: drop database connections inherited from the parent, and load jieba's
    dictionary once, so the first task is not slow."""
    try:
        from revive.extensions import db

        with _app().app_context():
            db.engine.dispose(close=False)
    except Exception:
        logger.exception("Could not reset the inherited connection pool")
    try:
        from revive.engine.text import segmenter

        segmenter()
    except Exception:
        logger.exception("Could not warm up the tokenizer")


# ---------------------------------------------------------------------------- test pause hook
# Connected only in a worker started with REVIVE_TEST_PAUSE_AT (fault tests).

_PAUSE_AT = os.environ.get("REVIVE_TEST_PAUSE_AT", "")
_pause = threading.local()


def _pause_arm(task: object = None, **_: object) -> None:
    name, _sep, nth = _PAUSE_AT.rpartition(":")
    if getattr(task, "name", None) == name:
        _pause.remaining = int(nth or 1)
        _pause.task = name


def _pause_disarm(**_: object) -> None:
    _pause.remaining = 0


def _pause_after_commit(session: object) -> None:
    remaining = getattr(_pause, "remaining", 0)
    if remaining <= 0:
        return
    _pause.remaining = remaining - 1
    if _pause.remaining:
        return
    folder = Path(os.environ.get("REVIVE_TEST_PAUSE_DIR") or ".")
    marker = folder / f"{_pause.task}.pid"
    if marker.exists():  # paused once already: this is the redelivery, let it run
        return
    marker.write_text(str(os.getpid()), encoding="utf-8")
    logger.warning("REVIVE_TEST_PAUSE_AT: task %s parked in pid %s", _pause.task, os.getpid())
    while True:  # until the test kills this process
        time.sleep(0.5)


if _PAUSE_AT:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    task_prerun.connect(_pause_arm)
    task_postrun.connect(_pause_disarm)
    sa.event.listen(Session, "after_commit", _pause_after_commit)
