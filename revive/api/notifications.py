"""JSON API: the inbox — the caller's notifications (user + organization), marking read."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user, login_required

from revive.api import bp
from revive.api.common import iso, paginated, requested_page, requested_per_page
from revive.notifications import queries, services
from revive.notifications.models import Notification


def notification_json(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "link": n.link,
        "deal_id": n.deal_id,
        "to_organization": n.organization_id is not None,
        "created_at": iso(n.created_at),
        "read": n.read_at is not None,
        "read_at": iso(n.read_at),
        "email_status": n.email_status,
    }


@bp.get("/notifications")
@login_required
def list_notifications():
    """The caller's notifications, unread first. Query: unread=1, page, per_page.
    Output: {items: [notification…], _meta: {page, per_page, total_pages, total_items,
    unread}}."""
    page = queries.inbox_page(
        current_user,
        requested_page(),
        requested_per_page(),
        unread_only=request.args.get("unread") in {"1", "true"},
    )
    return paginated(page, notification_json, unread=queries.unread_count(current_user))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read_notification(notification_id: int):
    """Mark one notification read. Output: the notification."""
    return jsonify(notification_json(services.mark_read(notification_id, current_user)))


@bp.post("/notifications/read-all")
@login_required
def read_all_notifications():
    """Mark every unread notification of the caller read. Output: {marked: n}."""
    return jsonify(marked=services.mark_all_read(current_user))
