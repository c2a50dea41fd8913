"""Enqueue background work by task name, so services never import the workers package.

The job row (ImportJob, later MatchRun…) is committed before enqueue; if the broker is down
the row stays queued and ``reconcile`` re-sends it later — nothing is silently dropped.
"""

from __future__ import annotations

import logging

from flask import current_app

from revive.errors import ServiceUnavailable

logger = logging.getLogger(__name__)


def enqueue(task_name: str, *args: object) -> str | None:
    """Send ``task_name(*args)`` to the broker; return the Celery task id."""
    celery_app = current_app.extensions["celery"]
    try:
        result = celery_app.send_task(task_name, args=list(args))
    except Exception as exc:  # kombu raises OperationalError and friends
        logger.warning("Could not enqueue %s%r: %s", task_name, args, exc)
        raise ServiceUnavailable("后台任务队列暂不可用：任务已登记，队列恢复后将自动执行") from exc
    return result.id
