"""Enterprise demand JSON routes: list/detail/post/update/close, new-patent alerts.

The contract of each route is its schemas below (flask-smorest, revive/api/schema.py); request
bodies are built from the demand import template's field table (revive.demands.fields).
Contact fields are present only for readers allowed to see them (the owner enterprise,
officers, the platform admin).
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_login import current_user
from marshmallow import fields, post_dump

from revive.accounts.permissions import roles_required
from revive.api.blueprint import bp
from revive.api.common import refuse_clearing, requested_per_page
from revive.api.schema import (
    PAGING,
    Int,
    IsoDateTime,
    LaterRaw,
    LaterStr,
    Lenient,
    Query,
    Schema,
    enum_fields,
    enum_of,
    page_schema,
    paged,
    q,
    table_schema,
    version_field,
)
from revive.demands import permissions, queries, services
from revive.demands.fields import EDITABLE_KEYS, FIELDS_BY_KEY, display_value, modes_of
from revive.demands.models import Demand, DemandSource, DemandStatus, DemandType, Visibility
from revive.demands.permissions import DEMAND_ROLES, POSTER_ROLES
from revive.demands.privacy import shown_description, shown_specs
from revive.inventory.models import TransferMode

TAG = "企业需求"
CONTACT_KEYS = ("contact_name", "contact_phone", "contact_email")
ORG = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}

# ---------------------------------------------------------------------------- requests

_EDITABLE_ROWS = [FIELDS_BY_KEY[k] for k in EDITABLE_KEYS]
DemandCreate = table_schema(
    "DemandCreate",
    _EDITABLE_ROWS,
    required=True,
    modes_enum=TransferMode,
    extra={
        "enterprise_id": Int(
            minimum=1, allow_none=True, metadata={"description": "所属企业（仅专员、平台管理员）"}
        )
    },
)
DemandUpdate = table_schema(
    "DemandUpdate",
    _EDITABLE_ROWS,
    required=False,
    modes_enum=TransferMode,
    extra={"version": version_field()},
)


class CloseBody(Lenient):
    # Presence, blankness, length: services.close_demand, after the scope check (its messages).
    reason = LaterStr(
        required=True,
        allow_none=True,
        metadata={"json_schema": {"maxLength": services.CLOSE_REASON_MAX, "nullable": False}},
    )
    version = version_field()


class ReopenBody(Lenient):
    # Parsed by services.reopen_demand as the demand's 截止日期 (its messages); left out, the
    # demand keeps its own deadline.
    deadline = LaterRaw(
        allow_none=True,
        metadata={"json_schema": {"type": "string", "format": "date", "nullable": True}},
    )
    version = version_field()


class AlertsBody(Lenient):
    subscribed = LaterRaw(required=True, metadata={"json_schema": {"type": "boolean"}})


DemandQuery = Query.from_dict(
    {
        "status": q(enum_of(DemandStatus)),
        "type": q(enum_of(DemandType)),
        "industry": q({"type": "string"}),
        "region": q({"type": "string"}),
        "q": q({"type": "string", "maxLength": 200}),
        **PAGING,
    },
    name="DemandQuery",
)

# ---------------------------------------------------------------------------- responses


def _modes(d: Demand, attr: str) -> list[str]:
    return [getattr(m, attr) for m in modes_of(d.cooperation_modes)]


_SUMMARY_FIELDS: dict[str, fields.Field] = {
    "id": fields.Integer(required=True),
    "title": fields.String(required=True),
    "enterprise": fields.Function(
        lambda d: {"id": d.enterprise_id, "name": d.enterprise.name},
        required=True,
        metadata={"json_schema": ORG},
    ),
    "industry": fields.String(required=True, allow_none=True),
    "region": fields.String(required=True, allow_none=True),
    "expected_trl": fields.Integer(required=True, allow_none=True),
    "budget": fields.Function(
        lambda d: display_value("budget", d.budget) or None,
        required=True,
        metadata={"json_schema": {"type": "string", "nullable": True}},
    ),
    "deadline": IsoDateTime("date", required=True),
    "version": fields.Integer(required=True),
    "created_at": IsoDateTime(required=True),
    "updated_at": IsoDateTime(required=True),
    **enum_fields("status", DemandStatus),
    **enum_fields("demand_type", DemandType, nullable=True),
    **enum_fields("visibility", Visibility, nullable=True),
    **enum_fields("source", DemandSource, nullable=True),
    "cooperation_modes": fields.Function(
        lambda d: _modes(d, "value"),
        required=True,
        metadata={"json_schema": {"type": "array", "items": enum_of(TransferMode)}},
    ),
    "cooperation_modes_labels": fields.Function(
        lambda d: _modes(d, "label"),
        required=True,
        metadata={"json_schema": {"type": "array", "items": {"type": "string"}}},
    ),
}
DemandSummary = Schema.from_dict(_SUMMARY_FIELDS, name="DemandSummary")
DemandPage = page_schema("DemandPage", DemandSummary)


class DemandDetail(
    Schema.from_dict(
        {
            **_SUMMARY_FIELDS,
            "description": fields.String(required=True, allow_none=True),
            "target_specs": fields.String(required=True, allow_none=True),
            **{key: fields.String(allow_none=True) for key in CONTACT_KEYS},  # allowed readers
            "closed_at": IsoDateTime(required=True),
            "close_reason": fields.String(required=True, allow_none=True),
            "alert_subscribed": fields.Boolean(required=True),
            "can_edit": fields.Function(
                lambda d: permissions.can_edit(current_user, d),
                required=True,
                metadata={"json_schema": {"type": "boolean"}},
            ),
        },
        name="DemandBase",
    )
):
    """A demand as GET shows it; contact_* only for readers allowed to see them."""

    @post_dump(pass_original=True)
    def _contacts_for_allowed_readers(self, data, demand, **kwargs):
        if not permissions.can_see_contact(current_user, demand):
            for key in CONTACT_KEYS:
                data.pop(key, None)
            if data.get("description"):  # contact details pasted into the text, as on the page
                data["description"] = shown_description(current_user, demand)
            if data.get("target_specs"):
                data["target_specs"] = shown_specs(current_user, demand)
        return data


# ---------------------------------------------------------------------------- routes


@bp.get("/demands")
@roles_required(*DEMAND_ROLES)
@bp.arguments(DemandQuery, location="query", as_kwargs=True)
@bp.response(200, DemandPage)
@bp.doc(summary="可见的企业需求列表", tags=[TAG])
def list_demands(**_query):
    """The demands the caller may see, newest first (filters: queries.parse_filters)."""
    filters = queries.parse_filters(request.args)
    return paged(queries.list_page(current_user, filters, requested_per_page()))


@bp.get("/demands/<int:demand_id>")
@roles_required(*DEMAND_ROLES)
@bp.response(200, DemandDetail)
@bp.doc(summary="一条需求", tags=[TAG])
def get_demand(demand_id: int):
    """One demand; 404 outside the caller's view."""
    return services.get_demand_for(current_user, demand_id)


@bp.post("/demands")
@roles_required(*POSTER_ROLES)
@bp.arguments(
    DemandCreate,
    example={"title": "寻找锂电池正极材料技术", "description": "希望提高能量密度和循环寿命。"},
)
@bp.response(201, DemandDetail)
@bp.doc(summary="发布需求", tags=[TAG])
def post_demand(data: dict[str, Any]):
    """Post a demand; officers and the platform admin name the enterprise."""
    enterprise_id = data.pop("enterprise_id", None)
    demand = services.post_demand(data, actor=current_user, enterprise_id=enterprise_id)
    return demand, 201, {"Location": url_for("api.get_demand", demand_id=demand.id)}


@bp.post("/demands/<int:demand_id>/alerts")
@roles_required(*POSTER_ROLES)
@bp.arguments(AlertsBody, example={"subscribed": False})
@bp.response(200, DemandDetail)
@bp.doc(summary="订阅或取消新专利提醒", tags=[TAG])
def set_demand_alerts(data: dict[str, Any], demand_id: int):
    """订阅新专利提醒 on or off; 409 when closed."""
    return services.set_alerts(demand_id, data.get("subscribed"), actor=current_user)


@bp.patch("/demands/<int:demand_id>")
@roles_required(*POSTER_ROLES)
@bp.arguments(DemandUpdate)
@bp.response(200, DemandDetail)
@bp.doc(summary="修改需求", tags=[TAG])
def update_demand(data: dict[str, Any], demand_id: int):
    """Change the fields sent; a stale ``version`` is a 409, a closed demand too."""
    version = data.pop("version", None)
    refuse_clearing(data, Demand, FIELDS_BY_KEY)
    return services.update_demand(demand_id, data, actor=current_user, expected_version=version)


@bp.post("/demands/<int:demand_id>/close")
@roles_required(*POSTER_ROLES)
@bp.arguments(CloseBody, example={"reason": "已找到合作方"})
@bp.response(200, DemandDetail)
@bp.doc(summary="关闭需求", tags=[TAG])
def close_demand(data: dict[str, Any], demand_id: int):
    """OPEN → CLOSED with a reason.
    关闭需求会同时结束它尚未签约的对接（标记为未成交，原因“企业已关闭需求”），
    并通知高校和技术经理人；已签约的对接不受影响。"""
    return services.close_demand(
        demand_id,
        actor=current_user,
        reason=data.get("reason") or "",
        expected_version=data.get("version"),
    )


@bp.post("/demands/<int:demand_id>/reopen")
@roles_required(*POSTER_ROLES)
@bp.arguments(ReopenBody, example={"deadline": "2027-06-30"})
@bp.response(200, DemandDetail)
@bp.doc(summary="重新开放需求", tags=[TAG])
def reopen_demand(data: dict[str, Any], demand_id: int):
    """CLOSED → OPEN, matched again.
    企业只能重新开放自己关闭的需求（由技术经理人或平台管理员关闭的，须由他们重新开放）。
    不传 deadline 时沿用原截止日期（已过期则须传新的日期，或传 null 表示不设截止日期）；
    因关闭而结束的对接仍为“未成交”。"""
    return services.reopen_demand(
        demand_id,
        actor=current_user,
        deadline=data.get("deadline", services.KEEP),
        expected_version=data.get("version"),
    )
