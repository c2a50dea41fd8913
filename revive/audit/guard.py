"""Audit events are append-only, enforced twice below the routes (none of which writes):

- in the ORM: flushing a changed or deleted AuditEvent, or an ORM UPDATE/DELETE statement on
  it, raises AuditImmutable (before any SQL is sent);
- in the database: triggers (migrations ``audit_events_append_only`` and
  ``audit_log_no_back_door``) refuse UPDATE, DELETE and (PostgreSQL) TRUNCATE of
  ``audit_events``, whoever connects.

There is no exception, not even for the demo seed: it dates its story by holding the clock at
each step's moment while the services write (``revive.clock.held_at``; an event's
``created_at`` is ``revive.clock.utcnow()``), so nothing is ever re-dated.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from revive.audit.models import AuditEvent
from revive.errors import PermissionDenied


class AuditImmutable(PermissionDenied):
    default_message = "审计日志只能追加，不能修改或删除"


def _refuse(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    raise AuditImmutable(f"审计日志只能追加，不能修改或删除（记录 #{target.id}）")


event.listen(AuditEvent, "before_update", _refuse)
event.listen(AuditEvent, "before_delete", _refuse)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk(state: ORMExecuteState) -> None:
    """``session.execute(update(AuditEvent)…)`` / ``delete(AuditEvent)`` bypass the flush."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, AuditEvent):
        raise AuditImmutable()
