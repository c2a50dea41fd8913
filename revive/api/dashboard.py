"""Dashboard JSON routes: the same figures as the dashboard pages, scoped the same way.

Every rate travels as {numerator, denominator, value, display}; ``display`` is the text the
pages show ("47.4%（3688 / 7782）"). Regional roles (platform admin, officer, regulator) may
narrow funnel, breakdown, contracts and overdue to one university with ``?university=<id>``;
for university and college admins the argument is ignored (their own scope always applies).
The contract of each route is its schemas below (flask-smorest, revive/api/schema.py).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user, login_required
from marshmallow import fields

from revive.accounts.models import Role
from revive.accounts.permissions import roles_required
from revive.api.blueprint import bp
from revive.api.common import page_meta, requested_page, requested_per_page
from revive.api.pools import FunnelStep, Rate
from revive.api.schema import (
    DECIMAL_STR,
    ID_ARG,
    PAGING,
    EnumValue,
    IsoDateTime,
    Query,
    Schema,
    computed,
    page_fields,
    q,
)
from revive.dashboard import activity, funnel, pages, queries
from revive.dashboard.scope import (
    ENTERPRISE_ROLES,
    FUNNEL_ROLES,
    REGIONAL_ROLES,
    Scope,
    scope_for,
)
from revive.deals.models import Stage
from revive.demands.models import DemandStatus
from revive.errors import PermissionDenied, ValidationFailed
from revive.licensing import queries as licence_queries
from revive.web import int_arg

TAG = "数据看板"
STR = {"type": "string"}
COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}  # key → count
BY = {"type": "string", "enum": ["university", "college", "industry"]}


def _int() -> fields.Integer:
    return fields.Integer(required=True)


def _str(**kwargs: Any) -> fields.String:
    return fields.String(required=True, **kwargs)


def _amount() -> fields.String:
    """万元 as a decimal string."""
    return fields.String(required=True, metadata={"json_schema": DECIMAL_STR})


def _rate(**kwargs: Any) -> fields.Nested:
    return fields.Nested(Rate, required=True, **kwargs)


def _any() -> fields.Raw:
    """A grouping key: a TRL or grade (integer), a status or an industry code (text)."""
    key = {"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": True}
    return fields.Raw(required=True, metadata={"json_schema": key})


# ---------------------------------------------------------------------------- answers

Bucket = Schema.from_dict({"key": _any(), "label": _str(), "count": _int()}, name="DashboardBucket")
DashboardSummary = Schema.from_dict(
    {
        "scope": _str(),
        "total": _int(),
        "entered": _int(),
        "entry_rate": _rate(),
        "pending_college": _int(),
        "pending_school": _int(),
        **{
            key: fields.List(fields.Nested(Bucket), required=True)
            for key in ("by_status", "by_value_grade", "by_trl", "by_willingness")
        },
        "breakdown_kind": _str(
            allow_none=True, metadata={"json_schema": {"enum": ["college", "university"]}}
        ),
        "breakdown": fields.List(
            fields.Nested(
                Schema.from_dict(
                    {
                        "id": fields.Integer(required=True, allow_none=True),
                        "name": _str(),
                        "total": _int(),
                        "entered": _int(),
                        "pending": _int(),
                        "entry_rate": _rate(),
                    },
                    name="DashboardBreakdownRow",
                )
            ),
            required=True,
        ),
    },
    name="DashboardSummary",
)
DashboardFunnel = Schema.from_dict(
    {"scope": _str(), "steps": fields.List(fields.Nested(FunnelStep), required=True)},
    name="DashboardFunnel",
)
_FIGURES: dict[str, fields.Field] = {
    "counts": fields.Dict(keys=fields.String(), values=fields.Integer(), required=True),
    "rates": fields.Dict(keys=fields.String(), values=fields.Nested(Rate), required=True),
}
FunnelFigures = Schema.from_dict(_FIGURES, name="DashboardFunnelFigures")
DashboardBreakdown = Schema.from_dict(
    {
        "scope": _str(),
        "by": _str(metadata={"json_schema": BY}),
        "items": fields.List(
            fields.Nested(
                Schema.from_dict(
                    {
                        "key": _any(),
                        "id": fields.Integer(required=True, allow_none=True),
                        "name": _str(),
                        **_FIGURES,
                    },
                    name="DashboardBreakdownLine",
                )
            ),
            required=True,
        ),
        "total": fields.Nested(FunnelFigures, required=True),
    },
    name="DashboardBreakdown",
)
DashboardContracts = Schema.from_dict(
    {
        "scope": _str(),
        "count": _int(),
        "amount_wan": _amount(),
        "by_month": fields.List(
            fields.Nested(
                Schema.from_dict(
                    {
                        "month": _str(
                            metadata={
                                "json_schema": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}
                            }
                        ),
                        "count": _int(),
                        "amount_wan": _amount(),
                    },
                    name="DashboardContractMonth",
                )
            ),
            required=True,
        ),
        "by_kind": fields.List(
            fields.Nested(
                Schema.from_dict(
                    {"key": _str(), "label": _str(), "count": _int(), "amount_wan": _amount()},
                    name="DashboardContractKind",
                )
            ),
            required=True,
        ),
        "open_licences": fields.Nested(
            Schema.from_dict(
                {
                    **{
                        key: _int()
                        for key in ("declarations", "active", "applied", "applications", "signed")
                    },
                    "applied_rate": _rate(),
                },
                name="DashboardOpenLicences",
            ),
            required=True,
        ),
    },
    name="DashboardContracts",
)
OverdueDeal = Schema.from_dict(
    {
        "id": _int(),
        "patent_id": _int(),
        "patent_title": _str(),
        "university": _str(),
        "college": _str(allow_none=True),
        "enterprise": _str(),
        "demand_id": _int(),
        "demand_title": _str(),
        "officer": _str(allow_none=True),
        "stage": EnumValue(Stage, required=True),
        "pushed_at": IsoDateTime(required=True),
        "due_at": IsoDateTime(required=True),
        "days_overdue": _int(),
    },
    name="DashboardOverdueDeal",
)
DashboardOverdue = Schema.from_dict(
    {
        "scope": _str(),
        "awaiting": _int(),
        "overdue": _int(),
        "overdue_rate": _rate(),
        **page_fields("DashboardOverduePage", OverdueDeal),
    },
    name="DashboardOverdue",
)
UnmetDemand = Schema.from_dict(
    {
        "id": _int(),
        "title": _str(),
        "enterprise": _str(),
        "industry": _str(allow_none=True),
        "created_at": IsoDateTime(required=True),
        "deadline": IsoDateTime("date", required=True),
        "rejected": _int(),
        "weak": _int(),
        "reason": _str(),
    },
    name="DashboardUnmetDemand",
)
DashboardUnmet = Schema.from_dict(
    {
        "open_demands": _int(),
        "unmet": _int(),
        "unmet_rate": _rate(),
        "never_matched": _int(),
        "all_rejected": _int(),
        "below_bar": _int(),
        "by_industry": fields.List(fields.Nested(Bucket), required=True),
        **page_fields("DashboardUnmetPage", UnmetDemand),
    },
    name="DashboardUnmet",
)
DashboardWorkload = Schema.from_dict(
    {
        "undecided": _int(),
        "demands_waiting": _int(),
        "since": IsoDateTime(required=True),
        "officers": fields.List(
            fields.Nested(
                Schema.from_dict(
                    {
                        "id": _int(),
                        "name": _str(),
                        "role": EnumValue(Role, required=True),
                        **{
                            key: _int()
                            for key in (
                                "accepted_30d",
                                "rejected_30d",
                                "open_deals",
                                "overdue",
                                "contracts",
                            )
                        },
                        "amount_wan": computed(lambda o: str(o.amount), DECIMAL_STR),
                    },
                    name="DashboardOfficerLoad",
                )
            ),
            required=True,
        ),
    },
    name="DashboardWorkload",
)


def _by_stage(counts: dict[Stage, int]) -> dict[str, int]:
    return {s.value: n for s, n in counts.items()}


DashboardEnterprise = Schema.from_dict(
    {
        "demands": fields.List(
            fields.Nested(
                Schema.from_dict(
                    {
                        "id": _int(),
                        "title": _str(),
                        "status": EnumValue(DemandStatus, required=True),
                        "suggested": _int(),
                        "pushed": _int(),
                        "stages": computed(lambda d: _by_stage(d.stages), COUNTS),
                    },
                    name="DashboardEnterpriseDemand",
                )
            ),
            required=True,
        ),
        "by_stage": computed(lambda f: _by_stage(f.by_stage), COUNTS),
        "suggested_open": _int(),
        "pushed": _int(),
        "signed": _int(),
    },
    name="DashboardEnterprise",
)

# ---------------------------------------------------------------------------- requests

UNIVERSITY = {"university": q(ID_ARG, "高校（组织 id）")}
ScopeQuery = Query.from_dict(dict(UNIVERSITY), name="DashboardScopeQuery")
BreakdownQuery = Query.from_dict({"by": q(BY), **UNIVERSITY}, name="DashboardBreakdownQuery")
OverdueQuery = Query.from_dict({**UNIVERSITY, **PAGING}, name="DashboardOverdueQuery")
PageQuery = Query.from_dict(dict(PAGING), name="DashboardPageQuery")


def _scope() -> Scope:
    return scope_for(current_user, int_arg(request.args.get("university")))


# ---------------------------------------------------------------------------- routes


@bp.get("/dashboard/summary")
@login_required
@bp.arguments(ScopeQuery, location="query", as_kwargs=True)
@bp.response(200, DashboardSummary)
@bp.doc(summary="盘点数据概览", tags=[TAG])
def dashboard_summary(**_query):
    """Inventory figures for the caller's scope: totals, the entry rate, distributions by
    status, value grade, TRL and willingness, and a breakdown per college or university.
    Platform admins, officers and the regulator may narrow it to one university
    (``university``; its breakdown is then per college); for everyone else the argument is
    ignored. Enterprise accounts get 403: they have no inventory scope.
    """
    if not queries.has_dashboard(current_user):
        raise PermissionDenied("企业账号没有盘点数据看板")
    if current_user.role not in FUNNEL_ROLES:  # inventors: their own patents
        return queries.dashboard_summary(current_user).to_dict()
    scope = _scope()
    summary = queries.dashboard_summary(
        current_user, scope.university_id if scope.is_filtered else None
    )
    summary.scope_label = scope.label
    return summary.to_dict()


@bp.get("/dashboard/funnel")
@roles_required(*FUNNEL_ROLES)
@bp.arguments(ScopeQuery, location="query", as_kwargs=True)
@bp.response(200, DashboardFunnel)
@bp.doc(summary="转化漏斗", tags=[TAG])
def dashboard_funnel(**_query):
    """The conversion funnel 盘点 → 入库 → 推送 → 评价 → 对接 → 签约 of the caller's scope;
    each step's rate is taken against its base step and against 盘点."""
    scope = _scope()
    return {"scope": scope.label, **funnel.funnel_counts(scope.patents()).to_dict()}


def _figures(c: funnel.Counts) -> dict[str, Any]:
    return {
        "counts": {k: c.get(k) for k in funnel.KEYS},
        "rates": {
            s.key: funnel.rate_dict(c.get(s.key), c.get(s.base)) for s in funnel.STEPS if s.base
        },
    }


@bp.get("/dashboard/breakdown")
@roles_required(*FUNNEL_ROLES)
@bp.arguments(BreakdownQuery, location="query", as_kwargs=True)
@bp.response(200, DashboardBreakdown)
@bp.doc(
    summary="分高校/学院/行业的漏斗",
    tags=[TAG],
    **{"x-errors": [401, 403, 404, 422]},  # 404: a grouping the caller may not use
)
def dashboard_breakdown(**_query):
    """The funnel per university, college or industry section (GB/T 4754 门类); ``by``:
    regional roles all three (college needs ``university``), university admin
    college|industry, college admin industry."""
    scope = _scope()
    by = pages.breakdown_by(scope, request.args.get("by"))
    if by == "college" and scope.university_id is None:
        raise ValidationFailed("按学院统计须指定 university")
    lines = pages.breakdown_lines(scope, by)
    return {
        "scope": scope.label,
        "by": by,
        "items": [{"key": x.key, "id": x.id, "name": x.name, **_figures(x.counts)} for x in lines],
        "total": _figures(funnel.total_of(lines)),
    }


@bp.get("/dashboard/contracts")
@roles_required(*FUNNEL_ROLES)
@bp.arguments(ScopeQuery, location="query", as_kwargs=True)
@bp.response(200, DashboardContracts)
@bp.doc(summary="合同统计", tags=[TAG])
def dashboard_contracts(**_query):
    """Contracts of the caller's scope by month and kind (amounts: decimal strings in 万元);
    open_licences counts applications to implement open licences (withdrawn ones aside)
    beside the declarations of the scope's patents."""
    scope = _scope()
    lic = licence_queries.application_figures(scope.patents())
    return {
        "scope": scope.label,
        **activity.contract_figures(scope.deals()).to_dict(),
        "open_licences": {
            **lic.to_dict(),
            "applied_rate": funnel.rate_dict(lic.applied, lic.declarations),
        },
    }


@bp.get("/dashboard/overdue")
@roles_required(*FUNNEL_ROLES)
@bp.arguments(OverdueQuery, location="query", as_kwargs=True)
@bp.response(200, DashboardOverdue)
@bp.doc(summary="超期未答复的对接", tags=[TAG])
def dashboard_overdue(**_query):
    """Deals whose university has not answered by the due time."""
    scope = _scope()
    awaiting, overdue = activity.overdue_counts(scope.deals())
    items, info = activity.overdue_deals(scope.deals(), requested_page(), requested_per_page())
    return {
        "scope": scope.label,
        "awaiting": awaiting,
        "overdue": overdue,
        "overdue_rate": funnel.rate_dict(overdue, awaiting),
        "items": items,
        "meta": page_meta(info),
    }


@bp.get("/dashboard/unmet")
@roles_required(*REGIONAL_ROLES)
@bp.arguments(PageQuery, location="query", as_kwargs=True)
@bp.response(200, DashboardUnmet)
@bp.doc(summary="未满足的需求", tags=[TAG])
def dashboard_unmet(**_query):
    """Open demands without an accepted match or a candidate officers review (never matched,
    all rejected, or only weak candidates)."""
    figs = activity.unmet_figures()
    items, info = activity.unmet_demands(requested_page(), requested_per_page())
    return {
        "open_demands": figs.open_demands,
        "unmet": figs.unmet,
        "unmet_rate": funnel.rate_dict(figs.unmet, figs.open_demands),
        "never_matched": figs.never_matched,
        "all_rejected": figs.all_rejected,
        "below_bar": figs.below_bar,
        "by_industry": [{"key": k, "label": label, "count": n} for k, label, n in figs.by_industry],
        "items": items,
        "meta": page_meta(info),
    }


@bp.get("/dashboard/workload")
@roles_required(*REGIONAL_ROLES)
@bp.response(200, DashboardWorkload)
@bp.doc(summary="专员工作量", tags=[TAG])
def dashboard_workload():
    """Per officer: match decisions in the last 30 days, open and overdue deals, contracts."""
    return activity.workload()


@bp.get("/dashboard/enterprise")
@roles_required(*ENTERPRISE_ROLES)
@bp.response(200, DashboardEnterprise)
@bp.doc(summary="企业的需求与对接概况", tags=[TAG])
def dashboard_enterprise():
    """The caller's enterprise: its demands with their machine suggestions (undecided 强 / 中
    candidates its demand pages list) and deals by stage, and the totals (``suggested_open``:
    on its open demands)."""
    return activity.enterprise_figures(current_user.organization_id)
