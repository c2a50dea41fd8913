"""Notifications: one row per recipient organization (or user).

Read state: a notification addressed to one user is read when ``read_at`` is set. One addressed
to an organization is read for each member on their own (``NotificationRead``): a new user
found that an inventor's 全部标为已读 cleared the university admin's 请在 7 天内答复 requests.
``read_at`` on an organization's notification means read for everyone: the platform settled
it (``read_by_id`` None: what it asked for is no longer needed), or a member read it before
reads were kept per member.

E-mail: each notification is e-mailed on its own (``email_status``), except those of one bulk
action (an officer pushing many matches at once), which share an ``EmailBatch``: each person
gets one e-mail listing the notices that concern them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revive.accounts.models import Organization, User
from revive.db import UtcDateTime, utcnow
from revive.extensions import db
from revive.queue import Delivery


class Notification(Delivery, db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        sa.CheckConstraint(
            "organization_id IS NOT NULL OR user_id IS NOT NULL", name="has_recipient"
        ),
        sa.Index("ix_notifications_org_read", "organization_id", "read_at"),
        sa.Index("ix_notifications_user_read", "user_id", "read_at"),
        sa.Index("ix_notifications_email_status", "email_status"),  # the sweep: 'queued'
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE")
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(40))  # e.g. match_pushed, response_overdue
    title: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str | None] = mapped_column(sa.Text)
    link: Mapped[str | None] = mapped_column(sa.String(500))  # app-relative URL
    deal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deals.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    read_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # None: no e-mail wanted/possible; queued | sent | failed | skipped (no SMTP configured)
    email_status: Mapped[str | None] = mapped_column(sa.String(20))
    # Mailed with the other notices of one bulk action (one e-mail per person), not alone.
    email_batch_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("email_batches.id", ondelete="SET NULL"), index=True
    )

    organization: Mapped[Organization | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class EmailBatch(Delivery, db.Model):
    """The e-mail of one bulk action's notifications: one message per person, listing the
    notices (title and link each) that person would have been mailed one by one. A queued
    batch is the outbox of its task (revive.queue); its notifications keep their own inbox rows
    and get the batch's outcome as their ``email_status``."""

    __tablename__ = "email_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(300))  # what was done, e.g. 推送了专利对接
    # queued | sent | failed | skipped (no SMTP, nobody to send to)
    email_status: Mapped[str] = mapped_column(sa.String(20), default="queued")
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class NotificationRead(db.Model):
    """A member has read an organization's notification (for them alone)."""

    __tablename__ = "notification_reads"

    notification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    read_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
