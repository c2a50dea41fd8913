"""JSON API: 供需对接: deals, stages, responses, contracts."""

from __future__ import annotations

from revive.api import bp  # noqa: F401
