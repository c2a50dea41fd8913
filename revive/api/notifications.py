"""JSON API: The inbox."""

from __future__ import annotations

from revive.api import bp  # noqa: F401
