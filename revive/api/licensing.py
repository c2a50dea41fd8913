"""Open-licence JSON routes: the public list, one declaration, declare, withdraw; and the
applications to implement a declared licence (开放许可实施申请: apply, list, read, confirm, sign,
withdraw).

Authentication is the web login's session cookie (anonymous → 401 JSON); writes need the CSRF
token in the ``X-CSRFToken`` header. Errors: ``{"error", "message", "details"?}``
(revive.errors). A declaration that breaks open-licence rules answers 422 with EVERY violated
rule in ``details`` as ``{field key: Chinese message}`` (``patent`` for rules about the patent,
``royalty`` for "one royalty rate"). Amounts travel as decimal strings ("2000", "12.5"), dates
as YYYY-MM-DD, enums as their value plus a ``*_label``.

The contract of each route is its schemas below (flask-smorest, revive/api/schema.py). The
members of a declaration and of an application are checked together by the services
(revive.licensing.rules, revive.licensing.applications: every problem at once, with the form's
messages), so their schemas refuse unknown keys and document the members' types.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from marshmallow import fields

from revive.accounts.permissions import roles_required
from revive.api.blueprint import bp
from revive.api.common import requested_page, requested_per_page
from revive.api.schema import (
    DECIMAL_STR,
    ID_ARG,
    ORG,
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
    ref_of,
    version_field,
)
from revive.inventory import permissions as patent_permissions
from revive.inventory.models import PatentType
from revive.licensing import applications, display, permissions, queries, rules, services
from revive.licensing.models import ApplicationStatus, DeclarationStatus, FeeMode
from revive.licensing.permissions import (
    APPLICANT_ROLES,
    APPLICATION_READERS,
    DECLARER_ROLES,
    HOLDER_ROLES,
    VIEWER_ROLES,
)
from revive.web import int_arg

TAG = "开放许可"

STR: dict[str, Any] = {"type": "string"}
BOOL: dict[str, Any] = {"type": "boolean"}
DATE: dict[str, Any] = {"type": "string", "format": "date"}
DATETIME: dict[str, Any] = {"type": "string", "format": "date-time"}
AMOUNT_STR: dict[str, Any] = {**DECIMAL_STR, "nullable": True}


def _amount(value: Any) -> str | None:
    return display.amount(value) if value is not None else None


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


# ---------------------------------------------------------------------------- declarations

OpenLicencePatent = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        "application_no": fields.String(required=True),
        "title": fields.String(required=True),
        **enum_fields("patent_type", PatentType),
        "patentees": computed(
            lambda p: rules.patentee_names(p.patentees), {"type": "array", "items": STR}
        ),
        "institution": computed(lambda p: ref_of(p.institution), ORG),
        "industry_code": fields.String(required=True, allow_none=True),
    },
    name="OpenLicencePatent",
)

OpenLicence = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        "patent": fields.Nested(OpenLicencePatent, required=True),
        **enum_fields("fee_mode", FeeMode),
        "fee_summary": computed(display.fee_summary, STR),
        **{
            key: computed(lambda d, key=key: _amount(getattr(d, key)), AMOUNT_STR)
            for key in rules.AMOUNT_KEYS
        },
        "start_date": IsoDateTime("date", required=True, allow_none=False),
        "end_date": IsoDateTime("date", required=True, allow_none=False),
        **{key: fields.Boolean(required=True, allow_none=True) for key in rules.FLAG_KEYS},
        "evaluation_report_no": fields.String(required=True, allow_none=True),
        "terms": fields.String(required=True, allow_none=True),
        "is_listed": computed(permissions.is_listed, BOOL),
        "declared_at": IsoDateTime(attribute="created_at", required=True),
        "withdrawn_at": IsoDateTime(required=True),
        "version": fields.Integer(required=True),
        **enum_fields("status", DeclarationStatus),
        "can_withdraw": computed(
            lambda d: permissions.can_manage(current_user, d.patent) and d.status.value == "active",
            BOOL,
        ),
        "can_view_patent": computed(
            lambda d: patent_permissions.can_view(current_user, d.patent), BOOL
        ),
    },
    name="OpenLicence",
)
OpenLicencePage = page_schema("OpenLicencePage", OpenLicence)

OpenLicenceQuery = Query.from_dict(
    {
        "fee_mode": q(STR, "lump_sum | royalty | entry_plus_royalty，或中文标签"),
        "industry": q(STR),
        "university": q(ID_ARG, "高校（组织 id）"),
        "q": q({"type": "string", "maxLength": 200}),
        "sort": q({"type": "string", "enum": ["new", "fee_asc", "fee_desc"]}),
        **PAGING,
    },
    name="OpenLicenceQuery",
)


def _member(schema: dict[str, Any], *, required: bool = False) -> fields.Field:
    """A member checked with the others by the service, after the scope check (every wrong or
    missing one named at once, in its messages)."""
    schema = {"nullable": False, **schema}  # null is let through, to the service's message
    return LaterRaw(required=required, allow_none=True, metadata={"json_schema": schema})


_AMOUNT = {"oneOf": [{"type": "number", "minimum": 0}, DECIMAL_STR], "nullable": True}  # 万元 / %
_FLAG = {"oneOf": [BOOL, STR], "nullable": True}

DeclareBody = Schema.from_dict(
    {
        "patent_id": Int(
            required=True,
            error_messages={"required": "请指定专利", "null": "请指定专利"},
            metadata={"json_schema": ID_ARG},
        ),
        "fee_mode": _member(
            {
                "type": "string",
                "description": "值或中文标签："
                + "、".join(f"{m.value}（{m.label}）" for m in FeeMode),
            },
            required=True,
        ),
        **{key: _member(_AMOUNT) for key in rules.AMOUNT_KEYS},
        "start_date": _member(DATE, required=True),
        "end_date": _member(DATE, required=True),
        **{key: _member(_FLAG) for key in rules.FLAG_KEYS},
        "evaluation_report_no": _member(
            {"type": "string", "maxLength": rules.MAX_REPORT_NO_LEN, "nullable": True}
        ),
        "terms": _member({"type": "string", "maxLength": rules.MAX_TERMS_LEN, "nullable": True}),
    },
    name="DeclareBody",
)


class WithdrawDeclarationBody(Lenient):
    BODY_OPTIONAL = True  # no body at all is {}

    version = version_field()
    reason = Str(allow_none=True, metadata={"json_schema": {"maxLength": 500}})


# ---------------------------------------------------------------------------- applications

LicensedPatent = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        "application_no": fields.String(required=True),
        "title": fields.String(required=True),
        "institution": computed(lambda p: ref_of(p.institution), ORG),
    },
    name="LicensedPatent",
)
_TERMS_PROPS: dict[str, Any] = {
    "declaration_id": {"type": "integer"},
    "declaration_version": {"type": "integer"},
    "fee_mode": enum_of(FeeMode),
    "fee_mode_label": STR,
    "fee_summary": STR,
    **{key: AMOUNT_STR for key in rules.AMOUNT_KEYS},
    "start_date": DATE,
    "end_date": DATE,
    "period": STR,
    "scope": STR,
    "terms": _nullable(STR),
    "declared_at": _nullable(DATETIME),
}
TERMS = {
    "type": "object",
    "required": list(_TERMS_PROPS),
    "properties": _TERMS_PROPS,
    "description": "申请时声明的许可条件（快照）",
}


def _holder_may(step: str):
    def check(a) -> bool:
        holder = permissions.can_manage(current_user, a.patent)
        return holder and a.status in applications.STEPS[step].sources

    return check


LicenceApplication = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        "declaration_id": fields.Integer(required=True),
        "patent": fields.Nested(LicensedPatent, required=True),
        "enterprise": computed(lambda a: {"id": a.enterprise_id, "name": a.applicant_name}, ORG),
        "applicant": computed(lambda a: ref_of(a.applicant), ORG, nullable=True),
        "credit_code": fields.String(required=True, allow_none=True),
        "contact_name": fields.String(required=True),
        "contact_phone": fields.String(required=True),
        "contact_email": fields.String(required=True, allow_none=True),
        "intended_use": fields.String(required=True),
        "terms_accepted": fields.Boolean(required=True),
        "terms": computed(lambda a: a.terms or {}, TERMS),
        "submitted_at": IsoDateTime(attribute="created_at", required=True),
        "confirmed_on": IsoDateTime("date", required=True),
        "signed_on": IsoDateTime("date", required=True),
        "withdrawn_at": IsoDateTime(required=True),
        "holder_note": fields.String(required=True, allow_none=True),
        "withdraw_reason": fields.String(required=True, allow_none=True),
        "version": fields.Integer(required=True),
        **enum_fields("status", ApplicationStatus),
        "can_confirm": computed(_holder_may("confirm"), BOOL),
        "can_sign": computed(_holder_may("sign"), BOOL),
        "can_withdraw": computed(
            lambda a: permissions.is_applicant(current_user, a) and a.is_open, BOOL
        ),
    },
    name="LicenceApplication",
)
LicenceApplicationPage = page_schema("LicenceApplicationPage", LicenceApplication)

ApplicationQuery = Query.from_dict(
    {
        "status": q(enum_of(ApplicationStatus)),
        "declaration_id": q(ID_ARG, "开放许可声明 id"),
        **PAGING,
    },
    name="ApplicationQuery",
)

ApplyBody = Schema.from_dict(
    {
        "contact_name": _member(
            {"type": "string", "maxLength": applications.CONTACT_NAME_MAX}, required=True
        ),
        "contact_phone": _member(
            {"type": "string", "maxLength": applications.PHONE_MAX}, required=True
        ),
        "contact_email": _member(
            {"type": "string", "maxLength": applications.EMAIL_MAX, "nullable": True}
        ),
        "intended_use": _member(
            {"type": "string", "maxLength": applications.USE_MAX}, required=True
        ),
        "accept_terms": _member(
            {**BOOL, "description": "接受声明的许可条件（须为 true）"}, required=True
        ),
    },
    name="ApplyBody",
)


class DecideBody(Schema):
    BODY_OPTIONAL = True  # no body at all is {}

    date = Str(
        allow_none=True,
        metadata={
            "json_schema": {
                **DATE,
                "description": "确认或签订日期，默认今天；不晚于今天、不早于申请日",
            }
        },
    )
    note = Str(allow_none=True, metadata={"json_schema": {"maxLength": applications.NOTE_MAX}})
    version = version_field()


class WithdrawApplicationBody(Schema):
    BODY_OPTIONAL = True  # no body at all is {}

    reason = Str(allow_none=True, metadata={"json_schema": {"maxLength": applications.NOTE_MAX}})
    version = version_field()


# ---------------------------------------------------------------------------- routes


@bp.get("/open-licences")
@roles_required(*VIEWER_ROLES)
@bp.arguments(OpenLicenceQuery, location="query", as_kwargs=True)
@bp.response(200, OpenLicencePage)
@bp.doc(summary="开放许可公开清单", tags=[TAG])
def list_open_licences(**_query):
    """The public list: active declarations of entered patents (filters:
    queries.parse_filters; fee = lump sum or entry fee; bad values are ignored)."""
    filters = queries.parse_filters(request.args)
    return paged(queries.list_page(filters, requested_per_page()))


@bp.get("/open-licences/<int:declaration_id>")
@roles_required(*VIEWER_ROLES)
@bp.response(200, OpenLicence)
@bp.doc(summary="一项开放许可声明", tags=[TAG])
def get_open_licence(declaration_id: int):
    """One declaration. Listed ones are public; a withdrawn one (or one whose patent left the
    pool) only for those who may see the patent — 404 for others."""
    return services.get_declaration_for(current_user, declaration_id)


@bp.post("/open-licences")
@roles_required(*DECLARER_ROLES)
@bp.arguments(DeclareBody)
@bp.response(201, OpenLicence)
@bp.doc(summary="声明开放许可", tags=[TAG])
def declare_open_licence(data: dict[str, Any]):
    """Declare an open licence: 201 + the declaration. 422 lists every violated rule (nothing
    is written), 403 not the patent's admin, 404 patent not visible."""
    return services.declare(data["patent_id"], data, actor=current_user)


@bp.post("/open-licences/<int:declaration_id>/withdraw")
@roles_required(*DECLARER_ROLES)
@bp.arguments(WithdrawDeclarationBody, required=False)
@bp.response(200, OpenLicence)
@bp.doc(summary="撤回开放许可", tags=[TAG])
def withdraw_open_licence(data: dict[str, Any], declaration_id: int):
    """Withdraw a declaration: 409 already withdrawn or stale version."""
    return services.withdraw(
        declaration_id,
        actor=current_user,
        expected_version=data.get("version"),
        reason=data.get("reason") or "",
    )


@bp.post("/open-licences/<int:declaration_id>/applications")
@roles_required(*APPLICANT_ROLES)
@bp.arguments(
    ApplyBody,
    example={
        "contact_name": "赵经理",
        "contact_phone": "0471-1234567",
        "contact_email": "zhao@example.com",
        "intended_use": "用于本公司锂电池负极材料产线，年产 500 吨。",
        "accept_terms": True,
    },
)
@bp.response(201, LicenceApplication)
@bp.doc(
    summary="申请实施开放许可（开放许可实施申请）",
    tags=[TAG],
    description="使用费按声明的条件（公开，对所有被许可人相同），不接受议价；申请保存声明条件的快照。"
    "同一企业对同一声明只能有一件未撤回的申请；声明已撤回、专利不在库中或期限届满时 409。",
)
def apply_open_licence(data: dict[str, Any], declaration_id: int):
    """Apply to implement a declared open licence (开放许可实施申请): 201 + the application;
    422 every problem of the details, 409 declaration withdrawn, patent out of the pool,
    period ended or an application of the enterprise already held."""
    return applications.apply(declaration_id, data, actor=current_user)


@bp.get("/licence-applications")
@roles_required(*APPLICATION_READERS)
@bp.arguments(ApplicationQuery, location="query", as_kwargs=True)
@bp.response(200, LicenceApplicationPage)
@bp.doc(summary="可见的开放许可实施申请", tags=[TAG])
def list_licence_applications(**_query):
    """The applications the caller may read, newest first: an enterprise its own, a
    university (college) admin those on its patents, staff and the regulator all."""
    raw = request.args.get("status", "")
    status = next((s for s in ApplicationStatus if raw == s.value), None)
    page = queries.application_page(
        current_user,
        requested_page(),
        requested_per_page(),
        status=status,
        declaration_id=int_arg(request.args.get("declaration_id")),
    )
    return paged(page)


@bp.get("/licence-applications/<int:application_id>")
@roles_required(*APPLICATION_READERS)
@bp.response(200, LicenceApplication)
@bp.doc(summary="一件开放许可实施申请", tags=[TAG])
def get_licence_application(application_id: int):
    """One application with the terms it accepted; 404 for those who may not read it."""
    return permissions.get_visible_application(current_user, application_id)


def _decide(data: dict[str, Any], application_id: int, step: str):
    return applications.act(
        application_id,
        step,
        actor=current_user,
        on=data.get("date"),
        note=data.get("note"),
        expected_version=data.get("version"),
    )


@bp.post("/licence-applications/<int:application_id>/confirm")
@roles_required(*HOLDER_ROLES)
@bp.arguments(DecideBody, required=False)
@bp.response(200, LicenceApplication)
@bp.doc(summary="专利权人确认实施申请", tags=[TAG])
def confirm_licence_application(data: dict[str, Any], application_id: int):
    """The holder confirms the application (submitted → confirmed)."""
    return _decide(data, application_id, "confirm")


@bp.post("/licence-applications/<int:application_id>/sign")
@roles_required(*HOLDER_ROLES)
@bp.arguments(DecideBody, required=False)
@bp.response(200, LicenceApplication)
@bp.doc(summary="专利权人登记签订", tags=[TAG])
def sign_licence_application(data: dict[str, Any], application_id: int):
    """The holder records the signed licence (submitted / confirmed → signed), with its date."""
    return _decide(data, application_id, "sign")


@bp.post("/licence-applications/<int:application_id>/withdraw")
@roles_required(*APPLICANT_ROLES)
@bp.arguments(WithdrawApplicationBody, required=False)
@bp.response(200, LicenceApplication)
@bp.doc(summary="申请企业撤回实施申请", tags=[TAG])
def withdraw_licence_application(data: dict[str, Any], application_id: int):
    """The applying enterprise withdraws (submitted / confirmed → withdrawn)."""
    return applications.act(
        application_id,
        "withdraw",
        actor=current_user,
        note=data.get("reason"),
        expected_version=data.get("version"),
    )
