"""Open-licence JSON routes: the public list, one declaration, declare, withdraw; and the
applications to implement a declared licence (开放许可实施申请: apply, list, read, confirm, sign,
withdraw).

Authentication is the web login's session cookie (anonymous → 401 JSON); writes need the CSRF
token in the ``X-CSRFToken`` header. Errors: ``{"error", "message", "details"?}``
(revive.errors). A declaration that breaks open-licence rules answers 422 with EVERY violated
rule in ``details`` as ``{field key: Chinese message}`` (``patent`` for rules about the patent,
``royalty`` for "one royalty rate"). Amounts travel as decimal strings ("2000", "12.5"), dates
as YYYY-MM-DD, enums as their value plus a ``*_label``.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user

from revive.accounts.permissions import roles_required
from revive.api import bp
from revive.api.common import (
    enum_pair,
    iso,
    json_body,
    optional_int,
    optional_json_body,
    optional_text,
    paginated,
    requested_page,
    requested_per_page,
)
from revive.errors import ValidationFailed
from revive.inventory import permissions as patent_permissions
from revive.licensing import applications, display, permissions, queries, rules, services
from revive.licensing.models import ApplicationStatus, LicenceApplication, OpenLicenceDeclaration
from revive.licensing.permissions import (
    APPLICANT_ROLES,
    APPLICATION_READERS,
    DECLARER_ROLES,
    HOLDER_ROLES,
    VIEWER_ROLES,
)
from revive.web import int_arg

DECLARE_KEYS = frozenset({"patent_id", *rules.FIELD_KEYS})


def _amount(value: Any) -> str | None:
    return display.amount(value) if value is not None else None


def declaration_json(d: OpenLicenceDeclaration, user) -> dict[str, Any]:
    p = d.patent
    out: dict[str, Any] = {
        "id": d.id,
        "patent": {
            "id": p.id,
            "application_no": p.application_no,
            "title": p.title,
            "patent_type": p.patent_type.value,
            "patent_type_label": p.patent_type.label,
            "patentees": rules.patentee_names(p.patentees),
            "institution": {"id": p.institution_id, "name": p.institution.name},
            "industry_code": p.industry_code,
        },
        "fee_summary": display.fee_summary(d),
        "lump_sum_wan": _amount(d.lump_sum_wan),
        "entry_fee_wan": _amount(d.entry_fee_wan),
        "royalty_sales_pct": _amount(d.royalty_sales_pct),
        "royalty_profit_pct": _amount(d.royalty_profit_pct),
        "start_date": d.start_date.isoformat(),
        "end_date": d.end_date.isoformat(),
        "co_owners_consent": d.co_owners_consent,
        "exclusive_licence_in_force": d.exclusive_licence_in_force,
        "in_fee_grace_period": d.in_fee_grace_period,
        "pledged": d.pledged,
        "pledgee_consent": d.pledgee_consent,
        "evaluation_report_no": d.evaluation_report_no,
        "terms": d.terms,
        "is_listed": permissions.is_listed(d),
        "declared_at": d.created_at.isoformat() if d.created_at else None,
        "withdrawn_at": d.withdrawn_at.isoformat() if d.withdrawn_at else None,
        "version": d.version,
        "can_withdraw": permissions.can_manage(user, p) and d.status.value == "active",
        "can_view_patent": patent_permissions.can_view(user, p),
    }
    out["fee_mode"], out["fee_mode_label"] = enum_pair(d.fee_mode)
    out["status"], out["status_label"] = enum_pair(d.status)
    return out


@bp.get("/open-licences")
@roles_required(*VIEWER_ROLES)
def list_open_licences():
    """The public list: active declarations of entered patents.

    Query: fee_mode (lump_sum | royalty | entry_plus_royalty, or the label), industry (text in
    the patent's 国民经济行业分类 / 战略性新兴产业分类), university (organization id), q (title,
    application number, patentee), sort (new | fee_asc | fee_desc; fee = lump sum or entry fee),
    page, per_page (≤ 100).
    Output: {items: [declaration as GET], _meta: {page, per_page, total_pages, total_items}}.
    """
    filters = queries.parse_filters(request.args)
    per_page = requested_per_page()
    page = queries.list_page(filters, per_page)
    return paginated(page, lambda d: declaration_json(d, current_user))


@bp.get("/open-licences/<int:declaration_id>")
@roles_required(*VIEWER_ROLES)
def get_open_licence(declaration_id: int):
    """One declaration. Listed ones are public; a withdrawn one (or one whose patent left the
    pool) only for those who may see the patent — 404 for others."""
    declaration = services.get_declaration_for(current_user, declaration_id)
    return jsonify(declaration_json(declaration, current_user))


@bp.post("/open-licences")
@roles_required(*DECLARER_ROLES)
def declare_open_licence():
    """Declare an open licence. Header: X-CSRFToken.

    Body: {patent_id: int, fee_mode, lump_sum_wan?, entry_fee_wan?, royalty_sales_pct?,
    royalty_profit_pct? (numbers or decimal strings), start_date, end_date (YYYY-MM-DD),
    co_owners_consent?, exclusive_licence_in_force?, in_fee_grace_period?, pledged?,
    pledgee_consent? (booleans), evaluation_report_no?, terms?}.
    Output: 201 + the declaration (as GET). Errors: 422 {details: {field: message}} listing
    every violated rule (nothing is written), 403 (not the patent's admin), 404 (patent not
    visible).
    """
    data = json_body()
    unknown = sorted(set(data) - DECLARE_KEYS)
    if unknown:
        raise ValidationFailed(
            f"未知字段：{'、'.join(unknown)}", details={k: "未知字段" for k in unknown}
        )
    patent_id = optional_int(data, "patent_id")
    if patent_id is None:
        raise ValidationFailed("请指定专利 patent_id", details={"patent_id": "请指定专利"})
    declaration = services.declare(patent_id, data, actor=current_user)
    return jsonify(declaration_json(declaration, current_user)), 201


@bp.post("/open-licences/<int:declaration_id>/withdraw")
@roles_required(*DECLARER_ROLES)
def withdraw_open_licence(declaration_id: int):
    """Withdraw a declaration. Header: X-CSRFToken. Body: {version?: int, reason?: str}.
    Output: the declaration (as GET). Errors: 409 (already withdrawn / stale version), 403, 404.
    """
    data = optional_json_body()
    declaration = services.withdraw(
        declaration_id,
        actor=current_user,
        expected_version=optional_int(data, "version"),
        reason=optional_text(data, "reason") or "",
    )
    return jsonify(declaration_json(declaration, current_user))


# ---------------------------------------------------------------------------- applications

APPLY_KEYS = frozenset(applications.FIELDS)
DECIDE_KEYS = frozenset({"date", "note", "version"})
WITHDRAW_KEYS = frozenset({"reason", "version"})


def _refuse_unknown(data: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(
            f"未知字段：{'、'.join(unknown)}", details={k: "未知字段" for k in unknown}
        )


def application_json(a: LicenceApplication, user) -> dict[str, Any]:
    p = a.patent
    holder = permissions.can_manage(user, p)
    out: dict[str, Any] = {
        "id": a.id,
        "declaration_id": a.declaration_id,
        "patent": {
            "id": p.id,
            "application_no": p.application_no,
            "title": p.title,
            "institution": {"id": p.institution_id, "name": p.institution.name},
        },
        "enterprise": {"id": a.enterprise_id, "name": a.applicant_name},
        "applicant": {"id": a.applicant.id, "name": a.applicant.name} if a.applicant else None,
        "credit_code": a.credit_code,
        "contact_name": a.contact_name,
        "contact_phone": a.contact_phone,
        "contact_email": a.contact_email,
        "intended_use": a.intended_use,
        "terms_accepted": a.terms_accepted,
        "terms": a.terms or {},
        "submitted_at": iso(a.created_at),
        "confirmed_on": iso(a.confirmed_on),
        "signed_on": iso(a.signed_on),
        "withdrawn_at": iso(a.withdrawn_at),
        "holder_note": a.holder_note,
        "withdraw_reason": a.withdraw_reason,
        "version": a.version,
        "can_confirm": holder and a.status in applications.STEPS["confirm"].sources,
        "can_sign": holder and a.status in applications.STEPS["sign"].sources,
        "can_withdraw": permissions.is_applicant(user, a) and a.is_open,
    }
    out["status"], out["status_label"] = enum_pair(a.status)
    return out


@bp.post("/open-licences/<int:declaration_id>/applications")
@roles_required(*APPLICANT_ROLES)
def apply_open_licence(declaration_id: int):
    """Apply to implement a declared open licence (开放许可实施申请). Header: X-CSRFToken.

    Body: {contact_name, contact_phone, contact_email?, intended_use (≤ 2000 字),
    accept_terms: true}. The fee is the declared one (public, the same for every licensee):
    there is no amount to propose; the declared terms are stored with the application.
    Output: 201 + the application (as GET). Errors: 422 {details: {field: message}} (every
    problem), 409 (declaration withdrawn, patent out of the pool, period ended, an
    application of the enterprise already held), 403 (not an enterprise), 404.
    """
    data = json_body()
    _refuse_unknown(data, APPLY_KEYS)
    row = applications.apply(declaration_id, data, actor=current_user)
    return jsonify(application_json(row, current_user)), 201


@bp.get("/licence-applications")
@roles_required(*APPLICATION_READERS)
def list_licence_applications():
    """The applications the caller may read, newest first: an enterprise its own, a
    university (college) admin those on its patents, staff and the regulator all.

    Query: status (submitted | confirmed | signed | withdrawn), declaration_id, page,
    per_page (≤ 100). Output: {items: [application as GET], _meta}.
    """
    raw = request.args.get("status", "")
    status = next((s for s in ApplicationStatus if raw == s.value), None)
    page = queries.application_page(
        current_user,
        requested_page(),
        requested_per_page(),
        status=status,
        declaration_id=int_arg(request.args.get("declaration_id")),
    )
    return paginated(page, lambda a: application_json(a, current_user))


@bp.get("/licence-applications/<int:application_id>")
@roles_required(*APPLICATION_READERS)
def get_licence_application(application_id: int):
    """One application with the terms it accepted; 404 for those who may not read it."""
    row = permissions.get_visible_application(current_user, application_id)
    return jsonify(application_json(row, current_user))


def _decide(application_id: int, step: str):
    data = optional_json_body()
    _refuse_unknown(data, DECIDE_KEYS)
    row = applications.act(
        application_id,
        step,
        actor=current_user,
        on=data.get("date"),
        note=data.get("note"),
        expected_version=optional_int(data, "version"),
    )
    return jsonify(application_json(row, current_user))


@bp.post("/licence-applications/<int:application_id>/confirm")
@roles_required(*HOLDER_ROLES)
def confirm_licence_application(application_id: int):
    """The holder confirms the application (submitted → confirmed). Header: X-CSRFToken.
    Body: {date?: YYYY-MM-DD (default today, not in the future nor before the application),
    note?: str (≤ 500), version?: int}. Output: the application. Errors: 409, 422, 403, 404."""
    return _decide(application_id, "confirm")


@bp.post("/licence-applications/<int:application_id>/sign")
@roles_required(*HOLDER_ROLES)
def sign_licence_application(application_id: int):
    """The holder records the signed licence (submitted / confirmed → signed), with its date.
    Body and errors as confirm."""
    return _decide(application_id, "sign")


@bp.post("/licence-applications/<int:application_id>/withdraw")
@roles_required(*APPLICANT_ROLES)
def withdraw_licence_application(application_id: int):
    """The applying enterprise withdraws (submitted / confirmed → withdrawn). Header:
    X-CSRFToken. Body: {reason?: str (≤ 500), version?: int}. Errors: 409, 422, 403, 404."""
    data = optional_json_body()
    _refuse_unknown(data, WITHDRAW_KEYS)
    row = applications.act(
        application_id,
        "withdraw",
        actor=current_user,
        note=data.get("reason"),
        expected_version=optional_int(data, "version"),
    )
    return jsonify(application_json(row, current_user))
