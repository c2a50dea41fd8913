"""A savepoint nests in the request's transaction on SQLite too: released, it commits nothing.

pysqlite opens its transaction only at the first write, so a SAVEPOINT issued first started a
transaction of its own and its RELEASE committed it (a tester's batch review showed a 409 while
four of its five patents had moved)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive.accounts.models import Organization
from revive.db import savepoint
from revive.extensions import db
from tests.factories import make_org


def _name(org_id: int) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(Organization.name).where(Organization.id == org_id))


@pytest.mark.parametrize(("end", "kept"), [("rollback", "甲大学"), ("commit", "乙大学")])
def test_a_released_savepoint_goes_with_its_transaction(app, end, kept):
    """Taken back by the transaction's rollback, kept by its commit."""
    org_id = make_org("甲大学").id
    db.session.commit()
    with savepoint():
        db.session.get(Organization, org_id).name = "乙大学"
    getattr(db.session, end)()
    assert _name(org_id) == kept


def test_a_failed_savepoint_keeps_what_came_before_it(app):
    first, second = make_org("甲大学").id, make_org("丙大学").id
    db.session.commit()
    with savepoint():
        db.session.get(Organization, first).name = "乙大学"
    try:
        with savepoint():
            db.session.get(Organization, second).name = "丁大学"
            db.session.flush()
            raise RuntimeError
    except RuntimeError:
        pass
    db.session.commit()
    assert (_name(first), _name(second)) == ("乙大学", "丙大学")


def test_sessions_take_savepoints_through_the_helper():
    """A bare ``session.begin_nested()`` commits on SQLite when nothing was written before it."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "revive"
    bare = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "db.py" and "session.begin_nested(" in path.read_text("utf-8")
    ]
    assert bare == []
