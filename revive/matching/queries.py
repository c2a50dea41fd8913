"""Read helpers for matching pages and the API (no writes, no commits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from revive.accounts.models import User
from revive.demands.models import Demand
from revive.errors import NotFoundError
from revive.extensions import db
from revive.inventory.models import Patent
from revive.matching import services
from revive.matching.models import (
    IndexBuild,
    Match,
    MatchRun,
    MatchState,
    RunStatus,
    StrengthModelVersion,
)
from revive.matching.permissions import is_staff, owns_demand

# Accepted first (pushed), then candidates by score; rejected last (staff only).
_STATE_ORDER = sa.case(
    {MatchState.ACCEPTED: 0, MatchState.CANDIDATE: 1, MatchState.REJECTED: 2},
    value=Match.state,
    else_=3,
)


def matches_for_demand(user: User, demand: Demand) -> list[Match]:
    """Staff: every match of the demand; the owning enterprise: pushed (accepted) ones."""
    stmt = (
        sa.select(Match)
        .where(Match.demand_id == demand.id)
        .options(
            joinedload(Match.patent).joinedload(Patent.institution),
            joinedload(Match.patent).joinedload(Patent.college),
        )
        .order_by(_STATE_ORDER, Match.score.desc(), Match.id)
    )
    if not is_staff(user):
        if not owns_demand(user, demand):
            return []
        stmt = stmt.where(Match.state == MatchState.ACCEPTED)
    return list(db.session.scalars(stmt))


def latest_run_for_demand(demand_id: int) -> MatchRun | None:
    return db.session.scalar(
        sa.select(MatchRun)
        .where(MatchRun.demand_id == demand_id)
        .order_by(MatchRun.id.desc())
        .limit(1)
    )


def active_build_in_progress() -> IndexBuild | None:
    return db.session.scalar(
        sa.select(IndexBuild)
        .where(IndexBuild.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)))
        .order_by(IndexBuild.id.desc())
        .limit(1)
    )


def recent_builds(limit: int = 10) -> list[IndexBuild]:
    return list(
        db.session.scalars(sa.select(IndexBuild).order_by(IndexBuild.id.desc()).limit(limit))
    )


def recent_runs(limit: int = 20) -> list[MatchRun]:
    return list(
        db.session.scalars(
            sa.select(MatchRun)
            .options(joinedload(MatchRun.demand))
            .order_by(MatchRun.id.desc())
            .limit(limit)
        )
    )


def count_matches_by_state() -> dict[str, int]:
    rows = db.session.execute(sa.select(Match.state, sa.func.count()).group_by(Match.state))
    return {state.value: n for state, n in rows}


def get_run_for(user: User, run_id: int) -> MatchRun:
    """Staff: any run; an enterprise: runs of its own demands; 404 otherwise."""
    run = db.session.get(MatchRun, run_id)
    if run is not None and (
        is_staff(user) or (run.demand is not None and owns_demand(user, run.demand))
    ):
        return run
    raise NotFoundError("匹配任务不存在或您无权查看")


def get_build_for(user: User, build_id: int) -> IndexBuild:
    build = db.session.get(IndexBuild, build_id)
    if build is None or not is_staff(user):
        raise NotFoundError("索引构建记录不存在或您无权查看")
    return build


def get_match_for(user: User, match_id: int) -> Match:
    """Staff: any match; the owning enterprise: an accepted match of its demand; 404 otherwise."""
    match = db.session.get(Match, match_id)
    if match is not None:
        if is_staff(user):
            return match
        if match.state == MatchState.ACCEPTED and owns_demand(user, match.demand):
            return match
    raise NotFoundError("匹配结果不存在或您无权查看")


@dataclass
class StrengthOverview:
    """The engine page's strength section: the model in use and the latest refits."""

    model: Any  # engine.StrengthModel in use
    active: StrengthModelVersion | None  # None: the shipped judged-set model
    bar: float
    strong: float
    refits: list[StrengthModelVersion]


def strength_overview(limit: int = 10) -> StrengthOverview:
    model = services.active_strength_model()
    bar, strong = services.thresholds(model)
    refits = list(
        db.session.scalars(
            sa.select(StrengthModelVersion)
            .options(joinedload(StrengthModelVersion.requested_by))
            .order_by(StrengthModelVersion.id.desc())
            .limit(limit)
        )
    )
    return StrengthOverview(model, services.active_strength_row(), bar, strong, refits)
