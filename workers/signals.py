"""Worker process hooks: warm-up and reconciliation of jobs the broker may have lost."""

from __future__ import annotations

import logging

from celery.signals import worker_ready

logger = logging.getLogger(__name__)


@worker_ready.connect
def _requeue_stale_jobs(sender: object = None, **_: object) -> None:
    """On start, re-send import jobs stuck for 10+ minutes (broker down, worker killed)."""
    from revive.imports.services import requeue_stale_jobs
    from workers.app import flask_app

    with flask_app.app_context():
        try:
            sent = requeue_stale_jobs(older_than_minutes=10)
        except Exception:  # never keep a worker from starting
            logger.exception("Could not reconcile stale import jobs")
            return
    if sent:
        logger.info("Re-sent %d stale import job(s): %s", len(sent), sent)
