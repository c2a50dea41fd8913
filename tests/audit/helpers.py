"""Audit test helpers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from revive.audit.models import AuditEvent
from revive.extensions import db


def events(**where: Any) -> list[AuditEvent]:
    """The audit events whose columns equal ``where`` (entity=, entity_id=, action=…), oldest
    first."""
    return list(
        db.session.scalars(sa.select(AuditEvent).filter_by(**where).order_by(AuditEvent.id))
    )
