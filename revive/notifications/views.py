"""The inbox (blueprint "notifications"): notifications for the user and their organization,
unread first; mark one or all read; open one (marks it read, then follows its link).

``inbox_unread_count()`` is a template global (0 for anonymous visitors) for the nav badge.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from revive.notifications import queries, services
from revive.web import int_arg

bp = Blueprint("notifications", __name__, url_prefix="/inbox")


def _safe_link(link: str | None) -> str:
    """Only app-relative links are followed (a stored link never sends users off-site)."""
    if link and link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return url_for("notifications.inbox")


@bp.get("/")
@login_required
def inbox():
    unread_only = request.args.get("unread") in {"1", "true", "on"}
    page = queries.inbox_page(
        current_user,
        int_arg(request.args.get("page"), 1),
        int(current_app.config["REVIVE_PAGE_SIZE"]),
        unread_only=unread_only,
    )
    queries.with_reads(current_user, page.items)
    return render_template(
        "notifications/inbox.html",
        page=page,
        unread_only=unread_only,
    )


@bp.post("/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    services.mark_read(notification_id, current_user)
    return redirect(url_for("notifications.inbox"))


@bp.post("/<int:notification_id>/open")
@login_required
def open_notification(notification_id: int):
    row = services.mark_read(notification_id, current_user)
    return redirect(_safe_link(row.link))


@bp.post("/read-all")
@login_required
def mark_all_read():
    n = services.mark_all_read(current_user)
    flash(f"已将 {n} 条通知标为已读" if n else "没有未读通知", "success")
    return redirect(url_for("notifications.inbox"))


def inbox_unread_count() -> int:
    return queries.unread_count(current_user) if current_user.is_authenticated else 0


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"inbox_unread_count": inbox_unread_count}
