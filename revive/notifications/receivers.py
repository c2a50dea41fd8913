"""Notifications' receivers of the domain signals (revive.signals), connected by create_app."""

from __future__ import annotations

from typing import Any

from revive import signals
from revive.db import utcnow
from revive.notifications import review


def _patent_transitioned(
    sender: Any, patent: Any, change: Any, action: str, actor: Any, comment: Any, **_: Any
) -> None:
    # Inside the mover's transaction: rows only, dated with the move itself.
    review.notify_inventors(patent, action, actor, comment, change.created_at or utcnow())


def connect() -> None:
    """Idempotent (blinker keys receivers by identity): safe with several apps per process."""
    signals.patent_transitioned.connect(_patent_transitioned)
