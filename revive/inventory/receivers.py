"""Inventory's receivers of the domain signals (revive.signals), connected by create_app."""

from __future__ import annotations

from typing import Any

from revive import signals
from revive.inventory import inventors


def _invitation_accepted(sender: Any, invitation_id: int, **_: Any) -> None:
    inventors.link_invited_patents(invitation_id)


def connect() -> None:
    """Idempotent (blinker keys receivers by identity): safe with several apps per process."""
    signals.invitation_accepted.connect(_invitation_accepted)
