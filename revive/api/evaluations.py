"""JSON API: 市场评价 and tiers."""

from __future__ import annotations

from revive.api import bp  # noqa: F401
