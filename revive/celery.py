"""Celery bound to the Flask app (Flask docs' pattern: every task runs in an app context)."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    celery_app.flask_app = app  # type: ignore[attr-defined]  (worker hooks reach the app here)
    app.extensions["celery"] = celery_app
    return celery_app
