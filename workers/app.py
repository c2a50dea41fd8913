"""Celery target: ``celery -A workers.app worker``. Builds the Flask app once per process."""

from revive import create_app
from revive.settings.keycheck import key_mismatch

flask_app = create_app()
celery_app = flask_app.extensions["celery"]

_mismatch = key_mismatch(flask_app)
if _mismatch:  # links it e-mails would fail on the web: refuse to start, saying why
    raise SystemExit(_mismatch)

import workers.signals  # noqa: E402,F401  (worker hooks)
import workers.tasks  # noqa: E402,F401  (register tasks)
