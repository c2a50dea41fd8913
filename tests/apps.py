"""Apps besides the session's (a private database, a fresh deployment, a lock test).

``create_app`` makes the new app's Celery app the process default (``celery_init_app``), so a
later test that calls a task directly would send it through this app — to a database that is
gone by then. ``other_app`` puts the session's Celery app back right away.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from revive import create_app


def other_app(config: dict[str, Any]) -> Flask:
    from celery import _state

    previous_default, previous_current = _state.default_app, _state.get_current_app()
    try:
        return create_app(config)
    finally:
        if previous_default is not None:
            previous_default.set_default()
        previous_current.set_current()
