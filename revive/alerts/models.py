"""Alert records: which (demand, patent) pairs were alerted, who wants which alert, when each
user last looked at a queue (and at which items on their own pages), and the daily digest
e-mails."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revive.accounts.models import User
from revive.db import LabeledEnum, UtcDateTime, enum_column, utcnow
from revive.demands.models import Demand
from revive.extensions import db
from revive.inventory.models import Patent
from revive.matching.models import MatchTier
from revive.queue import Delivery


class AlertKind(LabeledEnum):
    """A kind of alert a user may turn off (the unsubscribe link names one)."""

    MATCHES = ("matches", "新专利匹配提醒")  # new entered patents fitting open demands
    QUEUE = ("queue", "新需求与对接申请提醒")  # officers: new demands and intents


class MatchAlert(db.Model):
    """One (demand, patent) pair an alert was raised for: a newly entered patent the engine
    proposed to an open demand at or above the alert tier. Unique per pair, so a pair that
    leaves the candidates and comes back (a later run, a refit) is never alerted twice."""

    __tablename__ = "match_alerts"
    __table_args__ = (
        sa.UniqueConstraint("demand_id", "patent_id", name="uq_match_alerts_demand_patent"),
        sa.Index("ix_match_alerts_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(sa.ForeignKey("demands.id", ondelete="CASCADE"))
    patent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patents.id", ondelete="CASCADE"), index=True
    )
    match_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("matches.id", ondelete="SET NULL"), index=True
    )
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("match_runs.id", ondelete="SET NULL"))
    tier: Mapped[MatchTier] = mapped_column(enum_column(MatchTier, "match_alert_tier"))
    strength: Mapped[float | None] = mapped_column(sa.Float)
    # The demand's 订阅新专利提醒 when the alert was raised: the enterprise's inbox was told.
    enterprise_told: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    demand: Mapped[Demand] = relationship()
    patent: Mapped[Patent] = relationship()


class AlertPreference(db.Model):
    """A user's choice for one alert kind; no row = subscribed (alerts are on by default)."""

    __tablename__ = "alert_preferences"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[AlertKind] = mapped_column(enum_column(AlertKind, "alert_kind"), primary_key=True)
    is_subscribed: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class QueueSeen(db.Model):
    """When a user last opened a queue (the menu counts what arrived since)."""

    __tablename__ = "queue_seen"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    queue: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SeenItem(db.Model):
    """One thing a user has looked at on its own page, and when: a demand an officer opened
    (its page or its matches), an intent an officer opened (its match page), an enterprise's
    own demand whose suggestions it opened. The menu's "new" counts leave out what was seen
    here after it arrived, as they leave out what arrived before the queue was last opened
    (QueueSeen). One row per (user, kind, item), rewritten on every visit."""

    __tablename__ = "seen_items"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    item_id: Mapped[int] = mapped_column(primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class AlertDigest(Delivery, db.Model):
    """One alert e-mail: at most one per user and local day. The text is written when the
    digest is made (the beat task); the worker adds the greeting and the unsubscribe links of
    ``kinds`` when it sends it. A queued digest is the outbox of its e-mail (revive.queue)."""

    __tablename__ = "alert_digests"
    __table_args__ = (sa.UniqueConstraint("user_id", "day", name="uq_alert_digests_user_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(sa.Date)  # local day
    since_at: Mapped[datetime] = mapped_column(UtcDateTime())
    until_at: Mapped[datetime] = mapped_column(UtcDateTime())
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    kinds: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    counts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # queued | sent | failed | skipped (no SMTP, no address, the user inactive)
    email_status: Mapped[str] = mapped_column(sa.String(20), default="queued")
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    user: Mapped[User] = relationship()
