"""Review test helpers: matches made directly (candidates or decided), as a run would leave them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from revive.db import utcnow
from revive.demands.models import Demand
from revive.extensions import db
from revive.inventory.models import Patent
from revive.matching.models import Match, MatchState

TERMS = [
    ["正极", 0.5],
    ["高镍", 0.4],
    ["包覆", 0.3],
    ["能量密度", 0.2],
    ["循环", 0.1],
    ["寿命", 0.05],
]


def make_match(
    demand: Demand,
    patent: Patent,
    score: float = 0.5,
    *,
    state: MatchState = MatchState.CANDIDATE,
    reason: str | None = None,
    age_days: int = 0,
    decided_by: Any = None,
    **kw: Any,
) -> Match:
    created = utcnow() - timedelta(days=age_days)
    m = Match(
        demand_id=demand.id,
        patent_id=patent.id,
        score=score,
        rank=1,
        terms=kw.pop("terms", TERMS),
        state=state,
        created_at=created,
        **kw,
    )
    if state != MatchState.CANDIDATE:
        m.decided_at = utcnow()
        m.decided_by_id = decided_by.id if decided_by is not None else None
        m.reason_code = reason if state == MatchState.REJECTED else None
    db.session.add(m)
    db.session.commit()
    return m


def state_of(match_id: int) -> MatchState | None:
    db.session.expire_all()
    m = db.session.get(Match, match_id)
    return m.state if m is not None else None
