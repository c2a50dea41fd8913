"""Open-licence JSON routes: the public list, one declaration, declare, withdraw.

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
    json_body,
    optional_int,
    optional_json_body,
    optional_text,
    paginated,
    requested_per_page,
)
from revive.errors import ValidationFailed
from revive.inventory import permissions as patent_permissions
from revive.licensing import display, permissions, queries, rules, services
from revive.licensing.models import OpenLicenceDeclaration
from revive.licensing.permissions import DECLARER_ROLES, VIEWER_ROLES

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
