"""record(): add an audit event to the current session (committed with the change itself).
record_many(): the same for many events in one INSERT (imports of thousands of rows).

An event is dated by ``revive.clock.utcnow()`` when it is recorded: the demo seed holds the
clock at its story's moments (``clock.held_at``) while the services record, so the append-only
log is never re-dated (revive.audit.guard)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from revive.audit.models import AuditEvent
from revive.db import utcnow
from revive.extensions import db


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def record(
    entity: str,
    entity_id: int,
    action: str,
    actor: Any = None,
    organization_id: int | None = None,
    **data: Any,
) -> AuditEvent:
    event = AuditEvent(
        entity=entity,
        entity_id=entity_id,
        action=action,
        actor_id=getattr(actor, "id", None),
        organization_id=organization_id,
        data=_clean(data),
        created_at=utcnow(),  # the clock when the action is recorded, not when it is flushed
    )
    db.session.add(event)
    return event


def record_many(
    entity: str,
    events: Iterable[tuple[int, str, dict[str, Any]]],
    actor: Any = None,
    organization_id: int | None = None,
) -> int:
    """Insert one event per (entity_id, action, data) in the session's transaction (one
    executemany, no ORM objects). Returns the number written."""
    now, actor_id = utcnow(), getattr(actor, "id", None)
    rows = [
        {
            "entity": entity,
            "entity_id": entity_id,
            "action": action,
            "actor_id": actor_id,
            "organization_id": organization_id,
            "data": _clean(data),
            "created_at": now,
        }
        for entity_id, action, data in events
    ]
    if rows:
        db.session.execute(AuditEvent.__table__.insert(), rows)
    return len(rows)
