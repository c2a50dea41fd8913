"""JSON API: 市场评价 and 分层推广. Same services and rules as the pages (revive.evaluations);
errors are ``{"error", "message"}``; writes need the ``X-CSRFToken`` header like every API write.

GET  /api/v1/evaluations/patents/<id>          a patent's evaluations (as the viewer may see them)
POST /api/v1/evaluations/patents/<id>          evaluate (enterprise): create or update
POST /api/v1/evaluations/patents/<id>/invites  invite an enterprise
GET  /api/v1/evaluations/todo                  the enterprise's patents to evaluate
GET  /api/v1/evaluations/calibration           self-rating vs. enterprise rating
GET  /api/v1/evaluations/promotion             promotion list (tiers A/B by default)
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user, login_required

from revive.accounts.permissions import roles_required
from revive.api import bp
from revive.api.common import (
    enum_pair,
    iso,
    json_body,
    optional_int,
    page_meta,
    requested_page,
    requested_per_page,
)
from revive.evaluations import permissions, queries, services
from revive.evaluations.models import Evaluation, EvaluationInvite
from revive.evaluations.permissions import (
    CALIBRATION_ROLES,
    EVALUATOR_ROLES,
    INVITER_ROLES,
    PROMOTION_ROLES,
)
from revive.evaluations.tiers import TierResult
from revive.templating import format_rate
from revive.web import int_arg


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _rate(numerator: int, denominator: int) -> dict[str, Any]:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "value": round(numerator / denominator, 4) if denominator else None,
        "display": format_rate(numerator, denominator),
    }


def _tier(result: TierResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {"tier": result.tier.value, "label": result.tier.label, "reasons": list(result.reasons)}


def evaluation_json(e: Evaluation) -> dict[str, Any]:
    intent, intent_label = enum_pair(e.intent)
    return {
        "id": e.id,
        "patent_id": e.patent_id,
        "enterprise_id": e.enterprise_id,
        "prospect_stars": e.prospect_stars,
        "intent": intent,
        "intent_label": intent_label,
        "improvement_needs": e.improvement_needs,
        "version": e.version,
        "created_at": iso(e.created_at),
        "updated_at": iso(e.updated_at),
    }


def panel_json(p: queries.PatentEvaluations) -> dict[str, Any]:
    patent = p.patent
    out: dict[str, Any] = {
        "patent_id": patent.id,
        "status": patent.status.value,
        "names_visible": p.sees_names,
        "evaluations": [
            {
                "id": e.id,
                "enterprise": e.label,
                "enterprise_id": e.enterprise_id,
                "is_own": e.is_own,
                "prospect_stars": e.prospect_stars,
                "intent": e.intent.value,
                "intent_label": e.intent.label,
                "improvement_needs": e.improvement_needs,
                "updated_at": iso(e.updated_at),
            }
            for e in p.evaluations
        ],
        "own": evaluation_json(p.own) if p.own else None,
    }
    if p.show_summary:
        out["summary"] = {
            "count": p.count,
            "avg_stars": _round(p.avg),
            "max_stars": p.max_stars,
            "interested": p.interested,
        }
    if p.sees_names:  # the self-assessment and tier are not shown to enterprises
        out["self_assessment"] = {
            "value_grade": patent.value_grade,
            "trl": patent.trl,
            "transfer_willingness": enum_pair(patent.transfer_willingness)[0],
        }
        out["double_five"] = p.double_five
        out["tier"] = _tier(p.tier)
    if p.invites is not None:
        out["invites"] = [
            {
                "enterprise_id": i.enterprise_id,
                "enterprise": i.enterprise_name,
                "invited_at": iso(i.invited_at),
                "invited_by": i.invited_by,
                "evaluated": i.evaluated,
            }
            for i in p.invites
        ]
    return out


@bp.get("/evaluations/patents/<int:patent_id>")
@login_required
def patent_evaluations(patent_id: int):
    """A patent's evaluations. Staff, regulator and the patent's university: every evaluation
    with the enterprise's name, the self-assessment, 双五星 and the tier; an enterprise that was
    matched or invited: its own evaluation, and the others anonymised (企业A…) once it has
    evaluated. Others: 404."""
    patent = permissions.get_patent_for_evaluations(current_user, patent_id)
    return jsonify(panel_json(queries.patent_evaluations(current_user, patent)))


@bp.post("/evaluations/patents/<int:patent_id>")
@roles_required(*EVALUATOR_ROLES)
def evaluate(patent_id: int):
    """Evaluate (enterprise). Input: {prospect_stars: 1–5, intent: license|assignment|joint_rd|
    none (or the Chinese label), improvement_needs?, version?}. 201 with the evaluation when
    created, 200 when updated; 404 unrelated patent, 409 not entered or stale version, 422."""
    data = json_body()
    evaluation, created = services.evaluate_patent(
        patent_id,
        actor=current_user,
        prospect_stars=data.get("prospect_stars"),
        intent=data.get("intent"),
        improvement_needs=data.get("improvement_needs"),
        expected_version=optional_int(data, "version"),
    )
    return jsonify(evaluation_json(evaluation)), 201 if created else 200


@bp.post("/evaluations/patents/<int:patent_id>/invites")
@roles_required(*INVITER_ROLES)
def invite(patent_id: int):
    """Invite an enterprise to evaluate an entered patent. Input: {enterprise_id} or
    {enterprise_name} (exact, or a unique part). 201 created, 200 already invited."""
    data = json_body()
    invitation, created = services.invite_enterprise(
        patent_id,
        actor=current_user,
        enterprise_id=data.get("enterprise_id"),
        enterprise_name=data.get("enterprise_name"),
    )
    return jsonify(invite_json(invitation, created)), 201 if created else 200


def invite_json(i: EvaluationInvite, created: bool) -> dict[str, Any]:
    return {
        "id": i.id,
        "patent_id": i.patent_id,
        "enterprise_id": i.enterprise_id,
        "enterprise": i.enterprise.name,
        "created": created,
        "invited_at": iso(i.created_at),
    }


@bp.get("/evaluations/todo")
@roles_required(*EVALUATOR_ROLES)
def todo():
    """The enterprise's entered patents to evaluate. Query: state=all|todo|done, page,
    per_page. Output: {items: [{patent_id, title, …, matched, invited, prospect_stars|null}],
    _meta}."""
    state = request.args.get("state", "all")
    state = state if state in queries.TODO_STATES else "all"
    page = queries.todo_page(current_user, state, requested_page(), requested_per_page())
    items = [
        {
            "patent_id": r.patent_id,
            "application_no": r.application_no,
            "title": r.title,
            "institution": r.institution,
            "tech_field": r.tech_field,
            "trl": r.trl,
            "matched": r.matched,
            "invited": r.invited,
            "prospect_stars": r.stars,
            "intent": r.intent.value if r.intent else None,
            "evaluated_at": iso(r.evaluated_at),
            "version": r.version,
        }
        for r in page.items
    ]
    return jsonify(items=items, _meta=page_meta(page))


@bp.get("/evaluations/calibration")
@roles_required(*CALIBRATION_ROLES)
def calibration():
    """Self-rating vs. enterprise rating over entered patents. Query: institution (staff and
    regulator: any, default all; others: their own), page, per_page (patent rows). Output:
    {scope, by_grade: [...], share_confirmed: {numerator, denominator, value, display},
    universities: [...], patents: {items, _meta}}."""
    institution = int_arg(request.args.get("institution"))
    s = queries.calibration(current_user, institution)
    patents = queries.calibration_patents(
        current_user, institution, requested_page(), requested_per_page()
    )
    return jsonify(
        scope=s.scope_label,
        institution_id=s.institution_id,
        good_threshold=queries.GOOD,
        entered=s.entered,
        evaluated=s.evaluated,
        evaluations=s.evaluations,
        coverage=_rate(s.evaluated, s.entered),
        mean_self=_round(s.mean_self),
        mean_enterprise=_round(s.mean_enterprise),
        share_confirmed=_rate(s.confirmed, s.high_self),
        by_grade=[
            {
                "self_grade": g.grade,
                "entered": g.entered,
                "evaluated": g.evaluated,
                "evaluations": g.evaluations,
                "mean_enterprise": _round(g.mean_enterprise),
            }
            for g in s.grades
        ],
        universities=[
            {
                "id": u.id,
                "name": u.name,
                "evaluated": u.evaluated,
                "share_confirmed": _rate(u.confirmed, u.high_self),
                "mean_self": _round(u.mean_self),
                "mean_enterprise": _round(u.mean_enterprise),
            }
            for u in s.universities
        ],
        patents={
            "items": [
                {
                    "id": p.id,
                    "application_no": p.application_no,
                    "title": p.title,
                    "institution": p.institution,
                    "college": p.college,
                    "self_grade": p.self_grade,
                    "enterprise_avg": _round(p.enterprise_avg),
                    "evaluations": p.evaluations,
                    "gap": _round(p.gap),
                }
                for p in patents.items
            ],
            "_meta": page_meta(patents),
        },
    )


@bp.get("/evaluations/promotion")
@roles_required(*PROMOTION_ROLES)
def promotion():
    """The promotion list. Query: by=industry|field, group (one industry / field value,
    "未分类" for none), institution, tier (A, B, C, D or a comma list; default A,B), page,
    per_page. Items are ordered by group, tier, enterprise average, evaluation count."""
    filters = queries.parse_promotion_filters(request.args)
    page = queries.promotion_page(current_user, filters, requested_per_page())
    items = []
    for r in page.items:
        row = r.row
        items.append(
            {
                "patent_id": row["id"],
                "application_no": row["application_no"],
                "title": row["title"],
                "institution": row["institution"],
                "college": row["college"],
                "group": row["group"],
                "industry_code": row["industry_code"],
                "tech_field": row["tech_field"],
                "tier": r.tier.value,
                "tier_label": r.tier.label,
                "reasons": list(r.result.reasons),
                "value_grade": row["value_grade"],
                "trl": row["trl"],
                "evaluation_count": r.n,
                "avg_stars": _round(r.avg),
                "interested": int(row["interested"] or 0),
                "double_five": r.double_five,
            }
        )
    return jsonify(
        by=filters.by,
        tiers=list(filters.tiers),
        items=items,
        _meta=page_meta(page),
    )
