"""Enterprise demand JSON routes: list/detail/post/update/close.

Authentication is the web login's session cookie (anonymous → 401 JSON). Writes need the CSRF
token in the ``X-CSRFToken`` header. Errors: ``{"error": code, "message": "…", "details": …}``
(revive.errors); validation details are ``{field key: Chinese message}``. Enums travel as their
string value plus a ``*_label``. Contact fields are present only for readers allowed to see them
(the owner enterprise, officers, the platform admin).
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
    optional_text,
    paginated,
    record_from,
    refuse_clearing,
    requested_per_page,
)
from revive.demands import permissions, queries, services
from revive.demands.fields import EDITABLE_KEYS, FIELDS_BY_KEY, display_value, modes_of
from revive.demands.models import Demand
from revive.demands.permissions import DEMAND_ROLES, MANAGER_ROLES, POSTER_ROLES

ENUM_KEYS = ("demand_type", "visibility", "source")
CONTACT_KEYS = ("contact_name", "contact_phone", "contact_email")


def demand_json(d: Demand, user, *, full: bool = True) -> dict[str, Any]:
    """A demand; ``full=False`` for list items (no description or contacts)."""
    out: dict[str, Any] = {
        "id": d.id,
        "title": d.title,
        "enterprise": {"id": d.enterprise_id, "name": d.enterprise.name},
        "industry": d.industry,
        "region": d.region,
        "expected_trl": d.expected_trl,
        "budget": display_value("budget", d.budget) or None,
        "deadline": d.deadline.isoformat() if d.deadline else None,
        "version": d.version,
        "created_at": d.created_at.isoformat() if d.created_at else None,
        "updated_at": d.updated_at.isoformat() if d.updated_at else None,
    }
    out["status"], out["status_label"] = enum_pair(d.status)
    for key in ENUM_KEYS:
        out[key], out[f"{key}_label"] = enum_pair(getattr(d, key))
    out["cooperation_modes"] = [m.value for m in modes_of(d.cooperation_modes)]
    out["cooperation_modes_labels"] = [m.label for m in modes_of(d.cooperation_modes)]
    if not full:
        return out
    out["description"] = d.description
    out["target_specs"] = d.target_specs
    if permissions.can_see_contact(user, d):
        for key in CONTACT_KEYS:
            out[key] = getattr(d, key)
    out["closed_at"] = d.closed_at.isoformat() if d.closed_at else None
    out["close_reason"] = d.close_reason
    out["alert_subscribed"] = d.alert_subscribed
    out["can_edit"] = permissions.can_edit(user, d)
    return out


@bp.get("/demands")
@roles_required(*DEMAND_ROLES)
def list_demands():
    """List the demands the caller may see (newest first).

    Query: status (open | closed), type (demand type value), industry, region, q (text in
    title/description/specs), page, per_page (≤ 100).
    Output: {items: [{id, title, enterprise{id, name}, status, status_label, demand_type, …,
    cooperation_modes [values], deadline, version, created_at}], _meta: {page, per_page,
    total_pages, total_items}}.
    """
    filters = queries.parse_filters(request.args)
    per_page = requested_per_page()
    page = queries.list_page(current_user, filters, per_page)
    return paginated(page, lambda d: demand_json(d, current_user, full=False))


@bp.get("/demands/<int:demand_id>")
@roles_required(*DEMAND_ROLES)
def get_demand(demand_id: int):
    """One demand: every field by key, status, version, can_edit; contact_* only for the owner,
    officers and the platform admin. 404 for demands outside the caller's view."""
    return jsonify(demand_json(services.get_demand_for(current_user, demand_id), current_user))


@bp.post("/demands")
@roles_required(*POSTER_ROLES)
def post_demand():
    """Post a demand. Header: X-CSRFToken.

    Body: {field key: value, …} (title, description required; cooperation_modes may be a
    list; deadline not in the past). Officers and the platform admin add enterprise_id.
    Output: 201 + the demand (as GET). Errors: 422 {details: {field key: message}}, 403.
    """
    data = json_body()
    record = record_from(data, EDITABLE_KEYS, frozenset({"enterprise_id"}))
    enterprise_id = (
        optional_int(data, "enterprise_id") if current_user.role in MANAGER_ROLES else None
    )
    demand = services.post_demand(record, actor=current_user, enterprise_id=enterprise_id)
    return jsonify(demand_json(demand, current_user)), 201


@bp.post("/demands/<int:demand_id>/alerts")
@roles_required(*POSTER_ROLES)
def set_demand_alerts(demand_id: int):
    """订阅新专利提醒 on or off. Header: X-CSRFToken. Body: {subscribed: bool}.
    Output: the demand (as GET). Errors: 422 (not a boolean), 409 (closed), 403, 404."""
    data = json_body()
    demand = services.set_alerts(demand_id, data.get("subscribed"), actor=current_user)
    return jsonify(demand_json(demand, current_user))


@bp.patch("/demands/<int:demand_id>")
@roles_required(*POSTER_ROLES)
def update_demand(demand_id: int):
    """Change some fields. Header: X-CSRFToken.

    Body: {field key: value, …, version?: int}; only the keys sent change. With ``version`` a
    concurrent change answers 409 {"error": "conflict"}. Errors: 422, 403, 404, 409 (closed).
    """
    data = json_body()
    record = record_from(data, EDITABLE_KEYS, frozenset({"version"}))
    refuse_clearing(record, Demand, FIELDS_BY_KEY)
    demand = services.update_demand(
        demand_id, record, actor=current_user, expected_version=optional_int(data, "version")
    )
    return jsonify(demand_json(demand, current_user))


@bp.post("/demands/<int:demand_id>/close")
@roles_required(*POSTER_ROLES)
def close_demand(demand_id: int):
    """Close a demand. Header: X-CSRFToken. Body: {reason: str (required), version?: int}.
    Output: the demand (as GET). Errors: 422 (reason missing), 409 (already closed / stale),
    403, 404."""
    data = json_body()
    demand = services.close_demand(
        demand_id,
        actor=current_user,
        reason=optional_text(data, "reason") or "",
        expected_version=optional_int(data, "version"),
    )
    return jsonify(demand_json(demand, current_user))
