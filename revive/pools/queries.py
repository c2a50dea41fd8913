"""Read helpers of the pool pages, exports and API (no writes)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from revive.accounts.models import College, Organization, OrgKind, Role, User
from revive.demands.models import Demand
from revive.evaluations import queries as evaluation_queries
from revive.evaluations.tiers import Tier
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent
from revive.pagination import paginate
from revive.pools.models import (
    MemberSource,
    MemberState,
    Pool,
    PoolDemand,
    PoolPatent,
    PoolRun,
    Roadshow,
)

PER_PAGE = 50
STATES = {s.value: s for s in MemberState}
TABS = ("candidates", "included", "excluded", "demands")
TAB_LABELS = {
    "candidates": "待确认",
    "included": "已纳入",
    "excluded": "已排除",
    "demands": "需求",
}
TAB_STATES = {
    "candidates": MemberState.CANDIDATE,
    "included": MemberState.INCLUDED,
    "excluded": MemberState.EXCLUDED,
}


@dataclass(frozen=True)
class PoolSummary:
    pool: Pool
    included: int
    candidates: int
    new_candidates: int
    excluded: int
    demands_included: int
    demands_candidates: int
    universities: int
    latest_run: PoolRun | None


def _count(model: Any, pool_id: int, *where: Any) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count(model.id)).where(model.pool_id == pool_id, *where)
        )
        or 0
    )


def latest_run(pool_id: int) -> PoolRun | None:
    return db.session.scalar(
        sa.select(PoolRun).where(PoolRun.pool_id == pool_id).order_by(PoolRun.id.desc()).limit(1)
    )


def included_patent_ids(pool_id: int) -> sa.Select:
    return sa.select(PoolPatent.patent_id).where(
        PoolPatent.pool_id == pool_id, PoolPatent.state == MemberState.INCLUDED
    )


def included_demand_ids(pool_id: int) -> sa.Select:
    return sa.select(PoolDemand.demand_id).where(
        PoolDemand.pool_id == pool_id, PoolDemand.state == MemberState.INCLUDED
    )


def summary(pool: Pool) -> PoolSummary:
    state = PoolPatent.state
    universities = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Patent.institution_id))).where(
            Patent.id.in_(included_patent_ids(pool.id))
        )
    )
    return PoolSummary(
        pool=pool,
        included=_count(PoolPatent, pool.id, state == MemberState.INCLUDED),
        candidates=_count(PoolPatent, pool.id, state == MemberState.CANDIDATE),
        new_candidates=_count(
            PoolPatent,
            pool.id,
            state == MemberState.CANDIDATE,
            PoolPatent.source == MemberSource.NEW,
        ),
        excluded=_count(PoolPatent, pool.id, state == MemberState.EXCLUDED),
        demands_included=_count(PoolDemand, pool.id, PoolDemand.state == MemberState.INCLUDED),
        demands_candidates=_count(PoolDemand, pool.id, PoolDemand.state == MemberState.CANDIDATE),
        universities=int(universities or 0),
        latest_run=latest_run(pool.id),
    )


def pools() -> list[Pool]:
    return list(db.session.scalars(sa.select(Pool).order_by(Pool.name)))


def pool_choices() -> list[tuple[int, str]]:
    return [tuple(r) for r in db.session.execute(sa.select(Pool.id, Pool.name).order_by(Pool.name))]


def summaries() -> list[PoolSummary]:
    return [summary(p) for p in pools()]


# ---------------------------------------------------------------------------- members


def _tier_column() -> tuple[Any, Any]:
    ev = evaluation_queries.evaluation_stats()
    tier = evaluation_queries.patent_tier_sql(ev, evaluation_queries.current_rules())
    return ev, tier


def _patent_stmt(pool_id: int, state: MemberState | None) -> sa.Select:
    ev, tier = _tier_column()
    stmt = (
        sa.select(
            PoolPatent,
            Patent,
            Organization.name.label("institution"),
            College.name.label("college"),
            sa.case((Patent.status == EntryStatus.ENTERED, tier), else_=None).label("tier"),
        )
        .join(Patent, Patent.id == PoolPatent.patent_id)
        .join(Organization, Organization.id == Patent.institution_id)
        .outerjoin(College, College.id == Patent.college_id)
        .outerjoin(ev, ev.c.patent_id == Patent.id)
        .where(PoolPatent.pool_id == pool_id)
    )
    if state is not None:
        stmt = stmt.where(PoolPatent.state == state)
    return stmt.order_by(
        PoolPatent.rank.is_(None), PoolPatent.rank, PoolPatent.score.desc(), PoolPatent.id
    )


def _demand_stmt(pool_id: int, state: MemberState | None) -> sa.Select:
    stmt = (
        sa.select(PoolDemand, Demand, Organization.name.label("enterprise"), Organization.region)
        .join(Demand, Demand.id == PoolDemand.demand_id)
        .join(Organization, Organization.id == Demand.enterprise_id)
        .where(PoolDemand.pool_id == pool_id)
    )
    if state is not None:
        stmt = stmt.where(PoolDemand.state == state)
    return stmt.order_by(
        PoolDemand.state, PoolDemand.rank.is_(None), PoolDemand.rank, PoolDemand.id
    )


def _page_count(stmt: sa.Select) -> sa.Select:
    return sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())


def patent_page(pool_id: int, state: MemberState | None, page: int, per_page: int = PER_PAGE):
    stmt = _patent_stmt(pool_id, state)
    return paginate(stmt, _page_count(stmt), page, per_page, scalars=False)


def demand_page(pool_id: int, state: MemberState | None, page: int, per_page: int = PER_PAGE):
    stmt = _demand_stmt(pool_id, state)
    return paginate(stmt, _page_count(stmt), page, per_page, scalars=False)


def member_count(pool_id: int, what: str) -> int:
    """The pool's members of every state that ``iter_patents`` (``what="patents"``) or
    ``iter_demands`` (``"demands"``) give."""
    stmt = _demand_stmt(pool_id, None) if what == "demands" else _patent_stmt(pool_id, None)
    return db.session.scalar(_page_count(stmt)) or 0


def iter_patents(pool_id: int, state: MemberState | None) -> Iterator[Any]:
    yield from db.session.execute(_patent_stmt(pool_id, state).execution_options(yield_per=500))


def iter_demands(pool_id: int, state: MemberState | None) -> Iterator[Any]:
    yield from db.session.execute(_demand_stmt(pool_id, state).execution_options(yield_per=500))


# ---------------------------------------------------------------------------- the pool's picture


def universities(pool_id: int) -> list[tuple[int, str, str | None, int]]:
    """(id, name, region, included patents), largest first."""
    rows = db.session.execute(
        sa.select(Organization.id, Organization.name, Organization.region, sa.func.count(Patent.id))
        .join(Patent, Patent.institution_id == Organization.id)
        .where(Patent.id.in_(included_patent_ids(pool_id)))
        .group_by(Organization.id, Organization.name, Organization.region)
        .order_by(sa.func.count(Patent.id).desc(), Organization.name)
    ).all()
    return [(i, n, r, int(c)) for i, n, r, c in rows]


def tiers(pool_id: int) -> dict[Tier, int]:
    """Included patents still 已入库 per promotion tier."""
    ev, tier = _tier_column()
    inner = (
        sa.select(tier.label("tier"))
        .select_from(Patent)
        .outerjoin(ev, ev.c.patent_id == Patent.id)
        .where(Patent.id.in_(included_patent_ids(pool_id)), Patent.status == EntryStatus.ENTERED)
        .subquery("pool_tiers")
    )
    counts = dict(
        db.session.execute(sa.select(inner.c.tier, sa.func.count()).group_by(inner.c.tier)).all()
    )
    return {t: int(counts.get(t.value, 0)) for t in Tier}


def tier_patents(tier: Tier, limit: int) -> list[Any]:
    """Entered patents of a promotion tier (a roadshow for a tier), best evaluated first."""
    ev, t = _tier_column()
    return list(
        db.session.execute(
            sa.select(Patent.id, Patent.title, Patent.application_no, Organization.name)
            .join(Organization, Organization.id == Patent.institution_id)
            .outerjoin(ev, ev.c.patent_id == Patent.id)
            .where(Patent.status == EntryStatus.ENTERED, t == tier.value)
            .order_by(
                ev.c.avg.desc().nulls_last(), Patent.value_grade.desc().nulls_last(), Patent.id
            )
            .limit(limit)
        ).all()
    )


def pool_patents_for_roadshow(pool_id: int, limit: int) -> list[Any]:
    return list(
        db.session.execute(
            sa.select(Patent.id, Patent.title, Patent.application_no, Organization.name)
            .join(PoolPatent, PoolPatent.patent_id == Patent.id)
            .join(Organization, Organization.id == Patent.institution_id)
            .where(
                PoolPatent.pool_id == pool_id,
                PoolPatent.state == MemberState.INCLUDED,
                Patent.status == EntryStatus.ENTERED,
            )
            .order_by(PoolPatent.rank.is_(None), PoolPatent.rank, Patent.id)
            .limit(limit)
        ).all()
    )


def enterprises() -> list[tuple[int, str, str | None]]:
    return [
        tuple(r)
        for r in db.session.execute(
            sa.select(Organization.id, Organization.name, Organization.region)
            .where(Organization.kind == OrgKind.ENTERPRISE)
            .order_by(Organization.name)
        )
    ]


def tto_contacts(institution_ids: set[int]) -> dict[int, User]:
    """Each university's technology-transfer contact: its first active school admin."""
    if not institution_ids:
        return {}
    out: dict[int, User] = {}
    for user in db.session.scalars(
        sa.select(User)
        .where(
            User.organization_id.in_(institution_ids),
            User.role == Role.UNIVERSITY_ADMIN,
            User.is_active_flag.is_(True),
        )
        .order_by(User.id)
    ):
        out.setdefault(user.organization_id, user)
    return out


def roadshows() -> list[Roadshow]:
    return list(
        db.session.scalars(
            sa.select(Roadshow).order_by(Roadshow.held_on.desc(), Roadshow.id.desc())
        )
    )
