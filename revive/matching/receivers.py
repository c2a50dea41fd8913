"""Matching's receivers of the domain signals (revive.signals), connected by create_app.

They only record work and enqueue it; a failure is logged, never raised into the sender.
"""

from __future__ import annotations

from typing import Any

from revive import signals
from revive.matching import services


def _patents_changed(sender: Any, patent_ids: list[int] | None = None, **_: Any) -> None:
    services.on_patents_changed(patent_ids)


def _demand_saved(sender: Any, demand_id: int, created: bool = False, **_: Any) -> None:
    services.on_demand_saved(demand_id)


def _demand_closed(sender: Any, demand_id: int, **_: Any) -> None:
    services.on_demand_closed(demand_id)


def connect() -> None:
    """Idempotent (blinker keys receivers by identity): safe with several apps per process."""
    signals.patents_changed.connect(_patents_changed)
    signals.demand_saved.connect(_demand_saved)
    signals.demand_closed.connect(_demand_closed)
