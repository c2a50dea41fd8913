"""Inbox reads (no writes): which notifications a user sees, unread counts.

A user sees notifications addressed to them and to their organization; an organization's
notification about a deal is shown only to members who may see that deal (an inventor does not
get the college next door's deals), so a link in the inbox never leads to a 404 (the rule is
deals', handed over through ``revive.notifications.scope``).
"""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import User
from revive.errors import NotFoundError
from revive.extensions import db
from revive.notifications import scope
from revive.notifications.models import Notification, NotificationRead
from revive.pagination import Page, paginate


def inbox_clause(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause: the notifications ``user`` may see."""
    if not user.is_authenticated:
        return sa.false()
    mine = Notification.user_id == user.id
    if user.organization_id is None:
        return mine
    visible_deals = scope.deals().visible_ids(user)
    org = sa.and_(
        Notification.organization_id == user.organization_id,
        sa.or_(Notification.deal_id.is_(None), Notification.deal_id.in_(visible_deals)),
    )
    return sa.or_(mine, org)


def read_clause(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause: ``user`` has read the notification — ``read_at`` on the row (addressed to
    them, settled by the platform, or read by a member before reads were per member), or their
    own read of an organization's notification (models.NotificationRead)."""
    own = sa.exists().where(
        NotificationRead.notification_id == Notification.id,
        NotificationRead.user_id == user.id,
    )
    return sa.or_(Notification.read_at.is_not(None), own)


def with_reads(user: User, rows: list[Notification]) -> list[Notification]:
    """``rows`` with ``seen_at`` set on each: when ``user`` read it (the row's ``read_at``, or
    their own read of an organization's notification), None while unread. One query."""
    own = (
        dict(
            db.session.execute(
                sa.select(NotificationRead.notification_id, NotificationRead.read_at).where(
                    NotificationRead.user_id == user.id,
                    NotificationRead.notification_id.in_([n.id for n in rows if n.read_at is None]),
                )
            ).all()
        )
        if rows
        else {}
    )
    for n in rows:
        n.seen_at = n.read_at or own.get(n.id)
    return rows


def unread_count(user: User) -> int:
    if not user.is_authenticated:
        return 0
    return (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(inbox_clause(user), ~read_clause(user))
        )
        or 0
    )


def inbox_page(user: User, page: int, per_page: int, unread_only: bool = False) -> Page:
    """Unread first, then newest first."""
    clauses = [inbox_clause(user)]
    if unread_only:
        clauses.append(~read_clause(user))
    stmt = (
        sa.select(Notification)
        .where(*clauses)
        .order_by(
            sa.case((read_clause(user), 1), else_=0),
            Notification.created_at.desc(),
            Notification.id.desc(),
        )
    )
    count = sa.select(sa.func.count(Notification.id)).where(*clauses)
    return paginate(stmt, count, page, per_page)


def get_for(user: User, notification_id: int) -> Notification:
    """A notification the user may see; 404 otherwise."""
    row = db.session.scalar(
        sa.select(Notification).where(Notification.id == notification_id, inbox_clause(user))
    )
    if row is None:
        raise NotFoundError("通知不存在或您无权查看")
    return row
