"""Patent JSON routes: list/detail/create/update, workflow actions and batch actions.

Authentication is the session cookie of the web login (anonymous → 401 JSON). Writes
(POST/PATCH) need the CSRF token: send it as the ``X-CSRFToken`` header (read it from the
``<meta name="csrf-token">`` of any page). Errors: ``{"error": code, "message": "…",
"details": …}`` (revive.errors); validation details are ``{field key: Chinese message}``.
Statuses and other enums travel as their string value plus a ``*_label`` with the Chinese text.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user

from revive.accounts.models import Role
from revive.accounts.permissions import roles_required
from revive.api import bp
from revive.api.common import (
    enum_pair,
    json_body,
    optional_int,
    optional_json_body,
    optional_text,
    paginated,
    record_from,
    refuse_clearing,
    requested_per_page,
)
from revive.errors import ValidationFailed
from revive.inventory import permissions, queries, services, workflow
from revive.inventory.fields import EDITABLE_KEYS, FIELDS_BY_KEY, MODEL_KEYS, display_value
from revive.inventory.models import Patent
from revive.inventory.permissions import FILER_ROLES, INVENTORY_ROLES, REVIEWER_ROLES

ENUM_KEYS = ("patent_type", "implementation_status", "transfer_willingness")


def patent_summary(row: Any) -> dict[str, Any]:
    """A list item (one row of queries.LIST_COLUMNS)."""
    out: dict[str, Any] = {
        "id": row.id,
        "application_no": row.application_no,
        "title": row.title,
        "institution": {"id": row.institution_id, "name": row.institution_name},
        "college": {"id": row.college_id, "name": row.college_name} if row.college_id else None,
        "value_grade": row.value_grade,
        "trl": row.trl,
        "version": row.version,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }
    for key in ("status", "patent_type", "transfer_willingness"):
        out[key], out[f"{key}_label"] = enum_pair(getattr(row, key))
    return out


def patent_detail(patent: Patent, user) -> dict[str, Any]:
    """Every field by key (dates ISO, prices as strings, modes as a list) plus workflow facts."""
    out: dict[str, Any] = {"id": patent.id}
    for key in MODEL_KEYS:
        value = getattr(patent, key)
        if key in ENUM_KEYS:
            out[key], out[f"{key}_label"] = enum_pair(value)
        elif key == "transfer_modes":
            out[key] = [m.value for m in patent.modes]
            out["transfer_modes_labels"] = [m.label for m in patent.modes]
        elif key in ("trl", "value_grade") or isinstance(value, bool) or value is None:
            out[key] = value
        else:
            out[key] = display_value(key, value)
    out["institution"] = {"id": patent.institution_id, "name": patent.institution.name}
    out["college"] = (
        {"id": patent.college_id, "name": patent.college.name} if patent.college else None
    )
    out["status"], out["status_label"] = enum_pair(patent.status)
    out["version"] = patent.version
    for key in ("status_changed_at", "submitted_at", "entered_at", "created_at", "updated_at"):
        value = getattr(patent, key)
        out[key] = value.isoformat() if value else None
    out["can_edit"] = permissions.can_edit(user, patent)
    out["actions"] = [
        {"name": a.name, "label": a.label, "comment_required": a.comment_required}
        for a in workflow.available_actions(patent)
        if permissions.can_act(user, patent, a)
    ]
    return out


@bp.get("/patents")
@roles_required(*INVENTORY_ROLES)
def list_patents():
    """List patents the caller may see.

    Query: college (id | "none"), status, grade (1–5 | "none"), trl (1–9 | "none"),
    willingness (value | "none"), patent_type, legal_status (text | "none"), implementation
    (value | "none"), filed_from / filed_to / granted_from / granted_to (YYYY-MM-DD,
    inclusive), institution (id; cross-university readers), q (title/abstract substring), sort
    (updated_at | application_no | title | grade | trl), dir (asc | desc), page,
    per_page (≤ 100, default REVIVE_PAGE_SIZE).
    Output: {items: [{id, application_no, title, status, status_label, patent_type,
    patent_type_label, transfer_willingness, transfer_willingness_label, value_grade, trl,
    institution{id, name}, college{id, name}|null, version, updated_at}],
    _meta: {page, per_page, total_pages, total_items}}.
    """
    filters = queries.parse_filters(request.args, current_user)
    per_page = requested_per_page()
    page = queries.list_page(current_user, filters, per_page)
    return paginated(page, patent_summary)


@bp.get("/patents/<int:patent_id>")
@roles_required(*INVENTORY_ROLES)
def get_patent(patent_id: int):
    """One patent. Output: every field by key + status/status_label, version, institution,
    college, timestamps, can_edit, actions [{name, label, comment_required}] the caller may
    perform. 404 for patents outside the caller's scope.
    """
    patent = services.get_patent_for(current_user, patent_id)
    return jsonify(patent_detail(patent, current_user))


@bp.post("/patents")
@roles_required(*FILER_ROLES)
def create_patent():
    """Create a patent (草稿). Header: X-CSRFToken.

    Body: {field key: value, …} — the keys of the import template (application_no and title
    required; transfer_modes may be a list); platform admins add institution_id.
    Output: 201 + the patent (as GET). Errors: 422 {details: {field key: message}}, 403.
    """
    data = json_body()
    record = record_from(data, EDITABLE_KEYS, frozenset({"institution_id"}))
    if current_user.role == Role.PLATFORM_ADMIN:
        institution_id = optional_int(data, "institution_id")
        if institution_id is None:
            raise ValidationFailed(
                "请指定 institution_id", details={"institution_id": "请指定所属单位"}
            )
    else:
        institution_id = current_user.organization_id
    patent = services.create_patent(record, institution_id=institution_id, actor=current_user)
    return jsonify(patent_detail(patent, current_user)), 201


@bp.patch("/patents/<int:patent_id>")
@roles_required(*FILER_ROLES)
def update_patent(patent_id: int):
    """Change some fields. Header: X-CSRFToken.

    Body: {field key: value, …, version?: int}. Only the keys sent are changed (an empty
    string or null clears a field). With ``version`` (from GET) a concurrent change answers
    409 {"error": "conflict"} instead of being overwritten. ``college`` follows the college
    rule (inventory.permissions.college_change_refusal): a change the caller may not make is
    a 403 with the reason; a new college while 待学校审核 sends it back to 待学院审核.
    Output: the patent (as GET). Errors: 422, 403, 404, 409.
    """
    data = json_body()
    record = record_from(data, EDITABLE_KEYS, frozenset({"version"}))
    refuse_clearing(record, Patent, FIELDS_BY_KEY)
    patent = services.update_patent(
        patent_id, record, actor=current_user, expected_version=optional_int(data, "version")
    )
    return jsonify(patent_detail(patent, current_user))


@bp.post("/patents/<int:patent_id>/actions/<action>")
@roles_required(*FILER_ROLES)
def patent_action(patent_id: int, action: str):
    """Workflow action (submit, college_approve, college_return, enter, school_return,
    not_enter, abandon, reopen). Header: X-CSRFToken.

    Body (optional): {comment: str (required for returns/refusals), version?: int}.
    Output: the patent (as GET). Errors: 409 invalid_transition / conflict, 422 (comment
    missing, self-assessment incomplete), 403, 404.
    """
    data = optional_json_body()
    patent = services.perform_action(
        patent_id,
        action,
        actor=current_user,
        comment=optional_text(data, "comment"),
        expected_version=optional_int(data, "version"),
    )
    return jsonify(patent_detail(patent, current_user))


@bp.post("/patents/batch-actions")
@roles_required(*REVIEWER_ROLES)
def batch_actions():
    """Apply one review action to many patents (reviewers). Header: X-CSRFToken.

    Body: {ids: [int] (≤ 500), action: str, comment?: str}.
    Output: {done: [id], refused: [{id, reason}], message: "已处理 N 条，M 条未处理：…"}.
    Patents that cannot take the action (state, scope) are refused one by one; the rest
    commit. Errors: 422 (non-batch action, comment missing), 409 unknown action.
    """
    data = json_body()
    result = services.perform_batch(
        data.get("ids"),
        optional_text(data, "action") or "",
        actor=current_user,
        comment=optional_text(data, "comment"),
    )
    return jsonify(
        done=result.done,
        refused=[{"id": pid, "reason": reason} for pid, reason in result.refused],
        message=result.summary,
    )
