"""Notifications' receivers of the domain signals (revive.signals), connected by create_app."""

from __future__ import annotations

from typing import Any

from revive import signals
from revive.db import utcnow
from revive.notifications import review


def _patent_transitioned(
    sender: Any,
    patent: Any,
    change: Any,
    action: str,
    actor: Any,
    comment: Any,
    batch: bool = False,
    **_: Any,
) -> None:
    # Inside the mover's transaction: rows only, dated with the move itself. A batch's moves
    # are told together (_patents_transitioned).
    if not batch:
        review.notify_inventors(patent, action, actor, comment, change.created_at or utcnow())


def _patents_transitioned(
    sender: Any, changes: Any, action: str, actor: Any, comment: Any, **_: Any
) -> None:
    at = max((change.created_at for _, change in changes if change.created_at), default=None)
    review.notify_batch([patent for patent, _ in changes], action, actor, comment, at or utcnow())


def connect() -> None:
    """Idempotent (blinker keys receivers by identity): safe with several apps per process."""
    signals.patent_transitioned.connect(_patent_transitioned)
    signals.patents_transitioned.connect(_patents_transitioned)
