"""Dashboard JSON routes: the same figures as the dashboard pages, scoped the same way.

Every rate travels as {numerator, denominator, value, display}; ``display`` is the text the
pages show ("47.4%（3688 / 7782）"). Regional roles (platform admin, officer, regulator) may
narrow funnel, breakdown, contracts and overdue to one university with ``?university=<id>``;
for university and college admins the argument is ignored (their own scope always applies).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user, login_required

from revive.accounts.permissions import roles_required
from revive.api import bp
from revive.api.common import iso, page_meta, requested_page, requested_per_page
from revive.dashboard import activity, funnel, pages, queries
from revive.dashboard.scope import (
    ENTERPRISE_ROLES,
    FUNNEL_ROLES,
    REGIONAL_ROLES,
    Scope,
    scope_for,
)
from revive.errors import PermissionDenied, ValidationFailed
from revive.licensing import queries as licence_queries
from revive.web import int_arg


def _scope() -> Scope:
    return scope_for(current_user, int_arg(request.args.get("university")))


@bp.get("/dashboard/summary")
@login_required
def dashboard_summary():
    """Inventory figures for the caller's scope.

    Output: {scope, total, entered, entry_rate{numerator, denominator, value, display},
    pending_college, pending_school, by_status[], by_value_grade[], by_trl[],
    by_willingness[] (each {key, label, count}), breakdown_kind ("college" | "university" |
    null), breakdown[] ({id, name, total, entered, pending, entry_rate})}.
    Enterprise accounts get 403: they have no inventory scope.
    """
    if not queries.has_dashboard(current_user):
        raise PermissionDenied("企业账号没有盘点数据看板")
    return jsonify(queries.dashboard_summary(current_user).to_dict())


@bp.get("/dashboard/funnel")
@roles_required(*FUNNEL_ROLES)
def dashboard_funnel():
    """The conversion funnel 盘点 → 入库 → 评价 → 推送 → 对接 → 签约 of the caller's scope.

    Input: ?university=<id> (regional roles). Output: {scope, steps[]}, each step {key, label,
    count_label, definition, count, base (key of the step its rate is taken against, null for
    盘点), rate_of_base, rate_of_inventoried}.
    """
    scope = _scope()
    return jsonify(scope=scope.label, **funnel.funnel_counts(scope.patents()).to_dict())


@bp.get("/dashboard/breakdown")
@roles_required(*FUNNEL_ROLES)
def dashboard_breakdown():
    """The funnel per university, college or industry section (GB/T 4754 门类).

    Input: ?by=university|college|industry (regional: all three, college needs ?university;
    university admin: college|industry; college admin: industry), ?university=<id>.
    Output: {scope, by, items[] ({key, id, name, counts{step: n}, rates{step: rate}}),
    total{counts, rates}}.
    """
    scope = _scope()
    by = pages.breakdown_by(scope, request.args.get("by"))
    if by == "college" and scope.university_id is None:
        raise ValidationFailed("按学院统计须指定 university")
    lines = pages.breakdown_lines(scope, by)

    def figures(c: funnel.Counts) -> dict[str, Any]:
        return {
            "counts": {k: c.get(k) for k in funnel.KEYS},
            "rates": {
                s.key: funnel.rate_dict(c.get(s.key), c.get(s.base)) for s in funnel.STEPS if s.base
            },
        }

    return jsonify(
        scope=scope.label,
        by=by,
        items=[{"key": x.key, "id": x.id, "name": x.name, **figures(x.counts)} for x in lines],
        total=figures(funnel.total_of(lines)),
    )


@bp.get("/dashboard/contracts")
@roles_required(*FUNNEL_ROLES)
def dashboard_contracts():
    """Contracts of the caller's scope: {scope, count, amount_wan, by_month[] ({month "YYYY-MM",
    count, amount_wan}), by_kind[] ({key, label, count, amount_wan}), open_licences
    ({declarations, active, applied, applications, signed, applied_rate})}. Amounts are decimal
    strings in 万元; open_licences counts applications to implement open licences (withdrawn
    ones aside) beside the declarations of the scope's patents. Input: ?university=<id>
    (regional roles)."""
    scope = _scope()
    lic = licence_queries.application_figures(scope.patents())
    return jsonify(
        scope=scope.label,
        **activity.contract_figures(scope.deals()).to_dict(),
        open_licences={
            **lic.to_dict(),
            "applied_rate": funnel.rate_dict(lic.applied, lic.declarations),
        },
    )


@bp.get("/dashboard/overdue")
@roles_required(*FUNNEL_ROLES)
def dashboard_overdue():
    """Deals whose university has not answered by the due time.

    Input: ?university=<id> (regional), ?page, ?per_page. Output: {scope, awaiting, overdue,
    overdue_rate, items[] ({id, patent_id, patent_title, university, college, enterprise,
    demand_id, demand_title, officer, stage, pushed_at, due_at, days_overdue}), _meta}.
    """
    scope = _scope()
    awaiting, overdue = activity.overdue_counts(scope.deals())
    items, info = activity.overdue_deals(scope.deals(), requested_page(), requested_per_page())
    return jsonify(
        scope=scope.label,
        awaiting=awaiting,
        overdue=overdue,
        overdue_rate=funnel.rate_dict(overdue, awaiting),
        items=[
            {
                "id": d.id,
                "patent_id": d.patent_id,
                "patent_title": d.patent_title,
                "university": d.university,
                "college": d.college,
                "enterprise": d.enterprise,
                "demand_id": d.demand_id,
                "demand_title": d.demand_title,
                "officer": d.officer,
                "stage": d.stage.value,
                "pushed_at": iso(d.pushed_at),
                "due_at": iso(d.due_at),
                "days_overdue": d.days_overdue,
            }
            for d in items
        ],
        _meta=page_meta(info),
    )


@bp.get("/dashboard/unmet")
@roles_required(*REGIONAL_ROLES)
def dashboard_unmet():
    """Open demands without a candidate or accepted match (never matched, or all rejected).

    Input: ?page, ?per_page. Output: {open_demands, unmet, unmet_rate, never_matched,
    all_rejected, by_industry[] ({key, label, count}), items[] ({id, title, enterprise,
    industry, created_at, deadline, rejected, reason}), _meta}.
    """
    figs = activity.unmet_figures()
    items, info = activity.unmet_demands(requested_page(), requested_per_page())
    return jsonify(
        open_demands=figs.open_demands,
        unmet=figs.unmet,
        unmet_rate=funnel.rate_dict(figs.unmet, figs.open_demands),
        never_matched=figs.never_matched,
        all_rejected=figs.all_rejected,
        by_industry=[{"key": k, "label": label, "count": n} for k, label, n in figs.by_industry],
        items=[
            {
                "id": d.id,
                "title": d.title,
                "enterprise": d.enterprise,
                "industry": d.industry,
                "created_at": iso(d.created_at),
                "deadline": iso(d.deadline),
                "rejected": d.rejected,
                "reason": d.reason,
            }
            for d in items
        ],
        _meta=page_meta(info),
    )


@bp.get("/dashboard/workload")
@roles_required(*REGIONAL_ROLES)
def dashboard_workload():
    """Per officer: {undecided, demands_waiting, since, officers[] ({id, name, role,
    accepted_30d, rejected_30d, open_deals, overdue, contracts, amount_wan})}."""
    figs = activity.workload()
    return jsonify(
        undecided=figs.undecided,
        demands_waiting=figs.demands_waiting,
        since=iso(figs.since),
        officers=[
            {
                "id": o.id,
                "name": o.name,
                "role": o.role.value,
                "accepted_30d": o.accepted_30d,
                "rejected_30d": o.rejected_30d,
                "open_deals": o.open_deals,
                "overdue": o.overdue,
                "contracts": o.contracts,
                "amount_wan": str(o.amount),
            }
            for o in figs.officers
        ],
    )


@bp.get("/dashboard/enterprise")
@roles_required(*ENTERPRISE_ROLES)
def dashboard_enterprise():
    """The caller's enterprise: {demands[] ({id, title, status, pushed, stages{stage: n}}),
    by_stage{stage: n}, pushed, signed}."""
    figs = activity.enterprise_figures(current_user.organization_id)
    return jsonify(
        demands=[
            {
                "id": d.id,
                "title": d.title,
                "status": d.status.value,
                "pushed": d.pushed,
                "stages": {s.value: n for s, n in d.stages.items()},
            }
            for d in figs.demands
        ],
        by_stage={s.value: n for s, n in figs.by_stage.items()},
        pushed=figs.pushed,
        signed=figs.signed,
    )
