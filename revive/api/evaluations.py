"""JSON API: 市场评价 and 分层推广. Same services and rules as the pages (revive.evaluations);
errors are ``{"error", "message"}``; writes need the ``X-CSRFToken`` header like every API write.

GET  /api/v1/evaluations/patents/<id>          a patent's evaluations (as the viewer may see them)
POST /api/v1/evaluations/patents/<id>          evaluate (enterprise): create or update
POST /api/v1/evaluations/patents/<id>/invites  invite an enterprise
GET  /api/v1/evaluations/todo                  the enterprise's patents to evaluate
GET  /api/v1/evaluations/calibration           self-rating vs. enterprise rating
GET  /api/v1/evaluations/promotion             promotion list (tiers A/B by default)

The contract of each route is its schemas below (flask-smorest, revive/api/schema.py). The
answers (stars, intent, improvement needs) and the invited enterprise are checked by the
services, with the messages the pages show; the schemas check JSON types and document them.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user, login_required
from marshmallow import fields, post_dump

from revive.accounts.permissions import roles_required
from revive.api.blueprint import bp
from revive.api.common import requested_page, requested_per_page
from revive.api.schema import (
    ID_ARG,
    PAGING,
    Int,
    IsoDateTime,
    LaterRaw,
    Lenient,
    Query,
    Schema,
    Str,
    computed,
    enum_fields,
    enum_of,
    page_schema,
    paged,
    q,
    version_field,
)
from revive.dashboard.funnel import rate_dict
from revive.evaluations import permissions, queries, services
from revive.evaluations.models import CooperationIntent
from revive.evaluations.permissions import (
    CALIBRATION_ROLES,
    EVALUATOR_ROLES,
    INVITER_ROLES,
    PROMOTION_ROLES,
)
from revive.evaluations.services import IMPROVEMENT_MAX
from revive.evaluations.tiers import Tier, TierResult
from revive.inventory.models import EntryStatus, Willingness
from revive.web import int_arg

TAG = "市场评价"

INT: dict[str, Any] = {"type": "integer"}
NUM: dict[str, Any] = {"type": "number"}
STR: dict[str, Any] = {"type": "string"}
BOOL: dict[str, Any] = {"type": "boolean"}
RATE: dict[str, Any] = {
    "type": "object",
    "required": ["numerator", "denominator", "value", "display"],
    "properties": {
        "numerator": INT,
        "denominator": INT,
        "value": {"type": "number", "nullable": True},
        "display": STR,
    },
}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


class Rounded(fields.Field):
    """A mean as a number rounded to 2 places (null when there is nothing to average)."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("required", True)
        schema = {"type": "number", "nullable": True}
        super().__init__(dump_only=True, metadata={"json_schema": schema}, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return _round(value)


def _obj(props: dict[str, Any], *, nullable: bool = False) -> dict[str, Any]:
    out = {"type": "object", "required": list(props), "properties": props}
    return {**out, "nullable": True} if nullable else out


# ---------------------------------------------------------------------------- answers

EvaluationSchema = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        "patent_id": fields.Integer(required=True),
        "enterprise_id": fields.Integer(required=True),
        "prospect_stars": fields.Integer(required=True),
        **enum_fields("intent", CooperationIntent),
        "improvement_needs": fields.String(required=True, allow_none=True),
        "version": fields.Integer(required=True),
        "created_at": IsoDateTime(required=True),
        "updated_at": IsoDateTime(required=True),
    },
    name="Evaluation",
)

# One evaluation as the viewer may see it (queries.EvaluationView): the enterprise's name,
# 本企业, or 企业A… (then no enterprise_id).
PanelEvaluation = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        "enterprise": fields.String(attribute="label", required=True),
        "enterprise_id": fields.Integer(required=True, allow_none=True),
        "is_own": fields.Boolean(required=True),
        "prospect_stars": fields.Integer(required=True),
        **enum_fields("intent", CooperationIntent),
        "improvement_needs": fields.String(required=True, allow_none=True),
        "updated_at": IsoDateTime(required=True),
    },
    name="PanelEvaluation",
)
PanelInvite = Schema.from_dict(
    {
        "enterprise_id": fields.Integer(required=True),
        "enterprise": fields.String(attribute="enterprise_name", required=True),
        "invited_at": IsoDateTime(required=True),
        "invited_by": fields.String(required=True, allow_none=True),
        "evaluated": fields.Boolean(required=True),
    },
    name="PanelInvite",
)

SUMMARY = _obj(
    {
        "count": INT,
        "avg_stars": {**NUM, "nullable": True},
        "max_stars": {**INT, "nullable": True},
        "interested": INT,
    }
)
SELF_ASSESSMENT = _obj(
    {
        "value_grade": {**INT, "nullable": True},
        "trl": {**INT, "nullable": True},
        "transfer_willingness": {**enum_of(Willingness), "nullable": True},
    }
)
TIER = _obj(
    {"tier": enum_of(Tier), "label": STR, "reasons": {"type": "array", "items": STR}},
    nullable=True,
)


def _tier(result: TierResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {"tier": result.tier.value, "label": result.tier.label, "reasons": list(result.reasons)}


def _optional(func: Any, json_schema: dict[str, Any]) -> fields.Field:
    """A member present only for some viewers (EvaluationPanel._for_the_viewer)."""
    return fields.Function(func, metadata={"json_schema": json_schema})


class EvaluationPanel(
    Schema.from_dict(
        {
            "patent_id": computed(lambda p: p.patent.id, INT),
            "status": computed(lambda p: p.patent.status.value, enum_of(EntryStatus)),
            "names_visible": fields.Boolean(attribute="sees_names", required=True),
            "evaluations": fields.List(fields.Nested(PanelEvaluation), required=True),
            "own": fields.Nested(EvaluationSchema, required=True, allow_none=True),
            "summary": _optional(
                lambda p: {
                    "count": p.count,
                    "avg_stars": _round(p.avg),
                    "max_stars": p.max_stars,
                    "interested": p.interested,
                },
                SUMMARY,
            ),
            "self_assessment": _optional(
                lambda p: {
                    "value_grade": p.patent.value_grade,
                    "trl": p.patent.trl,
                    "transfer_willingness": (
                        p.patent.transfer_willingness.value
                        if p.patent.transfer_willingness
                        else None
                    ),
                },
                SELF_ASSESSMENT,
            ),
            "double_five": _optional(lambda p: p.double_five, BOOL),
            "tier": _optional(lambda p: _tier(p.tier), TIER),
            "invites": fields.List(fields.Nested(PanelInvite)),
        },
        name="EvaluationPanelBase",
    )
):
    """A patent's evaluations (queries.PatentEvaluations). summary: not for an enterprise that
    has not evaluated yet; self_assessment, double_five, tier: only for readers who see the
    enterprises' names (not enterprises); invites: only for those who may invite."""

    @post_dump(pass_original=True)
    def _for_the_viewer(self, data, panel, **kwargs):
        hidden = set()
        if not panel.show_summary:
            hidden.add("summary")
        if not panel.sees_names:  # the self-assessment and tier are not shown to enterprises
            hidden |= {"self_assessment", "double_five", "tier"}
        if panel.invites is None:
            hidden.add("invites")
        for key in hidden:
            data.pop(key, None)
        return data


Invitation = Schema.from_dict(
    {
        "id": fields.Integer(attribute="invite.id", required=True),
        "patent_id": fields.Integer(attribute="invite.patent_id", required=True),
        "enterprise_id": fields.Integer(attribute="invite.enterprise_id", required=True),
        "enterprise": fields.String(attribute="invite.enterprise.name", required=True),
        "created": fields.Boolean(required=True),
        "invited_at": IsoDateTime(attribute="invite.created_at", required=True),
    },
    name="EvaluationInvitation",
)

TodoItem = Schema.from_dict(
    {
        "patent_id": fields.Integer(required=True),
        "application_no": fields.String(required=True),
        "title": fields.String(required=True),
        "institution": fields.String(required=True),
        "tech_field": fields.String(required=True, allow_none=True),
        "trl": fields.Integer(required=True, allow_none=True),
        "matched": fields.Boolean(required=True),
        "invited": fields.Boolean(required=True),
        "prospect_stars": fields.Integer(attribute="stars", required=True, allow_none=True),
        "intent": computed(
            lambda r: r.intent.value if r.intent else None,
            enum_of(CooperationIntent),
            nullable=True,
        ),
        "evaluated_at": IsoDateTime(required=True),
        "version": fields.Integer(required=True, allow_none=True),
    },
    name="TodoItem",
)
TodoPage = page_schema("TodoPage", TodoItem)

CalibrationGrade = Schema.from_dict(
    {
        "self_grade": fields.Integer(attribute="grade", required=True, allow_none=True),
        "entered": fields.Integer(required=True),
        "evaluated": fields.Integer(required=True),
        "evaluations": fields.Integer(required=True),
        "mean_enterprise": Rounded(),
    },
    name="CalibrationGrade",
)
CalibrationUniversity = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        "name": fields.String(required=True),
        "evaluated": fields.Integer(required=True),
        "share_confirmed": computed(lambda u: rate_dict(u.confirmed, u.high_self), RATE),
        "mean_self": Rounded(),
        "mean_enterprise": Rounded(),
    },
    name="CalibrationUniversity",
)
CalibrationPatent = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        "application_no": fields.String(required=True),
        "title": fields.String(required=True),
        "institution": fields.String(required=True),
        "college": fields.String(required=True, allow_none=True),
        "self_grade": fields.Integer(required=True, allow_none=True),
        "enterprise_avg": Rounded(),
        "evaluations": fields.Integer(required=True),
        "gap": Rounded(),
    },
    name="CalibrationPatent",
)


def _summary(func: Any, json_schema: dict[str, Any], *, nullable: bool = False) -> fields.Field:
    """A member computed from the scope's figures (queries.Calibration)."""
    return computed(lambda d: func(d["summary"]), json_schema, nullable=nullable)


CalibrationSchema = Schema.from_dict(
    {
        "scope": fields.String(attribute="summary.scope_label", required=True),
        "institution_id": fields.Integer(
            attribute="summary.institution_id", required=True, allow_none=True
        ),
        "good_threshold": computed(lambda _: queries.GOOD, INT),
        "entered": fields.Integer(attribute="summary.entered", required=True),
        "evaluated": fields.Integer(attribute="summary.evaluated", required=True),
        "evaluations": fields.Integer(attribute="summary.evaluations", required=True),
        "coverage": _summary(lambda s: rate_dict(s.evaluated, s.entered), RATE),
        "mean_self": Rounded(attribute="summary.mean_self"),
        "mean_enterprise": Rounded(attribute="summary.mean_enterprise"),
        "share_confirmed": _summary(lambda s: rate_dict(s.confirmed, s.high_self), RATE),
        "by_grade": fields.List(
            fields.Nested(CalibrationGrade), attribute="summary.grades", required=True
        ),
        "universities": fields.List(
            fields.Nested(CalibrationUniversity), attribute="summary.universities", required=True
        ),
        "patents": fields.Nested(page_schema("CalibrationPatentPage", CalibrationPatent)),
    },
    name="Calibration",
)


def _row(key: str, field: type[fields.Field] = fields.String, **kwargs: Any) -> fields.Field:
    """A column of the promotion row (queries.PromotionRow.row)."""
    return field(attribute=f"row.{key}", required=True, **kwargs)


PromotionItem = Schema.from_dict(
    {
        "patent_id": _row("id", fields.Integer),
        "application_no": _row("application_no"),
        "title": _row("title"),
        "institution": _row("institution"),
        "college": _row("college", allow_none=True),
        "group": _row("group"),
        "industry_code": _row("industry_code", allow_none=True),
        "tech_field": _row("tech_field", allow_none=True),
        **enum_fields("tier", Tier),
        "reasons": computed(lambda r: list(r.result.reasons), {"type": "array", "items": STR}),
        "value_grade": _row("value_grade", fields.Integer, allow_none=True),
        "trl": _row("trl", fields.Integer, allow_none=True),
        "evaluation_count": fields.Integer(attribute="n", required=True),
        "avg_stars": Rounded(attribute="avg"),
        "interested": computed(lambda r: int(r.row["interested"] or 0), INT),
        "double_five": fields.Boolean(required=True),
    },
    name="PromotionItem",
)
GROUPINGS = {"type": "string", "enum": list(queries.GROUPINGS)}


class PromotionList(page_schema("PromotionPage", PromotionItem)):
    """The promotion list: the grouping and tiers it was drawn with, a page of patents."""

    by = fields.String(required=True, metadata={"json_schema": GROUPINGS})
    tiers = fields.Function(
        lambda d: [t.value for t in d["tiers"]],
        required=True,
        metadata={"json_schema": {"type": "array", "items": enum_of(Tier)}},
    )


# ---------------------------------------------------------------------------- requests


class EvaluateBody(Lenient):
    # Stars and intent: services.parse_input, after the patent is found in the caller's scope
    # (its messages, as on the form; "4" and the intent's Chinese label are taken too).
    prospect_stars = LaterRaw(
        required=True, metadata={"json_schema": {"type": "integer", "minimum": 1, "maximum": 5}}
    )
    intent = LaterRaw(
        required=True,
        metadata={
            "json_schema": {
                "type": "string",
                "description": "值或中文标签："
                + "、".join(f"{m.value}（{m.label}）" for m in CooperationIntent),
            }
        },
    )
    improvement_needs = Str(
        allow_none=True, metadata={"json_schema": {"maxLength": IMPROVEMENT_MAX}}
    )
    version = version_field()


class InviteBody(Lenient):
    # Which enterprise (by id, or an exact / unique partial name): services.invite_enterprise.
    enterprise_id = Int(allow_none=True, metadata={"json_schema": ID_ARG})
    enterprise_name = Str(allow_none=True, metadata={"json_schema": {"maxLength": 200}})


TodoQuery = Query.from_dict(
    {"state": q({"type": "string", "enum": list(queries.TODO_STATES)}), **PAGING},
    name="TodoQuery",
)
CalibrationQuery = Query.from_dict(
    {"institution": q(ID_ARG), **PAGING},
    name="CalibrationQuery",
)
PromotionQuery = Query.from_dict(
    {
        "by": q(GROUPINGS),
        "group": q(STR),
        "institution": q(ID_ARG),
        "tier": q({"type": "string", "pattern": "^[ABCD](,[ABCD])*$"}, "A、B、C、D 或逗号列表"),
        **PAGING,
    },
    name="PromotionQuery",
)

# ---------------------------------------------------------------------------- routes


@bp.get("/evaluations/patents/<int:patent_id>")
@login_required
@bp.response(200, EvaluationPanel)
@bp.doc(summary="专利的企业评价", tags=[TAG])
def patent_evaluations(patent_id: int):
    """A patent's evaluations. Staff, regulator and the patent's university: every evaluation
    with the enterprise's name, the self-assessment, 双五星 and the tier; an enterprise that was
    matched or invited: its own evaluation, and the others anonymised (企业A…) once it has
    evaluated. Others: 404."""
    patent = permissions.get_patent_for_evaluations(current_user, patent_id)
    return queries.patent_evaluations(current_user, patent)


@bp.post("/evaluations/patents/<int:patent_id>")
@roles_required(*EVALUATOR_ROLES)
@bp.arguments(EvaluateBody, example={"prospect_stars": 4, "intent": "license"})
@bp.response(201, EvaluationSchema)
@bp.alt_response(200, schema=EvaluationSchema, description="修改已有的评价", success=True)
@bp.doc(summary="企业评价（新建或修改）", tags=[TAG])
def evaluate(data: dict[str, Any], patent_id: int):
    """Evaluate (enterprise): 201 with the evaluation when created, 200 when updated; 404
    unrelated patent, 409 not entered or stale version, 422."""
    evaluation, created = services.evaluate_patent(
        patent_id,
        actor=current_user,
        prospect_stars=data.get("prospect_stars"),
        intent=data.get("intent"),
        improvement_needs=data.get("improvement_needs"),
        expected_version=data.get("version"),
    )
    return evaluation, 201 if created else 200


@bp.post("/evaluations/patents/<int:patent_id>/invites")
@roles_required(*INVITER_ROLES)
@bp.arguments(InviteBody)
@bp.response(201, Invitation)
@bp.alt_response(200, schema=Invitation, description="已邀请过（不重复邀请）", success=True)
@bp.doc(summary="邀请企业评价", tags=[TAG])
def invite(data: dict[str, Any], patent_id: int):
    """Invite an enterprise to evaluate an entered patent: 201 created, 200 already invited."""
    invitation, created = services.invite_enterprise(
        patent_id,
        actor=current_user,
        enterprise_id=data.get("enterprise_id"),
        enterprise_name=data.get("enterprise_name"),
    )
    return {"invite": invitation, "created": created}, 201 if created else 200


@bp.get("/evaluations/todo")
@roles_required(*EVALUATOR_ROLES)
@bp.arguments(TodoQuery, location="query", as_kwargs=True)
@bp.response(200, TodoPage)
@bp.doc(summary="企业待评价的专利", tags=[TAG])
def todo(**_query):
    """The enterprise's entered patents to evaluate (an unknown state: all)."""
    state = request.args.get("state", "all")
    state = state if state in queries.TODO_STATES else "all"
    return paged(queries.todo_page(current_user, state, requested_page(), requested_per_page()))


@bp.get("/evaluations/calibration")
@roles_required(*CALIBRATION_ROLES)
@bp.arguments(CalibrationQuery, location="query", as_kwargs=True)
@bp.response(200, CalibrationSchema)
@bp.doc(summary="自评与企业评价对比", tags=[TAG])
def calibration(**_query):
    """Self-rating vs. enterprise rating over entered patents. institution: staff and
    regulator any (default all), others their own; page, per_page: the patent rows."""
    institution = int_arg(request.args.get("institution"))
    summary = queries.calibration(current_user, institution)
    patents = queries.calibration_patents(
        current_user, institution, requested_page(), requested_per_page()
    )
    return {"summary": summary, "patents": paged(patents)}


@bp.get("/evaluations/promotion")
@roles_required(*PROMOTION_ROLES)
@bp.arguments(PromotionQuery, location="query", as_kwargs=True)
@bp.response(200, PromotionList)
@bp.doc(summary="分层推广清单", tags=[TAG])
def promotion(**_query):
    """The promotion list (group: one industry / field value, "未分类" for none; tier: A, B,
    C, D or a comma list, default A,B), ordered by group, tier, enterprise average, count."""
    filters = queries.parse_promotion_filters(request.args)
    page = queries.promotion_page(current_user, filters, requested_per_page())
    return {"by": filters.by, "tiers": filters.tiers, **paged(page)}
