"""JSON API: industry pools (read-only). Same rules as the pages (revive.pools): staff and the
regulator; errors are ``{"error", "message"}``. The contract of each route is its schemas
below (flask-smorest, revive/api/schema.py).

GET /api/v1/pools                          the pools with their counts
GET /api/v1/pools/<pool_id>                one pool: definition, counts, latest run, funnel,
                                           tiers, universities
GET /api/v1/pools/<pool_id>/members        its patents (kind=patent, default) or demands
                                           (kind=demand), optionally by state, paginated
"""

from __future__ import annotations

from types import SimpleNamespace

from flask import request
from marshmallow import fields

from revive.accounts.permissions import roles_required
from revive.api.blueprint import bp
from revive.api.common import requested_page, requested_per_page
from revive.api.schema import (
    PAGING,
    IsoDateTime,
    OneOf,
    Query,
    Schema,
    computed,
    enum_fields,
    enum_of,
    labeled,
    page_schema,
    paged,
    q,
)
from revive.dashboard import funnel
from revive.demands.models import DemandStatus
from revive.evaluations.tiers import Tier
from revive.inventory.models import EntryStatus, Patent
from revive.pools import queries, services
from revive.pools.models import IndustryMode, MemberSource, MemberState, PoolRunKind, PoolRunStatus
from revive.pools.services import READ_ROLES

TAG = "产业专利池"
STR = {"type": "string"}

# ---------------------------------------------------------------------------- answers

PoolRun = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        **enum_fields("kind", PoolRunKind),
        **enum_fields("status", PoolRunStatus),
        "index_version": fields.Integer(required=True, allow_none=True),
        "total": fields.Integer(required=True),
        "patent_count": fields.Integer(required=True),
        "demand_count": fields.Integer(required=True),
        "error": fields.String(required=True, allow_none=True),
        "created_at": IsoDateTime(required=True),
        "finished_at": IsoDateTime(required=True),
    },
    name="PoolRun",
)
COUNT_KEYS = (
    "included",
    "candidates",
    "new_candidates",
    "excluded",
    "demands_included",
    "demands_candidates",
    "universities",
)
PoolCounts = Schema.from_dict(
    {k: fields.Integer(required=True) for k in COUNT_KEYS}, name="PoolCounts"
)
# Dumped from a queries.PoolSummary (the pool is its ``pool``).
_POOL: dict[str, fields.Field] = {
    "id": computed(lambda s: s.pool.id, {"type": "integer"}),
    "name": computed(lambda s: s.pool.name, STR),
    "description": computed(lambda s: s.pool.description, STR),
    "key_terms": computed(lambda s: s.pool.key_terms, STR),
    "industry_codes": computed(lambda s: s.pool.codes, {"type": "array", "items": STR}),
    **labeled(lambda s: s.pool.industry_mode, IndustryMode, "industry_mode"),
    "bar": computed(lambda s: services.bar_of(s.pool), {"type": "number"}),
    "counts": fields.Function(
        lambda s: PoolCounts().dump(getattr(s, "summary", s)),
        required=True,
        metadata={
            "json_schema": {
                "type": "object",
                "required": list(COUNT_KEYS),
                "properties": {k: {"type": "integer"} for k in COUNT_KEYS},
            }
        },
    ),
    "latest_run": fields.Nested(PoolRun, required=True, allow_none=True),
    "updated_at": computed(
        lambda s: s.pool.updated_at.isoformat() if s.pool.updated_at else None,
        {"type": "string", "format": "date-time"},
        nullable=True,
    ),
}
PoolSummary = Schema.from_dict(_POOL, name="PoolSummary")
PoolList = Schema.from_dict(
    {"items": fields.List(fields.Nested(PoolSummary), required=True)}, name="PoolList"
)

Rate = Schema.from_dict(
    {
        "numerator": fields.Integer(required=True),
        "denominator": fields.Integer(required=True),
        "value": fields.Float(required=True, allow_none=True),
        "display": fields.String(required=True),
    },
    name="Rate",
)
FunnelStep = Schema.from_dict(
    {
        "key": fields.String(required=True),
        "label": fields.String(required=True),
        "count_label": fields.String(required=True),
        "definition": fields.String(required=True),
        "count": fields.Integer(required=True),
        "base": fields.String(required=True, allow_none=True),
        "rate_of_base": fields.Nested(Rate, required=True, allow_none=True),
        "rate_of_inventoried": fields.Nested(Rate, required=True),
    },
    name="FunnelStep",
)
TierCount = Schema.from_dict(
    {
        "tier": computed(lambda t: t[0].value, enum_of(Tier)),
        "label": computed(lambda t: t[0].label, STR),
        "count": computed(lambda t: t[1], {"type": "integer"}),
    },
    name="TierCount",
)
PoolUniversity = Schema.from_dict(
    {
        "id": computed(lambda u: u[0], {"type": "integer"}),
        "name": computed(lambda u: u[1], STR),
        "region": computed(lambda u: u[2], STR, nullable=True),
        "patents": computed(lambda u: u[3], {"type": "integer"}),
    },
    name="PoolUniversity",
)
PoolDetail = Schema.from_dict(
    {
        **_POOL,
        "funnel": fields.List(fields.Nested(FunnelStep), required=True),
        "tiers": fields.List(fields.Nested(TierCount), required=True),
        "universities": fields.List(fields.Nested(PoolUniversity), required=True),
    },
    name="PoolDetail",
)

# A member row: (member, patent, institution, college, tier) or (member, demand, enterprise,
# region) (revive.pools.queries.patent_page / demand_page).
_MEMBER: dict[str, fields.Field] = {
    "id": computed(lambda r: r[0].id, {"type": "integer"}),
    **labeled(lambda r: r[0].state, MemberState, "state"),
    "score": computed(lambda r: round(r[0].score, 6), {"type": "number"}),
    "rank": computed(lambda r: r[0].rank, {"type": "integer"}, nullable=True),
    "reasons": computed(lambda r: list(r[0].reasons or []), {"type": "array", "items": STR}),
    "decided_at": computed(
        lambda r: r[0].decided_at.isoformat() if r[0].decided_at else None,
        {"type": "string", "format": "date-time"},
        nullable=True,
    ),
    "version": computed(lambda r: r[0].version, {"type": "integer"}),
}
PatentMember = Schema.from_dict(
    {
        **_MEMBER,
        **labeled(lambda r: r[0].source, MemberSource, "source"),
        "patent": computed(
            lambda r: {
                "id": r[1].id,
                "application_no": r[1].application_no,
                "title": r[1].title,
                "institution": r[2],
                "industry_code": r[1].industry_code,
                "status": r[1].status.value,
                "tier": r[4],
            },
            {
                "type": "object",
                "required": ["id", "application_no", "title", "institution", "status"],
                "properties": {
                    "id": {"type": "integer"},
                    "application_no": STR,
                    "title": STR,
                    "institution": STR,
                    "industry_code": {**STR, "nullable": True},
                    "status": enum_of(EntryStatus),
                    "tier": {**enum_of(Tier), "nullable": True},
                },
            },
        ),
    },
    name="PoolPatentMember",
)
DemandMember = Schema.from_dict(
    {
        **_MEMBER,
        "demand": computed(
            lambda r: {
                "id": r[1].id,
                "title": r[1].title,
                "enterprise": r[2],
                "region": r[3],
                "status": r[1].status.value,
            },
            {
                "type": "object",
                "required": ["id", "title", "enterprise", "status"],
                "properties": {
                    "id": {"type": "integer"},
                    "title": STR,
                    "enterprise": STR,
                    "region": {**STR, "nullable": True},
                    "status": enum_of(DemandStatus),
                },
            },
        ),
    },
    name="PoolDemandMember",
)
MemberPage = page_schema(
    "PoolMemberPage",
    OneOf(
        lambda row: "PoolPatentMember" if len(row) == 5 else "PoolDemandMember",
        {"PoolPatentMember": PatentMember, "PoolDemandMember": DemandMember},
    ),
)
MemberQuery = Query.from_dict(
    {
        "kind": q({"type": "string", "enum": ["patent", "demand"]}, "默认 patent"),
        "state": q(enum_of(MemberState), "默认全部状态"),
        **PAGING,
    },
    name="PoolMemberQuery",
)

# ---------------------------------------------------------------------------- routes


@bp.get("/pools")
@roles_required(*READ_ROLES)
@bp.response(200, PoolList)
@bp.doc(
    summary="产业专利池列表", tags=[TAG], description="每个池的定义、成员计数与最近一次排序任务。"
)
def list_pools():
    """Every pool."""
    return {"items": queries.summaries()}


@bp.get("/pools/<int:pool_id>")
@roles_required(*READ_ROLES)
@bp.response(200, PoolDetail)
@bp.doc(
    summary="产业专利池详情",
    tags=[TAG],
    description="已纳入专利的转化漏斗（每个比率给出分子与分母）、推广分层与高校分布。",
)
def get_pool(pool_id: int):
    """One pool with the funnel of its included patents, its tiers and universities."""
    pool = services.get_pool(pool_id)
    counts = funnel.funnel_counts(Patent.id.in_(queries.included_patent_ids(pool.id)))
    summary = queries.summary(pool)
    return SimpleNamespace(  # the summary's members, and the detail's lists
        summary=summary,
        pool=summary.pool,
        latest_run=summary.latest_run,
        funnel=counts.to_dict()["steps"],
        tiers=list(queries.tiers(pool.id).items()),
        universities=list(queries.universities(pool.id)),
    )


def _state() -> MemberState | None:
    raw = request.args.get("state")
    return queries.STATES.get(raw) if raw else None  # an unknown state: every state


@bp.get("/pools/<int:pool_id>/members")
@roles_required(*READ_ROLES)
@bp.arguments(MemberQuery, location="query", as_kwargs=True)
@bp.response(200, MemberPage)
@bp.doc(
    summary="产业专利池成员",
    tags=[TAG],
    description="引擎排序的候选（待确认）与技术经理人确认的纳入 / 排除；reasons 为与"
    "产业说明共有的词句。",
)
def pool_members(pool_id: int, **_query):
    """A pool's patents (kind=patent, default) or demands, optionally by state."""
    pool = services.get_pool(pool_id)
    page, per_page = requested_page(), requested_per_page()
    if request.args.get("kind") == "demand":
        return paged(queries.demand_page(pool.id, _state(), page, per_page))
    return paged(queries.patent_page(pool.id, _state(), page, per_page))
