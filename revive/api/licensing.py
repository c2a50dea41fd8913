"""JSON API: Open-licence declarations."""

from __future__ import annotations

from revive.api import bp  # noqa: F401
