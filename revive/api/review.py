"""JSON API: the officers' review queue (same filters as /review), bulk decisions, and the
rejection statistics. Errors: ``{"error", "message"}`` (revive.errors); writes need the
``X-CSRFToken`` header like every API write. Decisions go through revive.deals.services.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user

from revive.accounts.permissions import roles_required
from revive.api import bp
from revive.api.common import iso, json_body, paginated, requested_per_page
from revive.api.matching import match_json
from revive.matching.reasons import REJECT_REASONS
from revive.review import permissions, queries, services
from revive.review.permissions import QUEUE_ROLES, STATS_ROLES
from revive.review.queries import DemandGroup, RejectionRow
from revive.web import int_arg

MAX_TOP = 100


def group_json(g: DemandGroup) -> dict[str, Any]:
    d = g.demand
    return {
        "demand": {
            "id": d.id,
            "title": d.title,
            "enterprise": {"id": d.enterprise_id, "name": d.enterprise.name},
            "industry": d.industry,
            "expected_trl": d.expected_trl,
            "created_at": iso(d.created_at),
        },
        "candidate_count": g.count,
        "top_score": g.top_score,
        "newest_candidate_at": iso(g.newest_at),
        "oldest_candidate_days": queries.days_since(g.oldest_at),
        # how matching read the demand: its sub-needs (candidates' ``need`` indexes them),
        # too short to match with confidence, nothing reached the strength bar
        "needs": [
            {"index": i, "label": n.get("label", "")}
            for i, n in enumerate((g.reading.needs if g.reading else None) or [])
        ],
        "is_thin": g.is_thin,
        "is_abstaining": g.abstains,
        "candidates": [
            {
                **match_json(m, staff=True),
                "trl_below_expectation": queries.trl_below(m),
                "created_at": iso(m.created_at),
            }
            for m in g.candidates
        ],
    }


@bp.get("/review/queue")
@roles_required(*QUEUE_ROLES)
def review_queue():
    """Open demands with candidate matches, each with its candidates (strongest first).

    Query: industry (exact), university (patent's institution id), min_score (0–1),
    posted_within (demand posted within N days), waiting_over (candidate proposed more than N
    days ago), sort (newest | strength | score), page, per_page (≤ 100; counts demands).
    Output: {items: [{demand{id, title, enterprise, industry, expected_trl, created_at},
    candidate_count, top_score, newest_candidate_at, oldest_candidate_days, needs: [{index,
    label}], is_thin, is_abstaining, candidates: [match…, created_at]}], _meta: {page,
    per_page, total_pages, total_items}}.
    """
    filters = queries.parse_queue_filters(request.args)
    per_page = requested_per_page()
    return paginated(queries.queue_page(filters, per_page), group_json)


@bp.post("/review/decisions")
@roles_required(*QUEUE_ROLES)
def review_decisions():
    """Accept (and push to both sides) or reject several candidates. Header: X-CSRFToken.

    Body: {match_ids: [int…] (≤ 500), decision: "accepted"|"rejected" (or accept|reject),
    reason_code? (required to reject: one of reasons), comment? (required with "other"; on
    accept: the recommendation note sent to both sides with the push)}.
    Output: {done: [id…], skipped: [{id, message}]}: a match already decided or gone is
    skipped, not fatal. Errors: 422 (no ids, bad decision, reason missing).
    """
    data = json_body()
    result = services.decide_selected(
        data.get("match_ids"),
        str(data.get("decision") or ""),
        current_user,
        reason_code=data.get("reason_code") if isinstance(data.get("reason_code"), str) else None,
        comment=data.get("comment") if isinstance(data.get("comment"), str) else None,
    )
    return jsonify(
        done=result["done"],
        skipped=[{"id": i, "message": message} for i, message in result["skipped"]],
    )


def _row_json(r: RejectionRow, **extra: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        **extra,
        "rejected": r.rejected,
        "decided": r.decided,
        "reasons": dict(r.reasons),
    }


@bp.get("/review/rejections")
@roles_required(*STATS_ROLES)
def review_rejections():
    """Rejection reasons per university and for the most rejected patents, within the caller's
    scope (staff and regulator: all; university admin: own university; college admin: own
    college). Query: university (id; all-university roles only), days (decided within N days),
    top (patents listed, ≤ 100, default 20).
    Output: {scope, reasons: [{code, label}], by_university: [{id, name, rejected, decided,
    reasons: {code: n}}], by_patent: [{id, name, application_no, university, college,
    value_grade, rejected, decided, reasons}]}; ``decided`` (accepted + rejected) is the rate's
    denominator.
    """
    filters = queries.parse_stats_filters(request.args, current_user)
    top = min(MAX_TOP, max(1, int_arg(request.args.get("top"), queries.TOP_PATENTS)))
    universities = queries.rejections_by_university(current_user, filters)
    patents = queries.rejections_by_patent(current_user, filters, top)
    return jsonify(
        scope=permissions.scope_label(current_user),
        reasons=[{"code": c, "label": label} for c, label in REJECT_REASONS.items()],
        by_university=[_row_json(r) for r in universities],
        by_patent=[
            _row_json(
                r,
                application_no=r.application_no,
                university=r.university,
                college=r.college or None,
                value_grade=r.value_grade,
            )
            for r in patents
        ],
    )
