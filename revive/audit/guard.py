"""Audit events are append-only, enforced twice below the routes (none of which writes):

- in the ORM: flushing a changed or deleted AuditEvent, or an ORM UPDATE/DELETE statement on
  it, raises AuditImmutable (before any SQL is sent);
- in the database: triggers installed by the migration ``audit_events_append_only`` refuse
  UPDATE, DELETE and (PostgreSQL) TRUNCATE of ``audit_events``, whoever connects.

The one sanctioned exception is re-dating rows the demo seed itself just wrote (its story
spans months, the services stamp "now"): inside ``rewrite_allowed()`` an UPDATE passes both
guards; a DELETE never does. It is reachable only from code, never from a request.
On PostgreSQL the permission is a transaction-local setting (``revive.audit_rewrite``); on
SQLite the triggers ask the connection function ``revive_audit_rewrite()``, registered here on
every SQLite connection the app opens (another client lacks it, so its UPDATE fails too).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session

from revive.audit.models import AuditEvent
from revive.errors import PermissionDenied

REWRITE_SETTING = "revive.audit_rewrite"
SQLITE_FUNCTION = "revive_audit_rewrite"
_rewrite: ContextVar[bool] = ContextVar("audit_rewrite", default=False)


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
    if mapper is None or not issubclass(mapper.class_, AuditEvent):
        return
    if state.is_update and _rewrite.get():
        return
    raise AuditImmutable()


@event.listens_for(Engine, "connect")
def _register_sqlite_function(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(
            SQLITE_FUNCTION, 0, lambda: int(_rewrite.get()), deterministic=False
        )


@contextlib.contextmanager
def rewrite_allowed(session: Session) -> Iterator[None]:
    """Let UPDATEs of audit events through for the block (the demo's re-dating only).
    On PostgreSQL the permission also ends with the transaction."""
    postgres = session.get_bind().dialect.name == "postgresql"
    token = _rewrite.set(True)
    try:
        if postgres:
            session.execute(sa.select(sa.func.set_config(REWRITE_SETTING, "on", True)))
        yield
    finally:
        _rewrite.reset(token)
        if postgres:
            with contextlib.suppress(sa.exc.DBAPIError):  # an aborted transaction ends it anyway
                session.execute(sa.select(sa.func.set_config(REWRITE_SETTING, "off", True)))
