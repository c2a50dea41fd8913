"""Matching's receivers of the domain signals (revive.signals), connected by create_app.

They only record work and enqueue it; a failure is logged, never raised into the sender.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from revive import signals
from revive.extensions import db
from revive.matching import jobs, runs, tokens
from revive.matching.models import RunScope

logger = logging.getLogger(__name__)


def on_patents_changed(patent_ids: Sequence[int] | None) -> None:
    """Receiver body: enqueue tokenization; never fail the sender."""
    try:
        tokens.request_tokenize(patent_ids)
    except Exception:
        logger.exception("Could not queue tokenization of %s", patent_ids or "stale patents")


def on_demand_saved(demand_id: int) -> None:
    try:
        jobs.request_match_run(RunScope.DEMAND, demand_id)
    except Exception:
        db.session.rollback()
        logger.exception("Could not queue a match run for demand %s", demand_id)


def on_demand_closed(demand_id: int) -> None:
    try:
        runs.drop_candidates(demand_id)
    except Exception:
        db.session.rollback()
        logger.exception("Could not drop candidates of closed demand %s", demand_id)


def _patents_changed(sender: Any, patent_ids: list[int] | None = None, **_: Any) -> None:
    on_patents_changed(patent_ids)


def _demand_saved(sender: Any, demand_id: int, created: bool = False, **_: Any) -> None:
    on_demand_saved(demand_id)


def _demand_closed(sender: Any, demand_id: int, **_: Any) -> None:
    on_demand_closed(demand_id)


def _patent_rights_gone(sender: Any, patent: Any, **_: Any) -> None:
    """Inside the sender's transaction: only rows change (a failure here would take the
    contract back with it, so nothing is caught)."""
    runs.drop_patent_candidates(patent.id)


def connect() -> None:
    """Idempotent (blinker keys receivers by identity): safe with several apps per process."""
    signals.patents_changed.connect(_patents_changed)
    signals.demand_saved.connect(_demand_saved)
    signals.demand_closed.connect(_demand_closed)
    signals.patent_rights_gone.connect(_patent_rights_gone)
