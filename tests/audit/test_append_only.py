"""Audit events cannot be changed: not through any route, not through the ORM, and not in the
database (the migration's triggers, on the dialect in use), except the demo's re-dating."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from revive.accounts.models import Role
from revive.audit import services as audit
from revive.audit.guard import AuditImmutable, rewrite_allowed
from revive.audit.models import AuditEvent
from revive.extensions import db
from tests.factories import make_user

MIGRATION = next(
    (Path(__file__).resolve().parents[2] / "migrations" / "versions").glob(
        "*_audit_events_append_only.py"
    )
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


def test_rewrite_allowed_lets_only_an_update_through_the_orm(event):
    when = datetime(2025, 3, 1, 8, tzinfo=UTC)
    with rewrite_allowed(db.session):
        db.session.execute(sa.update(AuditEvent).values(created_at=when))
        with pytest.raises(AuditImmutable):
            db.session.execute(sa.delete(AuditEvent))
    db.session.commit()
    with pytest.raises(AuditImmutable):  # the permission ended with the block
        db.session.execute(sa.update(AuditEvent).values(created_at=datetime.now(UTC)))
    (row,) = _stored()
    assert row.created_at == when


# ---------------------------------------------------------------------------- database


def _migration():
    spec = importlib.util.spec_from_file_location("audit_append_only", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(step: str) -> None:
    """Run the migration's upgrade/downgrade on the test database (made by create_all)."""
    db.session.rollback()
    with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        getattr(_migration(), step)()


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


def test_rewrite_allowed_lets_an_update_but_no_delete_through_the_database(triggers):
    when = datetime(2025, 3, 1, 8, tzinfo=UTC)
    with rewrite_allowed(db.session):
        db.session.execute(sa.update(AuditEvent.__table__).values(created_at=when))
    db.session.commit()
    (row,) = _stored()
    assert row.created_at == when
    with rewrite_allowed(db.session), pytest.raises(sa.exc.DBAPIError):
        db.session.execute(sa.delete(AuditEvent.__table__))
    db.session.rollback()
    assert "append-only" in _refused("UPDATE audit_events SET action = 'x'")  # ended
    assert len(_stored()) == 1
