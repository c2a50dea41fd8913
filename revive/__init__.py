"""Revive: a platform that brings idle university patents back to life (存量专利盘活).

The package root stays import-light so that ``import revive.engine`` (the pure matching
engine) pulls in neither Flask nor SQLAlchemy; the app factory lives in ``revive.app``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__version__ = "0.1.0"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app (see revive.app.create_app)."""
    from revive.app import create_app as _create_app

    return _create_app(config)
