"""The regional picture: the funnel, contracts and unmet demands by region (盟市 / 省) and by
industry pool, for the regional roles, filtered by a region and a pool.

A university's patents and deals count in its region, an enterprise's demands in the
enterprise's region (``revive.accounts.regions.unit``: the 盟市 for the demo province, the
province for others). Pools count their *included* patents and demands (what curators
confirmed), so a figure per pool is never the engine's guess. Filter values that name no region
or pool are ignored (the page shows everything), never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from revive.accounts import regions
from revive.accounts.models import Organization, OrgKind
from revive.dashboard import activity, funnel
from revive.dashboard.funnel import Counts, Line
from revive.deals.models import Contract, Deal
from revive.demands.models import Demand
from revive.extensions import db
from revive.inventory.models import Patent
from revive.pools import queries as pool_queries
from revive.pools.models import MemberState, Pool, PoolPatent
from revive.web import int_arg

ZERO = Decimal("0.00")
NONE_ARG = "none"  # the filter value of organizations without a region
NO_POOL_LABEL = "未纳入产业专利池"


@dataclass(frozen=True)
class Filters:
    region: str | None = None  # a unit key (regions.unit)
    pool: Pool | None = None

    def args(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.region is not None:
            out["region"] = self.region or NONE_ARG
        if self.pool is not None:
            out["pool"] = self.pool.id
        return out

    @property
    def label(self) -> str:
        parts = []
        if self.region is not None:
            parts.append(regions.unit(self.region)[1] if self.region else regions.NONE_LABEL)
        if self.pool is not None:
            parts.append(f"产业专利池「{self.pool.name}」")
        return " · ".join(parts)


def _org_units(kind: OrgKind | None = None) -> dict[int, tuple[str, str]]:
    stmt = sa.select(Organization.id, Organization.region)
    if kind is not None:
        stmt = stmt.where(Organization.kind == kind)
    return {oid: regions.unit(region) for oid, region in db.session.execute(stmt)}


def region_choices() -> list[tuple[str, str]]:
    """Units that occur among universities and enterprises, in the list's order."""
    units = dict(_org_units(OrgKind.UNIVERSITY).values()) | dict(
        _org_units(OrgKind.ENTERPRISE).values()
    )
    return [(k or NONE_ARG, units[k]) for k in sorted(units, key=regions.unit_order)]


def parse_filters(args: Any) -> Filters:
    raw_region = args.get("region") or None
    region = None
    if raw_region is not None:
        known = {k for k, _ in region_choices()}
        if raw_region in known:
            region = "" if raw_region == NONE_ARG else raw_region
    pool_id = int_arg(args.get("pool"))
    pool = db.session.get(Pool, pool_id) if pool_id else None
    return Filters(region, pool)


def _orgs_in(region: str) -> list[int]:
    return [oid for oid, (key, _) in _org_units().items() if key == region]


def patent_scope(f: Filters) -> sa.ColumnElement[bool]:
    clauses: list[Any] = []
    if f.region is not None:
        clauses.append(Patent.institution_id.in_(_orgs_in(f.region)))
    if f.pool is not None:
        clauses.append(Patent.id.in_(pool_queries.included_patent_ids(f.pool.id)))
    return sa.and_(*clauses) if clauses else sa.true()


def deal_scope(f: Filters) -> sa.ColumnElement[bool]:
    clauses: list[Any] = []
    if f.region is not None:
        clauses.append(Deal.university_id.in_(_orgs_in(f.region)))
    if f.pool is not None:
        clauses.append(Deal.patent_id.in_(pool_queries.included_patent_ids(f.pool.id)))
    return sa.and_(*clauses) if clauses else sa.true()


def demand_scope(f: Filters) -> sa.ColumnElement[bool]:
    clauses: list[Any] = []
    if f.region is not None:
        clauses.append(Demand.enterprise_id.in_(_orgs_in(f.region)))
    if f.pool is not None:
        clauses.append(Demand.id.in_(pool_queries.included_demand_ids(f.pool.id)))
    return sa.and_(*clauses) if clauses else sa.true()


# ---------------------------------------------------------------------------- the funnel


def funnel_by_region(f: Filters) -> list[Line]:
    """Universities' funnels (one grouped statement) merged into their regions."""
    units = _org_units(OrgKind.UNIVERSITY)
    merged: dict[str, Counts] = {}
    for line in funnel.by_university(patent_scope(f)):
        key, _ = units.get(line.id or 0, regions.unit(None))
        merged[key] = merged.get(key, Counts()) + line.counts
    labels = dict(units.values())
    return [
        Line(key or "none", labels.get(key, regions.NONE_LABEL), merged[key])
        for key in sorted(merged, key=regions.unit_order)
    ]


def funnel_by_pool(f: Filters) -> list[Line]:
    """Each pool's included patents (one statement per pool; pools are few)."""
    scope = patent_scope(Filters(f.region, None))
    pools = [f.pool] if f.pool is not None else pool_queries.pools()
    return [
        Line(
            str(p.id),
            p.name,
            funnel.funnel_counts(
                sa.and_(scope, Patent.id.in_(pool_queries.included_patent_ids(p.id)))
            ),
            p.id,
        )
        for p in pools
    ]


# ---------------------------------------------------------------------------- contracts


@dataclass(frozen=True)
class Amounts:
    key: str
    name: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class PoolContracts:
    """Contracts per pool beside the distinct contracts of the page's filters: a contract whose
    patent is in two pools counts in both rows, never twice in ``total``."""

    pools: list[Amounts]
    total: Amounts  # distinct contracts of the filters (the region table's 合计 too)
    outside: Amounts | None  # of them, on patents in no pool (None when a pool is chosen)


def contracts_by_region(f: Filters) -> list[Amounts]:
    units = _org_units(OrgKind.UNIVERSITY)
    rows = db.session.execute(
        sa.select(Deal.university_id, sa.func.count(Contract.id), sa.func.sum(Contract.amount_wan))
        .join(Deal, Deal.id == Contract.deal_id)
        .where(deal_scope(f))
        .group_by(Deal.university_id)
    ).all()
    merged: dict[str, list[Any]] = {}
    for uid, n, total in rows:
        key, label = units.get(uid, regions.unit(None))
        cell = merged.setdefault(key, [label, 0, ZERO])
        cell[1] += int(n)
        cell[2] += activity.money(total)
    return [
        Amounts(key or "none", merged[key][0], merged[key][1], merged[key][2])
        for key in sorted(merged, key=regions.unit_order)
    ]


def _contract_sums(*where: sa.ColumnElement[bool]) -> tuple[int, Decimal]:
    n, total = db.session.execute(
        sa.select(sa.func.count(Contract.id), sa.func.sum(Contract.amount_wan))
        .join(Deal, Deal.id == Contract.deal_id)
        .where(*where)
    ).one()
    return int(n), activity.money(total)


def contracts_by_pool(f: Filters) -> PoolContracts:
    """Each pool's contracts (on its included patents; one statement per pool, pools are few),
    the distinct contracts of the filters, and those on patents in no pool."""
    scope = deal_scope(Filters(f.region, None))
    pools = [f.pool] if f.pool is not None else pool_queries.pools()
    rows = [
        Amounts(
            str(p.id),
            p.name,
            *_contract_sums(scope, Deal.patent_id.in_(pool_queries.included_patent_ids(p.id))),
        )
        for p in pools
    ]
    total = Amounts("total", "合计", *_contract_sums(deal_scope(f)))
    outside = None
    if f.pool is None:
        in_any = sa.select(PoolPatent.patent_id).where(PoolPatent.state == MemberState.INCLUDED)
        outside = Amounts(
            "none", NO_POOL_LABEL, *_contract_sums(scope, Deal.patent_id.not_in(in_any))
        )
    return PoolContracts(rows, total, outside)


# ---------------------------------------------------------------------------- unmet demands


@dataclass(frozen=True)
class Unmet:
    key: str
    name: str
    open_demands: int
    unmet: int


def _unmet_columns() -> list[Any]:
    unmet = activity.unmet_clause()
    return [
        sa.func.count(Demand.id),
        sa.func.count(sa.case((unmet, Demand.id))),
    ]


def unmet_by_region(f: Filters) -> list[Unmet]:
    units = _org_units(OrgKind.ENTERPRISE)
    rows = db.session.execute(
        sa.select(Demand.enterprise_id, *_unmet_columns())
        .where(activity.open_clause(), demand_scope(f))
        .group_by(Demand.enterprise_id)
    ).all()
    merged: dict[str, list[Any]] = {}
    for eid, n_open, n_unmet in rows:
        key, label = units.get(eid, regions.unit(None))
        cell = merged.setdefault(key, [label, 0, 0])
        cell[1] += int(n_open)
        cell[2] += int(n_unmet)
    return [
        Unmet(key or "none", merged[key][0], merged[key][1], merged[key][2])
        for key in sorted(merged, key=regions.unit_order)
    ]


def unmet_by_pool(f: Filters) -> list[Unmet]:
    scope = demand_scope(Filters(f.region, None))
    pools = [f.pool] if f.pool is not None else pool_queries.pools()
    out = []
    for p in pools:
        n_open, n_unmet = db.session.execute(
            sa.select(*_unmet_columns()).where(
                activity.open_clause(),
                scope,
                Demand.id.in_(pool_queries.included_demand_ids(p.id)),
            )
        ).one()
        out.append(Unmet(str(p.id), p.name, int(n_open), int(n_unmet)))
    return out
