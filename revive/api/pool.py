"""JSON routes of the enterprise's side: search the pool, a patent's public record, 申请对接
(intents), the enterprise's intents and its view of a demand; officers add a patent to a
demand by hand; the platform admin's settings (described by their schemas, below). Same
services as the pages (revive.pool, revive.matching.manual, revive.settings); errors
``{"error", "message"}``; writes need the ``X-CSRFToken`` header.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from marshmallow import fields

from revive.accounts.permissions import roles_required
from revive.api.blueprint import bp
from revive.api.common import (
    MAX_INT,
    iso,
    optional_int,
    page_meta,
    requested_page,
    requested_per_page,
)
from revive.api.matching import MatchRunSchema, MatchSchema
from revive.api.schema import (
    DECIMAL_STR,
    ID_ARG,
    ORG,
    PAGING,
    Bool,
    Int,
    IsoDateTime,
    LaterRaw,
    LaterStr,
    Lenient,
    NestedOf,
    Query,
    Schema,
    Str,
    computed,
    enum_of,
    labeled,
    page_schema,
    q,
)
from revive.deals.models import Stage
from revive.demands import permissions as demand_permissions
from revive.demands.models import Demand
from revive.errors import NotFoundError, ValidationFailed
from revive.evaluations.tiers import Tier
from revive.extensions import db
from revive.inventory.fields import display_value
from revive.inventory.models import PatentType, TransferMode, Willingness
from revive.inventory.public import PUBLIC_FIELDS
from revive.matching import manual
from revive.matching import strength as matching_strength
from revive.matching.models import MatchTier
from revive.matching.permissions import STAFF_ROLES
from revive.matching.queries import need_group
from revive.pool import queries, status
from revive.pool.permissions import INTENT_ROLES, public_or_login
from revive.pool.status import IntentRow
from revive.settings import services as settings
from revive.settings.services import ADMIN_ROLES

# ---------------------------------------------------------------------------- intents

T_POOL = "专利库与对接申请"
# Every route here is described by its schemas (flask-smorest, revive/api/schema.py).

Intent = Schema.from_dict(
    {
        "id": computed(lambda r: r.match.id, {"type": "integer"}),
        "demand": computed(
            lambda r: {"id": r.match.demand_id, "title": r.match.demand.title},
            {
                "type": "object",
                "required": ["id", "title"],
                "properties": {"id": {"type": "integer"}, "title": {"type": "string"}},
            },
        ),
        "patent": computed(
            lambda r: {"id": r.match.patent_id, "title": r.title, "in_pool": r.patent is not None},
            {
                "type": "object",
                "required": ["id", "title", "in_pool"],
                "properties": {
                    "id": {"type": "integer"},
                    "title": {"type": "string"},
                    "in_pool": {"type": "boolean"},
                },
            },
        ),
        "message": computed(lambda r: r.match.intent_message, {"type": "string"}),
        "created_at": computed(
            lambda r: iso(r.match.intent_at),
            {"type": "string", "format": "date-time"},
            nullable=True,
        ),
        "status": computed(
            lambda r: r.status_code, {"type": "string", "enum": list(IntentRow.STATUS)}
        ),
        "status_label": computed(lambda r: r.status, {"type": "string"}),
        "deal_id": fields.Integer(required=True, allow_none=True),
    },
    name="Intent",
)
IntentPage = page_schema("IntentPage", Intent)


class IntentBody(Lenient):
    # Presence of the message and which demand: manual.submit_intent, after the patent is
    # found in the pool (its messages).
    message = LaterStr(
        required=True, metadata={"json_schema": {"maxLength": manual.INTENT_MESSAGE_MAX}}
    )
    demand_id = Int(allow_none=True, metadata={"json_schema": {"minimum": 1}})
    new_demand_title = Str(
        allow_none=True, metadata={"json_schema": {"maxLength": manual.DEMAND_TITLE_MAX}}
    )


class CandidateBody(Lenient):
    patent_id = LaterRaw(required=True, metadata={"json_schema": ID_ARG})
    note = Str(allow_none=True, metadata={"json_schema": {"maxLength": manual.NOTE_MAX}})


# ---------------------------------------------------------------------------- the pool
# An entered patent's public record (revive.inventory.public.PUBLIC_FIELDS) and the search.

_PUBLIC_TYPES: dict[str, dict[str, Any]] = {
    "trl": {"type": "integer", "nullable": True},
    "application_no": {"type": "string"},
    "title": {"type": "string"},
}


def _public_fields() -> dict[str, fields.Field]:
    out: dict[str, fields.Field] = {"id": fields.Integer(required=True)}
    for key in PUBLIC_FIELDS:
        if key == "patent_type":
            out.update(labeled(lambda p: p.patent_type or None, PatentType, key, nullable=True))
        elif key == "transfer_willingness":
            out.update(
                labeled(lambda p: p.transfer_willingness or None, Willingness, key, nullable=True)
            )
        elif key == "transfer_modes":
            out[key] = computed(
                lambda p: [m.value for m in p.transfer_modes],
                {"type": "array", "items": enum_of(TransferMode)},
            )
            out["transfer_modes_labels"] = computed(
                lambda p: [m.label for m in p.transfer_modes],
                {"type": "array", "items": {"type": "string"}},
            )
        elif key in ("filing_date", "grant_date"):
            out[key] = IsoDateTime("date", required=True)
        else:
            out[key] = fields.Raw(
                required=True,
                metadata={
                    "json_schema": _PUBLIC_TYPES.get(key, {"type": "string", "nullable": True})
                },
            )
    out.update(
        institution=computed(lambda p: {"id": p.institution_id, "name": p.institution}, ORG),
        college=fields.String(required=True, allow_none=True),
        region=fields.String(required=True, allow_none=True),
        price_wan=computed(
            lambda p: display_value("asking_price", p.price_wan) or None,
            DECIMAL_STR,
            nullable=True,
        ),
        open_licence=computed(
            lambda p: (
                {
                    "id": p.licence.id,
                    "fee_summary": p.licence.fee_summary,
                    "period": p.licence.period,
                    "terms": p.licence.terms,
                }
                if p.licence
                else None
            ),
            {
                "type": "object",
                "required": ["id", "fee_summary", "period", "terms"],
                "properties": {
                    "id": {"type": "integer"},
                    "fee_summary": {"type": "string"},
                    "period": {"type": "string"},
                    "terms": {"type": "string", "nullable": True},
                },
            },
            nullable=True,
        ),
        entered_at=IsoDateTime(required=True),
    )
    return out


PublicPatentSchema = Schema.from_dict(_public_fields(), name="PublicPatent")
PoolSearchPage = page_schema(
    "PoolSearchPage",
    PublicPatentSchema,
    ranked=fields.Boolean(required=True),
    index_version=fields.Integer(required=True, allow_none=True),
)
PoolQuery = Query.from_dict(
    {
        "q": q({"type": "string", "maxLength": 200}, "用平常的话描述要解决的问题"),
        "industry": q({"type": "string", "maxLength": 100}, "国民经济行业分类代码或名称"),
        "trl_min": q({"type": "integer", "minimum": 1, "maximum": 9}),
        "trl_max": q({"type": "integer", "minimum": 1, "maximum": 9}),
        "mode": q(enum_of(TransferMode)),
        "open_licence": q({"type": "string", "enum": ["1"]}),
        "university": q(ID_ARG, "高校（组织 id）"),
        "region": q({"type": "string", "maxLength": 100}),
        "tier": q(enum_of(Tier)),
        **PAGING,
    },
    name="PoolQuery",
)


@bp.get("/pool/patents")
@public_or_login
@bp.arguments(PoolQuery, location="query", as_kwargs=True)
@bp.response(200, PoolSearchPage)
@bp.doc(
    summary="检索专利库（已入库专利的公开信息）",
    tags=[T_POOL],
    description="已登录用户可用；平台管理员开启“对未登录访客公开专利库”后，未登录也可用。",
)
def search_pool(**_query):
    """Search entered patents (public fields only); ranked by the engine when q is given,
    newest first otherwise; bad values are ignored."""
    filters = queries.parse_filters(request.args)
    filters.page = requested_page()
    found = queries.search_page(filters, requested_per_page())
    return {
        "items": found.items,
        "meta": page_meta(found.page, ranked=found.ranked, index_version=found.page.index_version),
    }


@bp.get("/pool/patents/<int:patent_id>")
@public_or_login
@bp.response(200, PublicPatentSchema)
@bp.doc(
    summary="专利库中一件专利的公开信息",
    tags=[T_POOL],
    description="已登录用户可用；平台管理员开启公开后，未登录也可用。",
)
def get_pool_patent(patent_id: int):
    """An entered patent's public record (404 for anything not in the pool)."""
    _, view = queries.get_public_patent(patent_id)
    return view


@bp.post("/pool/patents/<int:patent_id>/intents")
@roles_required(*INTENT_ROLES)
@bp.arguments(
    IntentBody,
    example={
        "message": "我们想了解该技术的中试情况和许可条件。",
        "new_demand_title": "引进相关技术",
    },
)
@bp.response(201, Intent)
@bp.doc(summary="申请对接（我感兴趣）", tags=[T_POOL])
def create_intent(data: dict[str, Any], patent_id: int):
    """申请对接 (enterprise): for one of its open demands, or a new one described by the
    message; 409 when the pair was already pushed, declined or asked for."""
    demand_id = data.get("demand_id")
    title = data.get("new_demand_title")
    if demand_id is None and title is None:
        raise ValidationFailed(
            "请指定 demand_id 或 new_demand_title", details={"demand_id": "请选择需求或新建需求"}
        )
    match = manual.submit_intent(
        current_user,
        patent_id,
        data.get("message"),
        demand_id=demand_id,
        new_demand_title=None if demand_id is not None else title,
    )
    return status.intent_rows([match])[0]


@bp.get("/intents")
@roles_required(*INTENT_ROLES)
@bp.arguments(Query.from_dict(dict(PAGING), name="IntentQuery"), location="query", as_kwargs=True)
@bp.response(200, IntentPage)
@bp.doc(summary="我的对接申请", tags=[T_POOL])
def list_intents(**_query):
    """The caller's intents across its demands, newest first."""
    found = status.my_intents(current_user, requested_page(), requested_per_page())
    return {"items": found.items, "meta": page_meta(found)}


@bp.delete("/intents/<int:intent_id>")
@roles_required(*INTENT_ROLES)
@bp.response(204)
@bp.doc(
    summary="撤回对接申请",
    tags=[T_POOL],
    description="技术经理人处理之前可以撤回（因申请而生成的候选随之删除，原本就是机器候选的保留）；"
    "已推送或未采纳的申请不能撤回（409）。",
)
def withdraw_intent(intent_id: int):
    """Withdraw an intent officers have not handled (the ``id`` of an Intent)."""
    manual.withdraw_intent(current_user, intent_id)
    return ""


# ---------------------------------------------------------------------------- a demand's overview
# Dumped from a revive.pool.status.DemandOverview (the enterprise's view of its demand).

_TITLED = {
    "type": "object",
    "required": ["id", "title"],
    "properties": {"id": {"type": "integer"}, "title": {"type": "string"}},
}
_REASONS = {"type": "array", "items": {"type": "string"}}


_SHARE = {
    "type": "number",
    "description": (
        "页面所写“与它强度相当的匹配经人工判定约 X% 确实切合”的 X（0–1）：模型估计与实测相差"
        "超过 5 个百分点时为实测比例（描述较短的需求单独计），否则即 strength"
    ),
}

OverviewSuggestion = Schema.from_dict(  # dumped from (sub-need index, suggestion, short)
    {
        "match_id": computed(lambda gs: gs[1].match.id, {"type": "integer"}),
        "need": computed(lambda gs: gs[0], {"type": "integer"}),
        "strength": computed(lambda gs: gs[1].match.strength, {"type": "number"}, nullable=True),
        "judged_share": computed(
            lambda gs: matching_strength.shown_share(gs[1].match.strength, gs[2]),
            _SHARE,
            nullable=True,
        ),
        "judged_basis": computed(
            lambda gs: matching_strength.share_basis(gs[1].match.strength, gs[2]),
            {
                "type": "integer",
                "description": "judged_share 所依据的人工判定对数（强度相近的候选，页面写作"
                "“依据强度相近的 N 对人工判定”）",
            },
            nullable=True,
        ),
        **labeled(lambda gs: gs[1].match.tier, MatchTier, "tier", nullable=True),
        "reasons": computed(lambda gs: list(gs[1].match.reasons or []), _REASONS),
        "has_intent": computed(lambda gs: gs[1].match.intent_at is not None, {"type": "boolean"}),
        "patent": NestedOf(lambda gs: gs[1].patent, PublicPatentSchema),
    },
    name="OverviewSuggestion",
)
OverviewPushed = Schema.from_dict(  # dumped from a PushedRow
    {
        "match_id": computed(lambda r: r.match.id, {"type": "integer"}),
        "deal_id": computed(
            lambda r: r.deal.id if r.deal else None, {"type": "integer"}, nullable=True
        ),
        "patent": computed(
            lambda r: {"id": r.match.patent_id, "title": r.match.patent.title}, _TITLED
        ),
        "university": computed(
            lambda r: {
                "id": r.match.patent.institution_id,
                "name": r.match.patent.institution.name,
            },
            ORG,
        ),
        "note": fields.String(required=True, allow_none=True),
        "patent_withdrawn": computed(
            lambda r: r.withdrawn,
            {
                "type": "boolean",
                "description": "学校已撤回该专利重新审核（不在资源库中，重新入库前不能签约）",
            },
        ),
        "reasons": computed(lambda r: list(r.match.reasons or []), _REASONS),
        **labeled(lambda r: r.deal.stage if r.deal else None, Stage, "stage", nullable=True),
        "pushed_at": computed(
            lambda r: iso(r.deal.pushed_at if r.deal else r.match.decided_at),
            {"type": "string", "format": "date-time"},
            nullable=True,
        ),
    },
    name="OverviewPushed",
)
OverviewCounts = Schema.from_dict(
    {
        "suggested": computed(lambda ov: ov.suggestion_count, {"type": "integer"}),
        "under_review": fields.Integer(required=True),
        "pushed": computed(lambda ov: len(ov.pushed), {"type": "integer"}),
        "declined": fields.Integer(required=True),
        "intents": computed(lambda ov: len(ov.intents), {"type": "integer"}),
    },
    name="OverviewCounts",
)
DemandOverviewSchema = Schema.from_dict(
    {
        "demand_id": computed(lambda ov: ov.demand.id, {"type": "integer"}),
        "latest_run": fields.Nested(
            MatchRunSchema, required=True, allow_none=True, attribute="run"
        ),
        "is_matching": fields.Boolean(required=True, attribute="run_active"),
        "matched": fields.Boolean(required=True),
        "is_thin": fields.Boolean(required=True),
        "needs": computed(  # the sub-needs, when the demand has several
            lambda ov: [{"index": g.index, "label": g.label} for g in ov.groups if ov.is_multi],
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", "label"],
                    "properties": {"index": {"type": "integer"}, "label": {"type": "string"}},
                },
            },
        ),
        "bar": fields.Float(required=True),
        "strong": fields.Float(required=True),
        "short_posting": computed(
            lambda ov: ov.is_short,
            {
                "type": "boolean",
                "description": "需求描述较短（页面提示补充技术细节；其强度按这一类的实测比例说明）",
            },
        ),
        "suggestions": NestedOf(
            lambda ov: [(g.index, s, ov.is_short) for g in ov.groups for s in g.items],
            OverviewSuggestion,
            many=True,
        ),
        "weak_suggestions": NestedOf(  # below the bar: what the page lists only on request
            lambda ov: [
                (need_group(s.match.need, len(ov.groups)), s, ov.is_short) for s in ov.weak
            ],
            OverviewSuggestion,
            many=True,
        ),
        "counts": NestedOf(lambda ov: ov, OverviewCounts),
        "pushed": fields.List(fields.Nested(OverviewPushed), required=True),
        "intents": fields.List(fields.Nested(Intent), required=True),
        "unmet": fields.Boolean(required=True),
        "broaden_hints": computed(lambda ov: ov.broaden_hints() if ov.unmet else [], _REASONS),
        "alert_subscribed": computed(lambda ov: ov.demand.alert_subscribed, {"type": "boolean"}),
    },
    name="DemandOverview",
)


@bp.get("/demands/<int:demand_id>/overview")
@roles_required(*INTENT_ROLES)
@bp.response(200, DemandOverviewSchema)
@bp.doc(
    summary="企业查看自己需求的进展（机器推荐、审核中、已推送、未采纳数、对接申请）",
    tags=["企业需求"],
)
def demand_overview(demand_id: int):
    """The owning enterprise's view of its demand: the machine's suggestions (not yet reviewed:
    strength, reasons, public fields), counts (under review, pushed, declined — a count only),
    pushed patents with the officer's note, its intents, whether it is unmet and what to do.
    Staff read GET /demands/{id}/matches instead. 404 for another enterprise's demand."""
    demand = db.session.get(Demand, demand_id)
    ov = status.demand_overview(current_user, demand) if demand is not None else None
    if ov is None or not demand_permissions.can_view(current_user, demand):
        raise NotFoundError("需求不存在或您无权查看")
    return ov


@bp.post("/demands/<int:demand_id>/candidates")
@roles_required(*STAFF_ROLES)
@bp.arguments(CandidateBody)
@bp.response(201, MatchSchema)
@bp.doc(summary="技术经理人为需求人工添加候选专利", tags=["审核"])
def add_candidate(data: dict[str, Any], demand_id: int):
    """An officer adds an entered patent to an open demand by hand (source "officer"; on an
    existing undecided pair the note is attached)."""
    patent_id = optional_int(data, "patent_id")
    if patent_id is None or not 0 < patent_id <= MAX_INT:
        raise ValidationFailed("请指定 patent_id", details={"patent_id": "请指定专利"})
    return manual.add_candidate(current_user, demand_id, patent_id, data.get("note"))


# ---------------------------------------------------------------------------- settings
# The contract of the settings routes is these schemas (flask-smorest, revive/api/schema.py),
# one member per declared setting (revive.settings.services.SETTINGS).

Settings = Schema.from_dict(
    {
        key: fields.Boolean(required=True, metadata={"description": s.label})
        for key, s in settings.SETTINGS.items()
    },
    name="Settings",
)
SettingsChange = Schema.from_dict(
    {key: Bool(metadata={"description": s.label}) for key, s in settings.SETTINGS.items()},
    name="SettingsChange",
)


@bp.get("/settings")
@roles_required(*ADMIN_ROLES)
@bp.response(200, Settings)
@bp.doc(summary="平台设置", tags=["平台设置"])
def get_settings():
    """Platform settings (platform admin)."""
    return settings.current()


@bp.patch("/settings")
@roles_required(*ADMIN_ROLES)
@bp.arguments(SettingsChange, example={"public_pool": False})
@bp.response(200, Settings)
@bp.doc(summary="修改平台设置", tags=["平台设置"])
def update_settings(data: dict[str, Any]):
    """Change the settings sent (platform admin); answers every setting."""
    return settings.update_settings(data, actor=current_user)
