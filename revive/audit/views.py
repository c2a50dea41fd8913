"""The audit log (read-only: no route edits or deletes an event) and its .xlsx export."""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from revive.accounts.permissions import roles_required
from revive.audit import queries
from revive.audit.labels import action_label, any_label
from revive.audit.queries import AUDIT_ROLES, ENTITY_LABELS
from revive.web import send_table

bp = Blueprint("audit", __name__, url_prefix="/audit")

HEADER = ["编号", "时间", "对象", "对象编号", "操作", "操作人", "所属机构编号", "详情"]


def _detail(data: dict | None) -> str:
    return json.dumps(data or {}, ensure_ascii=False, sort_keys=True)


@bp.get("/")
@roles_required(*AUDIT_ROLES)
def log():
    filters = queries.parse_filters(request.args)
    per_page = int(current_app.config.get("REVIVE_PAGE_SIZE", 50))
    return render_template(
        "audit/log.html",
        page=queries.page(current_user, filters, per_page),
        filters=filters,
        actions=queries.actions(current_user),
        entity_labels=ENTITY_LABELS,
        action_label=action_label,
        any_label=any_label,
        detail=_detail,
    )


@bp.get("/export.xlsx")
@roles_required(*AUDIT_ROLES)
def export():
    filters = queries.parse_filters(request.args)
    rows = (
        [
            e.id,
            e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            ENTITY_LABELS.get(e.entity, e.entity),
            e.entity_id,
            action_label(e.entity, e.action),
            e.actor.name if e.actor else "",
            e.organization_id or "",
            _detail(e.data),
        ]
        for e in queries.export_rows(current_user, filters)
    )
    return send_table(
        HEADER, rows, f"revive-audit-{date.today():%Y%m%d}.xlsx", sheet_title="审计日志"
    )
