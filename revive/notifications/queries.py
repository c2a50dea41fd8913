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
from revive.notifications.models import Notification
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


def unread_count(user: User) -> int:
    if not user.is_authenticated:
        return 0
    return (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                inbox_clause(user), Notification.read_at.is_(None)
            )
        )
        or 0
    )


def inbox_page(user: User, page: int, per_page: int, unread_only: bool = False) -> Page:
    """Unread first, then newest first."""
    clauses = [inbox_clause(user)]
    if unread_only:
        clauses.append(Notification.read_at.is_(None))
    stmt = (
        sa.select(Notification)
        .where(*clauses)
        .order_by(
            sa.case((Notification.read_at.is_(None), 0), else_=1),
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
