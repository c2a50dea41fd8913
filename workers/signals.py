"""Worker process hooks: warm-up and reconciliation of jobs the broker may have lost."""

from __future__ import annotations

import logging

from celery.signals import worker_process_init, worker_ready

logger = logging.getLogger(__name__)


@worker_ready.connect
def _requeue_stale_jobs(sender: object = None, **_: object) -> None:
    """On start, re-send import jobs, index builds and match runs stuck for 10+ minutes
    (broker down, worker killed), and queue tokenization of patents with stale tokens."""
    from revive.imports.services import requeue_stale_jobs
    from revive.matching.services import request_tokenize, requeue_stale_runs
    from workers.app import flask_app

    with flask_app.app_context():
        try:
            sent = requeue_stale_jobs(older_than_minutes=10)
            if sent:
                logger.info("Re-sent %d stale import job(s): %s", len(sent), sent)
        except Exception:  # never keep a worker from starting
            logger.exception("Could not reconcile stale import jobs")
        try:
            runs = requeue_stale_runs(older_than_minutes=10)
            if runs["index_builds"] or runs["match_runs"]:
                logger.info("Re-sent stale matching work: %s", runs)
            request_tokenize(None)
        except Exception:
            logger.exception("Could not reconcile stale matching work")


@worker_process_init.connect
def _warm_up(**_: object) -> None:
    """Load jieba's dictionary in each child once, so the first task is not slow."""
    try:
        from revive.engine.text import tokenizer

        tokenizer()
    except Exception:
        logger.exception("Could not warm up the tokenizer")
