"""The worker's main process loads the engine before it forks its pool (workers/signals.py)."""

from __future__ import annotations

import re

from celery.signals import worker_init


def test_the_main_process_warms_the_engine_before_forking():
    import workers.signals as signals
    from revive.engine import kernels
    from revive.engine.text import segmenter

    assert any(getattr(r(), "__name__", "") == "_preload" for _, r in worker_init.receivers)
    import gc

    segmenter.cache_clear()
    try:
        signals._preload()
        assert gc.get_freeze_count() > 0  # inherited objects left out of the pool's collections
    finally:
        gc.unfreeze()
    assert segmenter.cache_info().currsize == 1
    assert any(
        not a.mutable for sig in kernels.top_k.signatures for a in sig if hasattr(a, "mutable")
    )


def test_a_pool_process_drops_the_connections_it_inherited(app, monkeypatch):
    """Each pool process resets the database pool it inherited from the main process (a
    connection shared across a fork would interleave two processes' traffic)."""
    import workers.signals as signals
    from revive.extensions import db

    disposed = []
    with app.app_context():
        engine = db.engine
    monkeypatch.setattr(type(engine), "dispose", lambda self, close=True: disposed.append(close))
    assert app.extensions["celery"].flask_app is app
    signals._warm_up()
    assert disposed == [False]


def test_celery_logs_no_task_result_and_dates_with_the_offset():
    """A matching part's result holds demands' titles and texts, and Celery logged it at INFO;
    its lines had no zone beside the app's +0800 (an operator's trial)."""
    import logging

    from celery.app import trace

    import workers.signals as signals

    assert "return_value" not in trace.LOG_SUCCESS
    log = logging.getLogger("celery-test")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s: %(levelname)s] %(message)s"))
    log.addHandler(handler)
    try:
        signals._dated_with_offset(logger=log)
        assert handler.formatter.datefmt == "%Y-%m-%d %H:%M:%S%z"
    finally:
        log.removeHandler(handler)


def test_every_celery_log_line_carries_the_offset(tmp_path):
    """An operator's worker log still read [2026-12-08 04:18:58,802: ERROR/MainProcess]
    Process 'ForkPoolWorker-1' … exited, beside the app's +0800: the pool's own lines go
    through billiard's logger, which Celery gives a handler of its own. Celery's logging as
    the worker sets it up, then a line through each of its loggers."""
    import subprocess
    import sys

    code = (
        "import logging, sys; sys.argv = ['celery', 'inspect']; import workers.app as w;"
        "w.celery_app.log.setup_logging_subsystem(loglevel='INFO', colorize=False);"
        "from billiard import util; util.get_logger().error('pool process gone');"
        "logging.getLogger('celery.worker.request').error('task lost');"
        "w.celery_app.log.setup_task_loggers(loglevel='INFO', colorize=False);"
        "logging.getLogger('celery.task').error('in a task')"
    )
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'log.db'}",
        "REVIVE_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "k",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "ERROR/" in line]
    assert len(lines) == 3, done.stderr
    for line in lines:
        assert re.match(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0800: ERROR/", line), line
