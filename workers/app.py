"""Celery target: ``celery -A workers.app worker``. Builds the Flask app once per process."""

from revive import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]

import workers.signals  # noqa: E402,F401  (worker hooks)
import workers.tasks  # noqa: E402,F401  (register tasks)
