"""Audit events: written by services in the same transaction as the change; never edited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revive.accounts.models import User
from revive.db import UtcDateTime, utcnow
from revive.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(sa.String(30))  # patent, demand, match, deal…
    entity_id: Mapped[int] = mapped_column(sa.Integer)
    action: Mapped[str] = mapped_column(sa.String(40))  # e.g. accept, reject, stage, create
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    organization_id: Mapped[int | None] = mapped_column(sa.Integer)  # owning org, for scoping
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()
