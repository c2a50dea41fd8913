"""The alerts' receivers of the domain signals (revive.signals), connected by create_app.

Each runs after the sender committed and never makes it fail (alerts.services.on_*)."""

from __future__ import annotations

from typing import Any

from revive import signals
from revive.alerts import services


def _match_run_finished(sender: Any, run_id: int, scope: str, **_: Any) -> None:
    services.on_match_run_finished(run_id, scope)


def _demand_saved(sender: Any, demand_id: int, created: bool = False, **_: Any) -> None:
    services.on_demand_saved(demand_id, created)


def _intent_submitted(sender: Any, match_id: int, **_: Any) -> None:
    services.on_intent_submitted(match_id)


def connect() -> None:
    """Idempotent (blinker keys receivers by identity): safe with several apps per process."""
    signals.match_run_finished.connect(_match_run_finished)
    signals.demand_saved.connect(_demand_saved)
    signals.intent_submitted.connect(_intent_submitted)
