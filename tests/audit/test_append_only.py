"""Audit events cannot be changed: not through any route, not through the ORM, and not in the
database (the migrations' triggers, on the dialect in use), with no exception: an event is
dated by the clock when it is written (how the demo seed dates its story), never afterwards."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from revive import clock
from revive.accounts.models import Role
from revive.audit import services as audit
from revive.audit.guard import AuditImmutable
from revive.audit.models import AuditEvent
from revive.extensions import db
from tests.factories import make_user

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"
# The triggers as the migrations chain them: installed, then made unconditional.
MIGRATIONS = tuple(
    next(VERSIONS.glob(pattern))
    for pattern in ("*_audit_events_append_only.py", "*_audit_log_no_back_door.py")
)


@pytest.fixture
def event(app) -> AuditEvent:
    e = audit.record("patent", 1, "submit", None, organization_id=7, from_status="draft")
    db.session.commit()
    return e


def _stored() -> list[tuple]:
    db.session.rollback()
    return db.session.execute(
        sa.select(AuditEvent.id, AuditEvent.action, AuditEvent.data, AuditEvent.created_at)
    ).all()


# ---------------------------------------------------------------------------- routes


def test_no_method_on_any_audit_url_changes_an_event(app, client, auth, event):
    auth.login(make_user(Role.PLATFORM_ADMIN))
    before = _stored()
    urls = [r.rule for r in app.url_map.iter_rules() if "audit" in r.rule]
    assert "/audit/" in urls and "/audit/export.xlsx" in urls
    for url in [*urls, f"/audit/{event.id}", f"/api/v1/audit/{event.id}"]:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            resp = client.open(url, method=method, data={"action": "x"})
            assert resp.status_code in (404, 405), (method, url, resp.status_code)
    assert _stored() == before


# ---------------------------------------------------------------------------- ORM


def test_the_orm_refuses_to_flush_a_changed_or_deleted_event(event):
    event.action = "approve"
    with pytest.raises(AuditImmutable):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(AuditImmutable):
        db.session.commit()
    assert [row.action for row in _stored()] == ["submit"]


@pytest.mark.parametrize(
    "statement",
    [
        sa.update(AuditEvent).values(action="approve"),
        sa.delete(AuditEvent),
        sa.update(AuditEvent).where(AuditEvent.id > 0).values(data={}),
    ],
    ids=["update", "delete", "update-where"],
)
def test_the_orm_refuses_bulk_statements(event, statement):
    with pytest.raises(AuditImmutable):
        db.session.execute(statement)
    assert [row.action for row in _stored()] == ["submit"]


def test_an_event_is_dated_by_the_clock_when_it_is_written(app):
    """How the demo seed dates its story: the clock is held while the services write."""
    when = datetime(2025, 3, 1, 8, tzinfo=UTC)
    with clock.held_at(when):
        audit.record("patent", 1, "submit", None)
    db.session.commit()
    (row,) = _stored()
    assert clock.as_utc(row.created_at) == when


# ---------------------------------------------------------------------------- database


def _migration(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(step: str) -> None:
    """Run the migrations' upgrades (in order) or downgrades (in reverse) on the test database
    (made by create_all)."""
    db.session.rollback()
    paths = MIGRATIONS if step == "upgrade" else reversed(MIGRATIONS)
    with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        for path in paths:
            getattr(_migration(path), step)()


@pytest.fixture
def triggers(event):
    _run("upgrade")
    try:
        yield event
    finally:
        _run("downgrade")  # before the suite's cleanup empties the tables


def _refused(sql: str) -> str:
    with pytest.raises(sa.exc.DBAPIError) as info:
        db.session.execute(sa.text(sql))
    db.session.rollback()
    return str(info.value)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_events SET action = 'approve'",
        "UPDATE audit_events SET created_at = created_at",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_update_and_delete(triggers, sql):
    before = _stored()
    assert "append-only" in _refused(sql)
    assert _stored() == before


def test_the_database_refuses_truncate_on_postgresql(triggers):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    assert "append-only" in _refused("TRUNCATE audit_events")
    assert len(_stored()) == 1


def test_the_database_still_accepts_new_events(triggers):
    audit.record("demand", 2, "create", None)
    db.session.commit()
    assert [row.action for row in _stored()] == ["submit", "create"]


def test_the_old_rewrite_switch_opens_nothing(triggers):
    """The demo's former back door (a transaction-local setting on PostgreSQL, a connection
    function on SQLite) no longer lets an UPDATE through."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.set_config("revive.audit_rewrite", "on", True)))
    else:
        dbapi = db.session.connection().connection.dbapi_connection
        dbapi.create_function("revive_audit_rewrite", 0, lambda: 1)
    before = _stored_in_transaction()
    with pytest.raises(sa.exc.DBAPIError) as info:
        db.session.execute(sa.text("UPDATE audit_events SET created_at = created_at"))
    assert "append-only" in str(info.value)
    db.session.rollback()
    assert _stored() == before


def _stored_in_transaction() -> list[tuple]:
    return db.session.execute(
        sa.select(AuditEvent.id, AuditEvent.action, AuditEvent.data, AuditEvent.created_at)
    ).all()
