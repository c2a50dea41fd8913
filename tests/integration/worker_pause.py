"""Test-only worker plugin: park a task at a known point so a fault test can kill it there.

Loaded by the fault tests' workers with Celery's own ``--include tests.integration.worker_pause``
(tests/integration/test_faults.py); production never imports it. With
``REVIVE_TEST_PAUSE_AT=<task name>:<n>`` the task's pool process stops after its n-th
database commit (the delivery's claim of its row is the first), writes its pid to
``REVIVE_TEST_PAUSE_DIR/<task name>.pid`` and sleeps until the test kills it. A task parked
once runs through when it is delivered again.

The handlers are connected when the worker imports this module, in its main process, before
the pool processes are forked: each of them inherits them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from celery.signals import task_postrun, task_prerun
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

PAUSE_AT = os.environ.get("REVIVE_TEST_PAUSE_AT", "")
_pause = threading.local()


def _arm(task: object = None, **_: object) -> None:
    name, _sep, nth = PAUSE_AT.rpartition(":")
    if getattr(task, "name", None) == name:
        _pause.remaining = int(nth or 1)
        _pause.task = name


def _disarm(**_: object) -> None:
    _pause.remaining = 0


def _after_commit(session: object) -> None:
    remaining = getattr(_pause, "remaining", 0)
    if remaining <= 0:
        return
    _pause.remaining = remaining - 1
    if _pause.remaining:
        return
    marker = Path(os.environ.get("REVIVE_TEST_PAUSE_DIR") or ".") / f"{_pause.task}.pid"
    if marker.exists():  # parked once already: this is the redelivery, let it run
        return
    marker.write_text(str(os.getpid()), encoding="utf-8")
    logger.warning("REVIVE_TEST_PAUSE_AT: task %s parked in pid %s", _pause.task, os.getpid())
    while True:  # until the test kills this process
        time.sleep(0.5)


if PAUSE_AT:
    task_prerun.connect(_arm, weak=False)
    task_postrun.connect(_disarm, weak=False)
    sa.event.listen(Session, "after_commit", _after_commit)
