"""Patent JSON routes: list/detail/create/update, workflow actions and batch actions.

The contract of each route is its schemas below (flask-smorest: ``bp.arguments`` loads and
checks the request, ``bp.response`` shapes the answer, both generate the OpenAPI document).
Request bodies are built from the import template's field table (revive.inventory.fields).
Authentication, CSRF and the error shape: revive/api/__init__.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from flask import request, url_for
from flask_login import current_user
from marshmallow import fields

from revive.accounts.models import Role
from revive.accounts.permissions import roles_required
from revive.api.blueprint import bp
from revive.api.common import refuse_clearing, requested_per_page
from revive.api.schema import (
    ID_ARG,
    PAGING,
    Int,
    IsoDateTime,
    Lenient,
    Query,
    Schema,
    Str,
    display_json_schema,
    enum_fields,
    enum_of,
    id_or_none,
    page_schema,
    paged,
    q,
    table_schema,
    version_field,
)
from revive.clock import FIRST_DAY, LAST_DAY, local_tz
from revive.common.fields import FieldError, is_clear_marker
from revive.errors import ValidationFailed
from revive.inventory import permissions, queries, services, workflow
from revive.inventory.fields import (
    EDITABLE_KEYS,
    FIELDS_BY_KEY,
    IMPORT_FIELDS,
    MODEL_KEYS,
    display_value,
)
from revive.inventory.models import (
    EntryStatus,
    ImplementationStatus,
    Patent,
    PatentType,
    TransferMode,
    Willingness,
)
from revive.inventory.permissions import FILER_ROLES, INVENTORY_ROLES, REVIEWER_ROLES

TAG = "专利盘点"
ORG = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}
ACTION = {
    "type": "object",
    "required": ["name", "label", "comment_required"],
    "properties": {
        "name": {"type": "string"},
        "label": {"type": "string"},
        "comment_required": {"type": "boolean"},
    },
}
REFUSAL = {
    "type": "object",
    "required": ["id", "reason"],
    "properties": {"id": {"type": "integer"}, "reason": {"type": "string"}},
}
ENUM_KEYS = {
    "patent_type": PatentType,
    "implementation_status": ImplementationStatus,
    "transfer_willingness": Willingness,
}

# ---------------------------------------------------------------------------- requests

_EDITABLE_ROWS = [FIELDS_BY_KEY[k] for k in EDITABLE_KEYS]
assert {f.key for f in IMPORT_FIELDS} == set(EDITABLE_KEYS)
PatentCreate = table_schema(
    "PatentCreate",
    _EDITABLE_ROWS,
    required=True,
    modes_enum=TransferMode,
    is_marker=is_clear_marker,
    extra={
        "institution_id": Int(
            minimum=1, metadata={"description": "所属单位（仅平台管理员，且必填）"}
        )
    },
)
PatentUpdate = table_schema(
    "PatentUpdate",
    _EDITABLE_ROWS,
    required=False,
    modes_enum=TransferMode,
    is_marker=is_clear_marker,
    extra={"version": version_field()},
)


class PatentActionBody(Lenient):
    BODY_OPTIONAL = True  # no body at all is {}

    comment = Str(allow_none=True, max_length=2000)
    version = version_field()


class BatchActionBody(Lenient):
    ids = fields.Raw(
        required=True,
        metadata={"json_schema": {"type": "array", "items": ID_ARG, "minItems": 1}},
    )  # checked and capped by revive.selection (its own messages)
    action = Str(required=True)
    comment = Str(allow_none=True, max_length=2000)


PatentQuery = Query.from_dict(
    {
        "college": q(id_or_none("学院 id，或 none（未分学院）")),
        "status": q(enum_of(EntryStatus)),
        "grade": q(id_or_none("价值等级 1–5，或 none", 5)),
        "trl": q(id_or_none("技术成熟度 1–9，或 none", 9)),
        "willingness": q(enum_of(Willingness, "none")),
        "patent_type": q(enum_of(PatentType)),
        "legal_status": q({"type": "string", "maxLength": 50}, "法律状态（如 有效），或 none"),
        "implementation": q(enum_of(ImplementationStatus, "none")),
        "filed_from": q({"type": "string", "format": "date"}, "申请日不早于"),
        "filed_to": q({"type": "string", "format": "date"}, "申请日不晚于"),
        "granted_from": q({"type": "string", "format": "date"}, "授权日不早于"),
        "granted_to": q({"type": "string", "format": "date"}, "授权日不晚于"),
        "institution": q({"type": "integer", "minimum": 1}, "单位 id（跨校用户）"),
        "q": q({"type": "string", "maxLength": 200}, "标题/摘要包含"),
        "application_no": q(
            {"type": "string", "maxLength": 40},
            "申请号（精确查找；CN 前缀、空格、全角字符按导入规则规范化，校验位须正确）",
        ),
        "updated_since": q(
            {"type": "string", "format": "date-time", "maxLength": 40},
            "只列出此刻之后有改动的专利（增量同步：传回上次列表中最大的 updated_at；"
            "不带时区时按北京时间）",
        ),
        "sort": q(
            {"type": "string", "enum": ["updated_at", "application_no", "title", "grade", "trl"]}
        ),
        "dir": q({"type": "string", "enum": ["asc", "desc"]}),
        **PAGING,
    },
    name="PatentQuery",
)

# ---------------------------------------------------------------------------- responses


def _org(org_id: int | None, name: str | None) -> dict[str, Any] | None:
    return {"id": org_id, "name": name} if org_id else None


PatentSummary = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        "application_no": fields.String(required=True),
        "title": fields.String(required=True),
        "institution": fields.Function(
            lambda r: _org(r.institution_id, r.institution_name),
            required=True,
            metadata={"json_schema": ORG},
        ),
        "college": fields.Function(
            lambda r: _org(r.college_id, r.college_name),
            required=True,
            metadata={"json_schema": {**ORG, "nullable": True}},
        ),
        "value_grade": fields.Integer(required=True, allow_none=True),
        "trl": fields.Integer(required=True, allow_none=True),
        "version": fields.Integer(required=True),
        "updated_at": IsoDateTime(required=True),
        **enum_fields("status", EntryStatus),
        **enum_fields("patent_type", PatentType, nullable=True),
        **enum_fields("transfer_willingness", Willingness, nullable=True),
    },
    name="PatentSummary",
)
PatentPage = page_schema("PatentPage", PatentSummary)


class DisplayValue(fields.Field):
    """A stored field as the API shows it: enums as value + label, transfer modes as lists,
    numbers and booleans as themselves, other values as their display text."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None or isinstance(value, bool) or attr in ("trl", "value_grade"):
            return value
        return display_value(attr, value)


def _detail_fields() -> dict[str, fields.Field]:
    out: dict[str, fields.Field] = {"id": fields.Integer(required=True)}
    for key in MODEL_KEYS:
        if key in ENUM_KEYS:
            out.update(enum_fields(key, ENUM_KEYS[key], nullable=True))
        elif key == "transfer_modes":
            out[key] = fields.Function(
                lambda p: [m.value for m in p.modes],
                required=True,
                metadata={"json_schema": {"type": "array", "items": enum_of(TransferMode)}},
            )
            out["transfer_modes_labels"] = fields.Function(
                lambda p: [m.label for m in p.modes],
                required=True,
                metadata={"json_schema": {"type": "array", "items": {"type": "string"}}},
            )
        else:  # display values: strings, numbers, booleans or null
            out[key] = DisplayValue(
                required=True,
                metadata={"json_schema": display_json_schema(FIELDS_BY_KEY[key])},
            )
    out["institution"] = fields.Function(
        lambda p: _org(p.institution_id, p.institution.name),
        required=True,
        metadata={"json_schema": ORG},
    )
    out["college"] = fields.Function(
        lambda p: _org(p.college_id, p.college.name) if p.college else None,
        required=True,
        metadata={"json_schema": {**ORG, "nullable": True}},
    )
    out.update(enum_fields("status", EntryStatus))
    out["version"] = fields.Integer(required=True)
    for key in ("status_changed_at", "submitted_at", "entered_at", "created_at", "updated_at"):
        out[key] = IsoDateTime(required=True)
    out["can_edit"] = fields.Function(
        lambda p: permissions.can_edit(current_user, p),
        required=True,
        metadata={"json_schema": {"type": "boolean"}},
    )
    out["actions"] = fields.Function(
        lambda p: [
            {"name": a.name, "label": a.label, "comment_required": a.comment_required}
            for a in workflow.available_actions(p)
            if permissions.can_act(current_user, p, a)
        ],
        required=True,
        metadata={"json_schema": {"type": "array", "items": ACTION}},
    )
    return out


Patent_ = Schema.from_dict(_detail_fields(), name="Patent")

BatchResult = Schema.from_dict(
    {
        "done": fields.List(fields.Integer(), required=True),
        "refused": fields.Function(
            lambda r: [{"id": pid, "reason": reason} for pid, reason in r.refused],
            required=True,
            metadata={"json_schema": {"type": "array", "items": REFUSAL}},
        ),
        "message": fields.String(required=True, attribute="summary"),
    },
    name="BatchResult",
)

# ---------------------------------------------------------------------------- routes


@bp.get("/patents")
@roles_required(*INVENTORY_ROLES)
@bp.arguments(PatentQuery, location="query", as_kwargs=True)
@bp.response(200, PatentPage)
@bp.doc(summary="可见的专利列表", tags=[TAG])
def list_patents(**_query):
    """The patents the caller may see (filters: queries.parse_filters, bad values ignored)."""
    filters = queries.parse_filters(request.args, current_user)
    appno, since = request.args.get("application_no", ""), request.args.get("updated_since", "")
    page = queries.list_page(
        current_user,
        filters,
        requested_per_page(),
        application_no=_application_no(appno) if appno.strip() else None,
        updated_since=_moment(since) if since.strip() else None,
    )
    return paged(page)


def _application_no(raw: str) -> str:
    try:
        return FIELDS_BY_KEY["application_no"].parse_value(raw)
    except FieldError as exc:
        message = f"查询参数无效（application_no：{exc}）"
        raise ValidationFailed(message, details={"application_no": str(exc)}) from None


def _moment(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        message = "须为 ISO 8601 时间，如 2026-12-06T08:00:00+08:00"
        raise ValidationFailed(
            f"查询参数无效（updated_since：{message}）", details={"updated_since": message}
        ) from None
    # "since the beginning" / "since the end of time": held to clock's range before any zone
    # arithmetic (0001-01-01 and 9999-12-31T23:59:59-12:00 overflowed it: a 500)
    if moment.date() < FIRST_DAY:
        return datetime.combine(FIRST_DAY, time.min, tzinfo=UTC)
    if moment.date() >= LAST_DAY:
        return datetime.combine(LAST_DAY, time.min, tzinfo=UTC)
    return moment.replace(tzinfo=local_tz()) if moment.tzinfo is None else moment


@bp.get("/patents/<int:patent_id>")
@roles_required(*INVENTORY_ROLES)
@bp.response(200, Patent_)
@bp.doc(summary="一件专利", tags=[TAG])
def get_patent(patent_id: int):
    """One patent; 404 outside the caller's scope."""
    return services.get_patent_for(current_user, patent_id)


@bp.post("/patents")
@roles_required(*FILER_ROLES)
@bp.arguments(
    PatentCreate,
    example={"application_no": "201710601862.3", "title": "一种高强度复合材料的制备方法"},
)
@bp.response(201, Patent_)
@bp.doc(summary="新建专利（草稿）", tags=[TAG])
def create_patent(data: dict[str, Any]):
    """Create a draft; platform admins name the institution."""
    institution_id = data.pop("institution_id", None)
    if current_user.role != Role.PLATFORM_ADMIN and institution_id is None:
        institution_id = current_user.organization_id  # another unit: services refuses it
    elif institution_id is None:
        raise ValidationFailed(
            "请指定 institution_id", details={"institution_id": "请指定所属单位"}
        )
    patent = services.create_patent(
        _record(data), institution_id=institution_id, actor=current_user
    )
    return patent, 201, {"Location": url_for("api.get_patent", patent_id=patent.id)}


@bp.patch("/patents/<int:patent_id>")
@roles_required(*FILER_ROLES)
@bp.arguments(PatentUpdate)
@bp.response(200, Patent_)
@bp.doc(
    summary="修改专利字段",
    tags=[TAG],
    description="只修改所传字段（空字符串或 null 清空）。带 version 时并发修改返回 409。"
    "学院的修改遵循学院规则：不允许的修改 403；待学校审核时换学院退回待学院审核。",
)
def update_patent(data: dict[str, Any], patent_id: int):
    """Change the fields sent; a stale ``version`` is a 409."""
    version = data.pop("version", None)
    record = _record(data)
    refuse_clearing(record, Patent, FIELDS_BY_KEY)
    return services.update_patent(patent_id, record, actor=current_user, expected_version=version)


DeleteQuery = Query.from_dict(
    {"version": q(ID_ARG, "记录的当前版本号")},
    name="PatentDeleteQuery",
)


@bp.delete("/patents/<int:patent_id>")
@roles_required(*FILER_ROLES)
@bp.arguments(DeleteQuery, location="query")
@bp.response(204)
@bp.doc(
    summary="删除从未提交审核的草稿",
    tags=[TAG],
    description="只有从未提交审核的草稿可以删除（录错、导错的记录）；其他状态 409，"
    "不再转化的专利请走审核流程。带 version（查询参数）时并发修改返回 409。",
)
def delete_patent(query: dict[str, Any], patent_id: int):
    """Delete a never-submitted draft."""
    version = query.get("version")
    services.delete_draft(
        patent_id, actor=current_user, expected_version=int(version) if version else None
    )
    return ""


@bp.post("/patents/<int:patent_id>/actions/<action>")
@roles_required(*FILER_ROLES)
@bp.arguments(PatentActionBody, required=False)
@bp.response(200, Patent_)
@bp.doc(summary="流程操作（提交、审核、退回、入库…）", tags=[TAG])
def patent_action(data: dict[str, Any], patent_id: int, action: str):
    """A workflow action; returns and refusals need a comment."""
    return services.perform_action(
        patent_id,
        action,
        actor=current_user,
        comment=data.get("comment"),
        expected_version=data.get("version"),
    )


@bp.post("/patents/batch-actions")
@roles_required(*REVIEWER_ROLES)
@bp.arguments(BatchActionBody)
@bp.response(200, BatchResult)
@bp.doc(summary="批量审核或批量提交审核", tags=[TAG], **{"x-errors": [401, 403, 409, 422]})
def batch_actions(data: dict[str, Any]):
    """One review action — or submit (提交审核, an import's drafts) — on many patents
    (≤ revive.selection's cap); refusals one by one."""
    return services.perform_batch(
        data["ids"], data["action"], actor=current_user, comment=data.get("comment")
    )


def _record(data: dict[str, Any]) -> dict[str, Any]:
    """Field values keyed by field key, lists already joined by the schema."""
    return {k: v for k, v in data.items() if k in FIELDS_BY_KEY}
