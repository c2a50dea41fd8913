"""JSON API: 供需对接 — deals, stage changes, university responses, contracts.

Scope and roles are those of the pages (revive.deals.permissions, revive.deals.workflow): a deal
outside the caller's scope is a 404, a refused action a 403, a stale ``version`` a 409
``conflict``. The contract of each route is its schemas below (flask-smorest,
revive/api/schema.py). Stage, response and contract values are checked by the services (their
Chinese messages, every contract field at once); the schemas check JSON types and document them.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user, login_required
from marshmallow import fields

from revive.accounts.permissions import roles_required
from revive.api.blueprint import bp
from revive.api.common import requested_per_page
from revive.api.schema import (
    DECIMAL_STR,
    ID_ARG,
    ORG,
    PAGING,
    EnumValue,
    IsoDateTime,
    LaterRaw,
    LaterStr,
    Lenient,
    NestedOf,
    Query,
    Schema,
    Str,
    computed,
    enum_fields,
    enum_of,
    page_schema,
    paged,
    q,
    ref_of,
    version_field,
)
from revive.deals import permissions, queries, services, workflow
from revive.deals.models import ContractKind, LicenseScope, Stage, UniversityResponse
from revive.deals.permissions import CONTRACT_ROLES, RESPOND_ROLES, STAGE_ROLES
from revive.deals.reasons import failure_label
from revive.deals.workflow import OPEN_STAGES
from revive.demands.privacy import shown_intent

TAG = "供需对接"

# ---------------------------------------------------------------------------- answers

Contract = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        # traceability: contract → deal → demand + patent
        "deal_id": fields.Integer(required=True),
        "demand_id": computed(lambda c: c.deal.demand_id, {"type": "integer"}),
        "patent_id": computed(lambda c: c.deal.patent_id, {"type": "integer"}),
        **enum_fields("kind", ContractKind),
        # a 许可 contract's 普通 / 排他 / 独占 and the last day of its term (null otherwise)
        **enum_fields("license_scope", LicenseScope, nullable=True),
        "license_until": IsoDateTime("date", required=True, allow_none=True),
        "amount_wan": computed(lambda c: str(c.amount_wan), DECIMAL_STR),
        "signed_on": IsoDateTime("date", required=True),
        "record_no": fields.String(required=True, allow_none=True),
        "parties": fields.String(required=True, allow_none=True),
        "version": fields.Integer(required=True),
    },
    name="Contract",
)

DealEvent = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        "kind": fields.String(required=True),
        "from_stage": EnumValue(Stage, required=True, allow_none=True),
        "to_stage": EnumValue(Stage, required=True),
        "to_stage_label": computed(lambda e: e.to_stage.label, {"type": "string"}),
        "actor": computed(lambda e: ref_of(e.actor), ORG, nullable=True),
        "comment": fields.String(required=True, allow_none=True),
        "created_at": IsoDateTime(required=True),
    },
    name="DealEvent",
)

_DEAL: dict[str, fields.Field] = {
    "id": fields.Integer(required=True),
    "match_id": fields.Integer(required=True, allow_none=True),
    "demand": computed(
        lambda d: {"id": d.demand_id, "title": d.demand.title},
        {
            "type": "object",
            "required": ["id", "title"],
            "properties": {"id": {"type": "integer"}, "title": {"type": "string"}},
        },
    ),
    "patent": computed(
        lambda d: {
            "id": d.patent_id,
            "title": d.patent.title,
            "application_no": d.patent.application_no,
        },
        {
            "type": "object",
            "required": ["id", "title", "application_no"],
            "properties": {
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "application_no": {"type": "string"},
            },
        },
    ),
    "university": computed(lambda d: ref_of(d.university), ORG),
    "enterprise": computed(lambda d: ref_of(d.enterprise), ORG),
    "officer": computed(lambda d: ref_of(d.officer), ORG, nullable=True),
    # the officer's recommendation note sent with the push (推荐说明), and the enterprise's own
    # request when the pair came from an intent (申请对接)
    "note": fields.String(required=True, allow_none=True),
    # … its contact details hidden from those who may not see the demand's (demands.privacy)
    "intent_message": computed(
        lambda d: shown_intent(current_user, d.demand, d.match.intent_message if d.match else None),
        {"type": "string"},
        nullable=True,
    ),
    **enum_fields("stage", Stage),
    "stage_changed_at": IsoDateTime(required=True),
    # days in an open stage; null once signed or failed (the stage no longer runs)
    "days_in_stage": computed(
        lambda d: queries.days_in_stage(d) if d.stage in OPEN_STAGES else None,
        {"type": "integer"},
        nullable=True,
    ),
    "pushed_at": IsoDateTime(required=True),
    "response_due_at": IsoDateTime(required=True),
    "overdue": computed(queries.is_overdue, {"type": "boolean"}),
    **enum_fields("response", UniversityResponse, nullable=True),
    "response_comment": fields.String(required=True, allow_none=True),
    "responded_at": IsoDateTime(required=True),
    "failure_reason": fields.String(required=True, allow_none=True),
    "failure_reason_label": computed(
        lambda d: failure_label(d.failure_reason) if d.failure_reason else None,
        {"type": "string"},
        nullable=True,
    ),
    "failure_comment": fields.String(required=True, allow_none=True),
    "contract": fields.Nested(Contract, required=True, allow_none=True),
    "version": fields.Integer(required=True),
}
Deal = Schema.from_dict(_DEAL, name="Deal")
DealDetail = Schema.from_dict(
    {
        **_DEAL,
        "events": NestedOf(queries.events_of, DealEvent, many=True),
    },
    name="DealDetail",
)
DealPage = page_schema("DealPage", Deal)

# ---------------------------------------------------------------------------- requests

DealQuery = Query.from_dict(
    {
        "university": q(ID_ARG, "高校（组织 id）"),
        "enterprise": q(ID_ARG),
        "officer": q(ID_ARG),
        "stage": q(enum_of(Stage)),
        "overdue": q({"type": "string", "enum": ["1"]}),
        **PAGING,
    },
    name="DealQuery",
)
COMMENT = {"allow_none": True, "metadata": {"json_schema": {"maxLength": 2000}}}


class StageBody(Lenient):
    action = Str(metadata={"json_schema": {"enum": list(workflow.ACTIONS)}})
    to = Str(metadata={"json_schema": enum_of(Stage)})
    reason = Str(allow_none=True, metadata={"description": "失败原因代码（fail 时必填）"})
    comment = Str(**COMMENT)
    contract = fields.Dict(
        allow_none=True,
        error_messages={"invalid": "须为对象"},
        metadata={"description": "签约（sign）时的合同信息，同登记合同"},
    )
    version = version_field()


class ResponseBody(Lenient):
    response = LaterStr(required=True, metadata={"json_schema": enum_of(UniversityResponse)})
    comment = Str(**COMMENT)
    version = version_field()


def _member(schema: dict[str, Any], *, required: bool = False) -> fields.Field:
    """A contract member: checked with the others by services.record_contract, after the
    scope check (every wrong or missing one named at once, in its messages)."""
    schema = {"nullable": False, **schema}  # null is let through, to the service's message
    return LaterRaw(required=required, allow_none=True, metadata={"json_schema": schema})


class ContractBody(Lenient):
    kind = _member(enum_of(ContractKind), required=True)
    amount_wan = _member({"oneOf": [{"type": "number", "minimum": 0}, DECIMAL_STR]}, required=True)
    signed_on = _member({"type": "string", "format": "date"}, required=True)
    record_no = _member({"type": "string", "maxLength": 100, "nullable": True})
    parties = _member({"type": "string", "maxLength": 500}, required=True)
    license_scope = _member(
        {
            **enum_of(LicenseScope),
            "nullable": True,
            "description": "许可合同必填：ordinary 普通许可、sole 排他许可、exclusive 独占许可",
        }
    )
    license_until = _member(
        {
            "type": "string",
            "format": "date",
            "nullable": True,
            "description": "许可期限的最后一天；排他、独占许可必填",
        }
    )
    comment = _member({"type": "string", "maxLength": 2000, "nullable": True})
    confirm_amount = _member(
        {"type": "boolean", "description": "金额达到 10,000 万元（1 亿元）及以上时须为 true"}
    )
    confirm_free = _member(
        {
            "type": "boolean",
            "description": "转让、许可、作价入股金额为 0（无偿）时须为 true",
        }
    )
    version = version_field()


# ---------------------------------------------------------------------------- routes


@bp.get("/deals")
@login_required
@bp.arguments(DealQuery, location="query", as_kwargs=True)
@bp.response(200, DealPage)
@bp.doc(summary="可见的对接列表", tags=[TAG])
def list_deals(**_query):
    """Deals the caller may see, most recently changed first."""
    filters = queries.parse_filters(request.args)
    return paged(queries.list_page(current_user, filters, requested_per_page()))


@bp.get("/deals/<int:deal_id>")
@login_required
@bp.response(200, DealDetail)
@bp.doc(summary="一次对接（含阶段记录、合同）", tags=[TAG])
def get_deal(deal_id: int):
    """One deal with its stage history (events) and contract."""
    return permissions.get_visible_deal(current_user, deal_id)


@bp.post("/deals/<int:deal_id>/stage")
@roles_required(*STAGE_ROLES)
@bp.arguments(StageBody, example={"action": "contact"})
@bp.response(200, DealDetail)
@bp.doc(
    summary="推进对接阶段",
    tags=[TAG],
    description=(
        "contact（已接洽）、negotiate（洽谈中）由双方或技术经理人登记：企业和高校一方须在高校"
        "答复「愿意对接」之后（未答复或答复「暂不对接」时为 409）；sign（签约，须带合同）、"
        "fail（未成交，须带原因）和 reopen 仅限技术经理人和平台管理员。"
    ),
)
def change_deal_stage(data: dict[str, Any], deal_id: int):
    """Move a deal (action, or ``to`` a stage); fail needs a reason, sign a contract."""
    return services.change_stage(
        deal_id,
        data.get("action") or "",
        current_user,
        to=data.get("to"),
        reason=data.get("reason"),
        comment=data.get("comment"),
        contract=data.get("contract"),
        expected_version=data.get("version"),
    )


@bp.post("/deals/<int:deal_id>/response")
@roles_required(*RESPOND_ROLES)
@bp.arguments(ResponseBody, example={"response": "interested", "comment": "愿意洽谈"})
@bp.response(200, DealDetail)
@bp.doc(summary="高校答复", tags=[TAG])
def respond_deal(data: dict[str, Any], deal_id: int):
    """The university's answer."""
    return services.respond(
        deal_id,
        data.get("response") or "",
        current_user,
        comment=data.get("comment"),
        expected_version=data.get("version"),
    )


@bp.post("/deals/<int:deal_id>/contract")
@roles_required(*CONTRACT_ROLES)
@bp.arguments(ContractBody)
@bp.response(201, Contract)
@bp.alt_response(200, schema=Contract, description="更正已登记的合同", success=True)
@bp.doc(summary="登记合同（签约或更正）", tags=[TAG])
def record_deal_contract(data: dict[str, Any], deal_id: int):
    """Record the contract: signs a deal in 洽谈中 (201), or corrects a signed deal's (200)."""
    had_contract = permissions.get_visible_deal(current_user, deal_id).contract is not None
    version = data.pop("version", None)
    contract = services.record_contract(deal_id, data, current_user, expected_version=version)
    return contract, (200 if had_contract else 201)
