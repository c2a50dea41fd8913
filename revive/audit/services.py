"""record(): add an audit event to the current session (committed with the change itself)."""

from __future__ import annotations

from typing import Any

from revive.audit.models import AuditEvent
from revive.extensions import db


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
        data={k: v for k, v in data.items() if v is not None},
    )
    db.session.add(event)
    return event
