"""Matching JSON routes: a demand's matches, run and index-build progress, re-match / rebuild,
and the officer's decision. The contract of each route is its schemas below (flask-smorest,
revive/api/schema.py); ``Match`` is also what the review queue and the pool's routes answer
(``match_json``).
"""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required
from marshmallow import fields, post_dump

from revive.accounts.models import Role
from revive.accounts.permissions import roles_required
from revive.api.blueprint import bp
from revive.api.schema import (
    Int,
    IsoDateTime,
    LaterStr,
    Lenient,
    Schema,
    Str,
    computed,
    enum_fields,
)
from revive.matching import jobs, permissions, queries
from revive.matching.models import (
    Match,
    MatchRun,
    MatchSource,
    MatchState,
    MatchTier,
    RunScope,
    RunStatus,
)
from revive.matching.permissions import STAFF_ROLES
from revive.matching.reasons import REJECT_REASONS
from revive.review import services as review_services

TAG = "匹配"
STR = {"type": "string"}

# ---------------------------------------------------------------------------- answers


# [[term, weight], …]: the index's top contributing terms
TERMS_JSON = {
    "type": "array",
    "nullable": True,
    "items": {
        "type": "array",
        "minItems": 2,
        "maxItems": 2,
        "items": {"oneOf": [{"type": "string"}, {"type": "number"}]},
    },
}


def _fraction(processed: int, total: int) -> float:
    return round(min(processed / total, 1.0), 4) if total else 0.0


# Status and progress (0–1) of a match run or an index build.
_JOB: dict[str, fields.Field] = {
    "id": fields.Integer(required=True),
    **enum_fields("status", RunStatus),
    "is_active": computed(lambda j: j.status in jobs.ACTIVE, {"type": "boolean"}),
    "progress": computed(
        lambda j: 1.0 if j.status == RunStatus.SUCCEEDED else _fraction(j.processed, j.total),
        {"type": "number", "minimum": 0, "maximum": 1},
    ),
    "total": fields.Integer(required=True),
    "processed": fields.Integer(required=True),
    "error": fields.String(required=True, allow_none=True),
    # set while an active run stands still: no worker has taken it, or its worker went quiet
    "notice": computed(jobs.notice, {"type": "string"}, nullable=True),
    "created_at": IsoDateTime(required=True),
    "started_at": IsoDateTime(required=True),
    "finished_at": IsoDateTime(required=True),
}
MatchRunSchema = Schema.from_dict(
    {
        **_JOB,
        **enum_fields("scope", RunScope),
        "demand_id": fields.Integer(required=True, allow_none=True),
        "match_count": fields.Integer(required=True, allow_none=True),
        "index_version": fields.Integer(required=True, allow_none=True),
    },
    name="MatchRun",
)
IndexBuildSchema = Schema.from_dict(
    {
        **_JOB,
        "version": computed(lambda b: b.id, {"type": "integer"}),  # the index version it makes
        "doc_count": fields.Integer(required=True, allow_none=True),
        "vocab_size": fields.Integer(required=True, allow_none=True),
    },
    name="IndexBuild",
)


def _patent(m: Match) -> dict[str, Any]:
    p = m.patent
    w = p.transfer_willingness
    return {
        "id": p.id,
        "application_no": p.application_no,
        "title": p.title,
        "institution": p.institution.name,
        "college": p.college.name if p.college else None,
        "inventors": p.inventors,
        "value_grade": p.value_grade,
        "trl": p.trl,
        "transfer_willingness": w.value if w else None,
        "transfer_willingness_label": w.label if w else None,
    }


_PATENT_JSON = {
    "type": "object",
    "required": ["id", "application_no", "title", "institution"],
    "properties": {
        "id": {"type": "integer"},
        "application_no": STR,
        "title": STR,
        "institution": STR,
        "college": {**STR, "nullable": True},
        "inventors": {**STR, "nullable": True},
        "value_grade": {"type": "integer", "nullable": True},
        "trl": {"type": "integer", "nullable": True},
        "transfer_willingness": {"type": "string", "nullable": True},
        "transfer_willingness_label": {**STR, "nullable": True},
    },
}
# Members only staff see (the features at proposal time and the model that assessed them).
STAFF_KEYS = (
    "run_id",
    "note",
    "intent_message",
    "intent_at",
    "comment",
    "reason_code",
    "decided_at",
    "chars",
    "coverage",
    "demand_mass",
    "model_version",
)


class MatchSchema(
    # Lenient: no additionalProperties=false, as the review queue extends a match (allOf).
    Lenient.from_dict(
        {
            "id": fields.Integer(required=True),
            "demand_id": fields.Integer(required=True),
            "patent": computed(_patent, _PATENT_JSON),
            "score": fields.Float(required=True),
            "rank": fields.Integer(required=True, allow_none=True),
            # Match strength: P(relevant) and its tier (强/中/弱) when proposed; null on rows
            # from before strength. ``need``: the sub-need it answers (index into the demand's
            # reading); ``reasons``: spans both texts share (what people are shown).
            "strength": fields.Float(required=True, allow_none=True),
            "need": fields.Integer(required=True),
            "reasons": computed(lambda m: list(m.reasons or []), {"type": "array", "items": STR}),
            # The index's top contributing terms (fragments; kept for API clients).
            "terms": fields.Raw(
                required=True,
                allow_none=True,
                metadata={"json_schema": TERMS_JSON},
            ),
            "trl_below_expectation": fields.Boolean(required=True, allow_none=True),
            "index_version": fields.Integer(required=True, allow_none=True),
            "version": fields.Integer(required=True),
            "has_intent": computed(lambda m: m.intent_at is not None, {"type": "boolean"}),
            **enum_fields("state", MatchState),
            **enum_fields("tier", MatchTier, nullable=True),
            # who brought the pair: the engine, an enterprise's intent (申请对接), an officer
            **enum_fields("source", MatchSource),
            "run_id": fields.Integer(allow_none=True),
            "note": fields.String(allow_none=True),
            "intent_message": fields.String(allow_none=True),
            "intent_at": IsoDateTime(),
            "comment": fields.String(allow_none=True),
            "reason_code": fields.String(allow_none=True),
            "decided_at": IsoDateTime(),
            "chars": fields.Float(allow_none=True),
            "coverage": fields.Float(allow_none=True),
            "demand_mass": fields.Float(allow_none=True),
            "model_version": fields.String(allow_none=True),
        },
        name="MatchBase",
    )
):
    """A match; the STAFF_KEYS members only for staff callers."""

    @post_dump
    def _staff_only(self, data, **kwargs):
        if not permissions.is_staff(current_user):
            for key in STAFF_KEYS:
                data.pop(key, None)
        if current_user.role == Role.ENTERPRISE and isinstance(data.get("patent"), dict):
            # the university's self-rating is private (inventory.public.PRIVATE_FIELDS): it
            # would anchor the enterprise's own evaluation (a security review found it here)
            data["patent"].pop("value_grade", None)
        return data


def run_json(run: MatchRun) -> dict[str, Any]:
    return MatchRunSchema().dump(run)


def match_json(m: Match, *, staff: bool) -> dict[str, Any]:
    """A match as the API answers it (``staff``: the caller is staff; the schema checks)."""
    return MatchSchema().dump(m)


Reading = Schema.from_dict(
    {
        "needs": computed(
            lambda dp: [
                {"index": i, "label": n.get("label", "")}
                for i, n in enumerate(dp.reading.needs or [])
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
        "removed": computed(
            lambda dp: list(dp.reading.removed or []), {"type": "array", "items": STR}
        ),
        "is_thin": computed(lambda dp: dp.reading.is_thin, {"type": "boolean"}),
        "is_abstaining": computed(lambda dp: dp.abstains, {"type": "boolean"}),
        "best_strength": computed(
            lambda dp: dp.reading.best_strength, {"type": "number"}, nullable=True
        ),
        "bar": fields.Float(required=True),
        "strong": fields.Float(required=True),
        "demand_version": computed(
            lambda dp: dp.reading.demand_version, {"type": "integer"}, nullable=True
        ),
        "matched_at": computed(
            lambda dp: dp.reading.updated_at.isoformat() if dp.reading.updated_at else None,
            {"type": "string", "format": "date-time"},
            nullable=True,
        ),
    },
    name="DemandReading",
)
DemandMatches = Schema.from_dict(
    {
        "demand_id": fields.Integer(required=True),
        "items": fields.List(fields.Nested(MatchSchema), required=True),
        "latest_run": fields.Nested(MatchRunSchema, required=True, allow_none=True),
        # staff only: how matching read the demand (null before it was read)
        "reading": fields.Nested(Reading, allow_none=True),
    },
    name="DemandMatches",
)


class DecisionBody(Lenient):
    BODY_OPTIONAL = True  # the service names a missing decision, after the scope check

    decision = LaterStr(required=True, metadata={"json_schema": {"enum": ["accepted", "rejected"]}})
    reason_code = Str(allow_none=True, metadata={"json_schema": {"enum": list(REJECT_REASONS)}})
    comment = Str(allow_none=True, metadata={"json_schema": {"maxLength": 2000}})
    version = Int(
        allow_none=True, metadata={"description": "GET 得到的 version；不一致时 409 conflict"}
    )


_QUEUE_ERRORS = {"x-errors": [401, 403, 409, 503]}

# ---------------------------------------------------------------------------- routes


@bp.get("/demands/<int:demand_id>/matches")
@login_required
@bp.response(200, DemandMatches)
@bp.doc(
    summary="需求的匹配结果（技术经理人：全部；企业：仅已推送的）",
    description=(
        "技术经理人和平台管理员：这条需求的全部匹配（待审核、已采纳、已否决，含较弱候选），"
        "以及系统如何理解这条需求（reading）。"
        "发布需求的企业：只返回技术经理人审核后已采纳并推送给企业的匹配（state=accepted），"
        "没有推送时 items 为空数组；需求页上“机器推荐的专利”（尚未经技术经理人审核的机器候选）"
        "以及审核中、未采纳的数量不在这里，请用 GET /api/v1/demands/{demand_id}/overview。"
    ),
    tags=[TAG],
)
def demand_matches(demand_id: int):
    """Matches of a demand. Staff: all, and how the demand was read; the owning enterprise:
    accepted (pushed) ones only — the machine's suggestions its demand page lists are in
    GET /demands/{id}/overview (revive/api/pool.py), as documented."""
    demand = permissions.get_demand_for_matches(current_user, demand_id)
    proposals = queries.proposals_for_demand(current_user, demand)
    out: dict[str, Any] = {
        "demand_id": demand.id,
        "items": proposals.matches,
        "latest_run": queries.latest_run_for_demand(demand.id),
    }
    if permissions.is_staff(current_user):
        out["reading"] = proposals if proposals.reading is not None else None
    return out


@bp.post("/demands/<int:demand_id>/match-runs")
@roles_required(*STAFF_ROLES)
@bp.response(202, MatchRunSchema)
@bp.doc(summary="立即重新匹配一条需求", tags=[TAG], **_QUEUE_ERRORS)
def create_match_run(demand_id: int):
    """Re-match one demand now; the (possibly coalesced) queued run."""
    return jobs.request_match_run(RunScope.DEMAND, demand_id, actor=current_user)


@bp.get("/match-runs/<int:run_id>")
@login_required
@bp.response(200, MatchRunSchema)
@bp.doc(summary="匹配任务进度", tags=[TAG])
def match_run(run_id: int):
    """A run's progress (staff, or the demand's enterprise)."""
    return queries.get_run_for(current_user, run_id)


@bp.post("/index-builds")
@roles_required(*STAFF_ROLES)
@bp.response(202, IndexBuildSchema)
@bp.doc(summary="重建索引", tags=[TAG], **_QUEUE_ERRORS)
def create_index_build():
    """Rebuild the index; the queued build."""
    return jobs.request_index_build(actor=current_user)


@bp.get("/index-builds/<int:build_id>")
@roles_required(*STAFF_ROLES)
@bp.response(200, IndexBuildSchema)
@bp.doc(summary="索引构建进度", tags=[TAG])
def index_build(build_id: int):
    """A build's progress."""
    return queries.get_build_for(current_user, build_id)


@bp.post("/matches/<int:match_id>/decision")
@roles_required(*STAFF_ROLES)
@bp.arguments(DecisionBody, example={"decision": "accepted"})
@bp.response(200, MatchSchema)
@bp.doc(summary="采纳或否决一条候选匹配", tags=[TAG])
def decide_match(data: dict[str, Any], match_id: int):
    """Accept or reject a candidate (on accept, comment is the note pushed with the deal);
    409 when already decided or stale."""
    return review_services.decide(
        match_id,
        data.get("decision") or "",
        current_user,
        reason_code=data.get("reason_code"),
        comment=data.get("comment"),
        expected_version=data.get("version"),
    )
