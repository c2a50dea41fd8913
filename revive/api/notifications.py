"""JSON API: the inbox — the caller's notifications (user + organization), marking read.

The contract of each route is its schemas below (flask-smorest, revive/api/schema.py).
"""

from __future__ import annotations

from flask import request
from flask_login import current_user, login_required
from marshmallow import fields

from revive.api.blueprint import bp
from revive.api.common import requested_page, requested_per_page
from revive.api.schema import PAGING, IsoDateTime, Query, Schema, page_schema, paged, q
from revive.notifications import queries, services

TAG = "通知"

Notification = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        "kind": fields.String(required=True),
        "title": fields.String(required=True),
        "body": fields.String(required=True, allow_none=True),
        "link": fields.String(required=True, allow_none=True),
        "deal_id": fields.Integer(required=True, allow_none=True),
        "to_organization": fields.Function(
            lambda n: n.organization_id is not None,
            required=True,
            metadata={"json_schema": {"type": "boolean"}},
        ),
        "created_at": IsoDateTime(required=True),
        # for the caller: an organization's notification is read per member
        "read": fields.Function(
            lambda n: n.seen_at is not None,
            required=True,
            metadata={"json_schema": {"type": "boolean"}},
        ),
        "read_at": IsoDateTime(required=True, attribute="seen_at"),
        "email_status": fields.String(required=True, allow_none=True),
    },
    name="Notification",
)
NotificationPage = page_schema(
    "NotificationPage", Notification, unread=fields.Integer(required=True)
)
NotificationQuery = Query.from_dict(
    {"unread": q({"type": "string", "enum": ["1", "true"]}), **PAGING}, name="NotificationQuery"
)
Marked = Schema.from_dict({"marked": fields.Integer(required=True)}, name="Marked")
_READ_ERRORS = {"x-errors": [401, 403]}


@bp.get("/notifications")
@login_required
@bp.arguments(NotificationQuery, location="query", as_kwargs=True)
@bp.response(200, NotificationPage)
@bp.doc(summary="我的通知（未读在前）", tags=[TAG])
def list_notifications(**query):
    """The caller's notifications, unread first."""
    page = queries.inbox_page(
        current_user,
        requested_page(),
        requested_per_page(),
        unread_only=request.args.get("unread") in {"1", "true"},
    )
    queries.with_reads(current_user, page.items)
    return paged(page, unread=queries.unread_count(current_user))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
@bp.response(200, Notification)
@bp.doc(summary="标记一条通知已读", tags=[TAG], **_READ_ERRORS)
def read_notification(notification_id: int):
    """Mark one notification read (for the caller)."""
    return queries.with_reads(current_user, [services.mark_read(notification_id, current_user)])[0]


@bp.post("/notifications/read-all")
@login_required
@bp.response(200, Marked)
@bp.doc(summary="全部标记已读", tags=[TAG], **_READ_ERRORS)
def read_all_notifications():
    """Mark every unread notification of the caller read."""
    return {"marked": services.mark_all_read(current_user)}
