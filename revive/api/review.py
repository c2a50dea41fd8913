"""JSON API: The officers' review queue."""

from __future__ import annotations

from revive.api import bp  # noqa: F401
