"""revive scale-seed: refuses a database with data (or that is not PostgreSQL), and on an empty
PostgreSQL database loads a consistent synthetic set whose figures the dashboard can show."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.benchmark.scale_seed import scale_seed_command, seed
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent
from tests.factories import make_org, make_user


def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def test_refuses_sqlite_or_a_database_with_data(app, runner):
    make_org("甲大学")
    result = runner.invoke(scale_seed_command, ["--patents", "10"])
    assert result.exit_code != 0
    expected = "已有数据" if _postgres() else "仅支持 PostgreSQL"
    assert expected in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Patent)) == 0


def test_loads_a_consistent_set_on_postgresql(app, client, auth):
    if not _postgres():
        pytest.skip("scale-seed generates rows with PostgreSQL's generate_series")
    with db.engine.begin() as conn:
        counts = seed(conn, 3000, echo=lambda _line: None)
    assert counts["patents"] == 3000 and counts["universities"] == 60
    assert counts["deals"] > 0 and counts["contracts"] > 0 and counts["evaluations"] > 0
    rows = db.session.execute(sa.select(Patent.status, sa.func.count()).group_by(Patent.status))
    statuses = {status: n for status, n in rows.all()}
    assert set(statuses) == set(EntryStatus)
    assert 0.45 < statuses[EntryStatus.ENTERED] / 3000 < 0.65
    assert db.session.scalar(sa.text("SELECT count(*) FROM users WHERE role = 'officer'")) == 1
    auth.login(make_user(Role.REGULATOR))
    funnel = client.get("/api/v1/dashboard/funnel").get_json()
    steps = {s["key"]: s["count"] for s in funnel["steps"]}
    assert steps["inventoried"] == 3000
    assert steps["signed"] > 0 and steps["signed"] <= steps["contacted"] <= steps["pushed"]
