"""Worker hooks. The main process, before it forks its pool, loads the tokenizer's dictionary
and compiles the search kernels (``revive.engine.warm``): every pool process then shares those
pages (copy-on-write) instead of holding its own copy — about 60 MB a process. It then freezes
its objects out of the garbage collector (``gc.freeze``, as Python's documentation advises
before a fork): a collection in a pool process would otherwise write to every inherited
object's header and copy those pages — another 30 MB a process once it has answered a
thousand demands. Each pool process
drops the database connections it inherited (and loads the dictionary, should the main process
have failed to), so the first task is not slow. After each task a pool process hands the
memory its C allocator kept back to the system (``release_free_memory``): 12–16 MB a process
after a batch of demands.

Nothing else runs beside the tasks: recovery of lost work is the beat-scheduled sweep
(revive.queue.resend_stuck), and a task keeps its own row's heartbeat while it runs.
"""

from __future__ import annotations

import gc
import logging

from celery import current_app as current_celery_app
from celery.app import trace
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    task_postrun,
    worker_init,
    worker_process_init,
)
from celery.utils.log import get_multiprocessing_logger

from revive.engine import release_free_memory, warm
from revive.engine.text import segmenter
from revive.extensions import db

logger = logging.getLogger(__name__)

# A task's success line without its return value: a matching part returns the demand's reading
# (title and text, restricted postings too), which Celery wrote to the log at INFO (an
# operator's trial). The value is Celery's documented format string of celery.app.trace.
trace.LOG_SUCCESS = "Task %(name)s[%(id)s] succeeded in %(runtime)ss"

LOG_DATEFMT = "%Y-%m-%d %H:%M:%S%z"  # as the app's own lines (revive/app.py): with the offset


@after_setup_logger.connect
@after_setup_task_logger.connect
def _dated_with_offset(logger: logging.Logger, **_: object) -> None:
    """Celery's own lines read [2026-12-07 22:00:04,023: INFO/…] with no zone, beside the
    app's 2026-12-07 22:00:04+0800 (an operator's trial): the same date format for both — on
    the root logger, the task logger, and billiard's (the pool's own lines: "Process
    'ForkPoolWorker-1' … exited", which Celery gives a handler of its own and an operator's
    log still showed without the offset)."""
    for each in (logger, get_multiprocessing_logger()):
        for handler in getattr(each, "handlers", ()):
            if handler.formatter is not None:
                handler.formatter.datefmt = LOG_DATEFMT


@worker_init.connect
def _preload(**_: object) -> None:
    try:
        warm()
    except Exception:
        logger.exception("Could not preload the engine before forking the pool")
    gc.freeze()


@worker_process_init.connect
def _warm_up(**_: object) -> None:
    try:
        with current_celery_app.flask_app.app_context():
            db.engine.dispose(close=False)
    except Exception:
        logger.exception("Could not reset the inherited connection pool")
    try:
        segmenter()
    except Exception:
        logger.exception("Could not warm up the tokenizer")


@task_postrun.connect
def _release(**_: object) -> None:
    try:
        release_free_memory()
    except Exception:  # the task's result stands whatever happens here
        logger.exception("Could not hand free memory back to the system")
