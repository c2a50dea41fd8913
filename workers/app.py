"""Celery target: ``celery -A workers.app worker``. Builds the Flask app once per process."""

import sys

from revive import create_app
from revive.health import schema_problem
from revive.settings.keycheck import key_mismatch

flask_app = create_app()
celery_app = flask_app.extensions["celery"]

# Refuse to start, saying why, rather than report "ready" and fail every task: a schema this
# code cannot use, or a SECRET_KEY other than the web's (the links it e-mails would fail).
# Only a worker that would take jobs: `celery -A workers.app inspect ping` (the compose health
# check) and beat import this module too, and must not wait REVIVE_WORKER_DB_WAIT for a
# database they do not use (a code review).
_NOT_A_WORKER = {"inspect", "beat", "status", "control", "events", "report", "result", "purge"}
if not _NOT_A_WORKER & set(sys.argv[1:]):
    _problem = schema_problem(flask_app) or key_mismatch(flask_app)
    if _problem:
        raise SystemExit(_problem)

import workers.signals  # noqa: E402,F401  (worker hooks)
import workers.tasks  # noqa: E402,F401  (register tasks)
