"""JSON API: the officers' review queue (same filters as /review), bulk decisions, and the
rejection statistics. The contract of each route is its schemas below (flask-smorest,
revive/api/schema.py). Decisions go through revive.deals.services.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from marshmallow import fields

from revive.accounts.permissions import roles_required
from revive.api.blueprint import bp
from revive.api.common import requested_per_page
from revive.api.matching import MatchSchema
from revive.api.schema import (
    ID_ARG,
    ORG,
    PAGING,
    IsoDateTime,
    LaterRaw,
    LaterStr,
    Lenient,
    NestedOf,
    Query,
    Schema,
    Str,
    computed,
    page_schema,
    paged,
    q,
    ref_of,
)
from revive.matching.reasons import REJECT_REASONS
from revive.review import permissions, queries, services
from revive.review.permissions import QUEUE_ROLES, STATS_ROLES
from revive.web import int_arg

TAG = "审核"
STR = {"type": "string"}
MAX_TOP = 100

# ---------------------------------------------------------------------------- answers


class Candidate(MatchSchema):
    """A candidate of the queue: a match, and when it was proposed."""

    created_at = IsoDateTime(required=True)
    trl_below_expectation = computed(queries.trl_below, {"type": "boolean"}, nullable=True)


QueueDemand = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        "title": fields.String(required=True),
        "enterprise": computed(lambda d: ref_of(d.enterprise), ORG),
        "industry": fields.String(required=True, allow_none=True),
        "expected_trl": fields.Integer(required=True, allow_none=True),
        "created_at": IsoDateTime(required=True),
    },
    name="QueueDemand",
)
ReviewGroup = Schema.from_dict(
    {
        "demand": fields.Nested(QueueDemand, required=True),
        "candidate_count": fields.Integer(required=True, attribute="count"),
        "top_score": fields.Float(required=True, allow_none=True),
        "newest_candidate_at": IsoDateTime(required=True, attribute="newest_at"),
        "oldest_candidate_days": computed(
            lambda g: queries.days_since(g.oldest_at), {"type": "integer"}, nullable=True
        ),
        # how matching read the demand: its sub-needs (candidates' ``need`` indexes them), too
        # short to match with confidence, nothing reached the strength bar
        "needs": computed(
            lambda g: [
                {"index": i, "label": n.get("label", "")}
                for i, n in enumerate((g.reading.needs if g.reading else None) or [])
            ],
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", "label"],
                    "properties": {"index": {"type": "integer"}, "label": STR},
                },
            },
        ),
        "is_thin": fields.Boolean(required=True),
        "is_abstaining": computed(lambda g: g.abstains, {"type": "boolean"}),
        "candidates": NestedOf(lambda g: g.candidates, Candidate, many=True),
    },
    name="ReviewGroup",
)
ReviewPage = page_schema("ReviewPage", ReviewGroup)

_ROW: dict[str, fields.Field] = {
    "id": fields.Integer(required=True),
    "name": fields.String(required=True),
    "rejected": fields.Integer(required=True),
    "decided": fields.Integer(required=True),  # accepted + rejected: the rate's denominator
    "reasons": computed(
        lambda r: dict(r.reasons), {"type": "object", "additionalProperties": {"type": "integer"}}
    ),
}
UniversityRejections = Schema.from_dict(_ROW, name="UniversityRejections")
PatentRejections = Schema.from_dict(
    {
        **_ROW,
        "application_no": fields.String(required=True),
        "university": fields.String(required=True),
        "college": computed(lambda r: r.college or None, STR, nullable=True),
        "value_grade": fields.Integer(required=True, allow_none=True),
    },
    name="PatentRejections",
)
Rejections = Schema.from_dict(
    {
        "scope": fields.String(required=True),
        "reasons": computed(
            lambda _: [{"code": c, "label": label} for c, label in REJECT_REASONS.items()],
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "label"],
                    "properties": {"code": STR, "label": STR},
                },
            },
        ),
        "by_university": fields.List(fields.Nested(UniversityRejections), required=True),
        "by_patent": fields.List(fields.Nested(PatentRejections), required=True),
    },
    name="Rejections",
)
Decided = Schema.from_dict(
    {
        "done": fields.List(fields.Integer(), required=True),
        "skipped": computed(
            lambda r: [{"id": i, "message": message} for i, message in r["skipped"]],
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "message"],
                    "properties": {"id": {"type": "integer"}, "message": STR},
                },
            },
        ),
    },
    name="ReviewDecided",
)

# ---------------------------------------------------------------------------- requests

QueueQuery = Query.from_dict(
    {
        "industry": q(STR),
        "university": q(ID_ARG),
        "min_score": q({"type": "number", "minimum": 0, "maximum": 1}),
        "posted_within": q({"type": "integer", "minimum": 0, "maximum": 3650}),
        "waiting_over": q({"type": "integer", "minimum": 0, "maximum": 3650}),
        "sort": q({"type": "string", "enum": ["newest", "strength", "score"]}),
        **PAGING,
    },
    name="ReviewQueueQuery",
)
RejectionsQuery = Query.from_dict(
    {
        "university": q(ID_ARG, "高校（组织 id）"),
        "days": q({"type": "integer", "minimum": 1, "maximum": 3650}),
        "top": q({"type": "integer", "minimum": 1, "maximum": 100}),
    },
    name="RejectionsQuery",
)


class DecisionsBody(Lenient):
    # ids: checked and capped by revive.selection (its messages)
    match_ids = LaterRaw(
        required=True,
        metadata={"json_schema": {"type": "array", "items": ID_ARG, "maxItems": 500}},
    )
    decision = LaterStr(
        required=True,
        metadata={"json_schema": {"enum": ["accepted", "rejected", "accept", "reject"]}},
    )
    reason_code = Str(allow_none=True, metadata={"json_schema": {"enum": list(REJECT_REASONS)}})
    comment = Str(allow_none=True, metadata={"json_schema": {"maxLength": 2000}})


# ---------------------------------------------------------------------------- routes


@bp.get("/review/queue")
@roles_required(*QUEUE_ROLES)
@bp.arguments(QueueQuery, location="query", as_kwargs=True)
@bp.response(200, ReviewPage)
@bp.doc(summary="审核队列（按需求分组的候选匹配）", tags=[TAG])
def review_queue(**_query):
    """Open demands with candidate matches, each with its candidates (strongest first)."""
    filters = queries.parse_queue_filters(request.args)
    return paged(queries.queue_page(filters, requested_per_page()))


@bp.post("/review/decisions")
@roles_required(*QUEUE_ROLES)
@bp.arguments(DecisionsBody)
@bp.response(200, Decided)
@bp.doc(summary="批量采纳/否决", tags=[TAG], **{"x-errors": [401, 403, 409, 422]})
def review_decisions(data: dict[str, Any]):
    """Accept (and push to both sides) or reject several candidates; a match already decided
    or gone is skipped, not fatal."""
    return services.decide_selected(
        data.get("match_ids"),
        str(data.get("decision") or ""),
        current_user,
        reason_code=data.get("reason_code"),
        comment=data.get("comment"),
    )


@bp.get("/review/rejections")
@roles_required(*STATS_ROLES)
@bp.arguments(RejectionsQuery, location="query", as_kwargs=True)
@bp.response(200, Rejections)
@bp.doc(summary="否决原因统计", tags=[TAG])
def review_rejections(**_query):
    """Rejection reasons per university and for the most rejected patents, within the caller's
    scope."""
    filters = queries.parse_stats_filters(request.args, current_user)
    top = min(MAX_TOP, max(1, int_arg(request.args.get("top"), queries.TOP_PATENTS)))
    return {
        "scope": permissions.scope_label(current_user),
        "by_university": queries.rejections_by_university(current_user, filters),
        "by_patent": queries.rejections_by_patent(current_user, filters, top),
    }
