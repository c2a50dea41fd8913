"""Alembic migrations build exactly the schema the models describe (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from revive.extensions import db
from tests.apps import other_app
from tests.conftest import TEST_DATABASE_URL


@pytest.fixture
def fresh_database_url(tmp_path):
    if TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgres"):
        from revive.config import normalize_database_url

        base = sa.make_url(normalize_database_url(TEST_DATABASE_URL))
        name = f"revive_mig_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield base.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"


def test_upgrade_head_matches_models_and_downgrades_cleanly(fresh_database_url):
    app = other_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url, "TESTING": True})
    with app.app_context():
        try:
            _check_upgrade_and_downgrade()
        finally:
            db.engine.dispose()


def _check_upgrade_and_downgrade() -> None:
    upgrade()
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
        )
    assert diff == [], f"models and migrations differ; run `revive db migrate`: {diff}"
    downgrade(revision="base")
    with db.engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}


def test_constraint_and_index_names_are_unique_across_tables(app):
    # PostgreSQL keeps index (and unique-constraint) names in one namespace per schema: two
    # tables with a constraint of the same name make `db upgrade` fail there, not on SQLite.
    from revive.extensions import db

    seen: dict[str, str] = {}
    for table in db.metadata.sorted_tables:
        names = [i.name for i in table.indexes] + [
            c.name
            for c in table.constraints
            if isinstance(c, sa.UniqueConstraint | sa.PrimaryKeyConstraint)
        ]
        for name in names:
            assert name not in seen, f"{name} used by {seen.get(name)} and {table.name}"
            seen[str(name)] = table.name


def _insert_old_demands(company_id: int, rows: list[dict]) -> list[int]:
    """Demands written at an older revision, through the table as it was then (the model
    describes the newest one: its new columns do not exist yet)."""
    from revive.db import utcnow

    table = sa.Table("demands", sa.MetaData(), autoload_with=db.engine)
    now = utcnow()
    base = {
        "enterprise_id": company_id,
        "description": "说明",
        "source": "self",
        "visibility": "public",
        "status": "open",
        "alert_subscribed": True,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    with db.engine.begin() as conn:
        return [
            conn.execute(table.insert().values({**base, **row})).inserted_primary_key[0]
            for row in rows
        ]


def test_stored_industry_values_get_their_section_letter(fresh_database_url):
    """Data revision c4a9e2d71f05: 制造业 stored before it becomes C 制造业; coded values and
    values naming no section stay as written."""
    from revive.demands.models import Demand
    from tests.factories import make_org

    app = other_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url, "TESTING": True})
    with app.app_context():
        try:
            upgrade(revision="c4a9e2d71f05")
            downgrade(revision="b81e4f6a0c3d")  # data only: the schema is the same
            from revive.accounts.models import OrgKind

            company = make_org("迁移测试有限公司", kind=OrgKind.ENTERPRISE)
            db.session.commit()
            values = ["制造业", "C3841 锂离子电池制造", "某种说不清的行业", None]
            ids = _insert_old_demands(
                company.id, [{"title": f"需求{i}", "industry": v} for i, v in enumerate(values)]
            )
            db.session.remove()
            upgrade()
            stored = dict(db.session.execute(sa.select(Demand.id, Demand.industry)).all())
            assert [stored[i] for i in ids] == [
                "C 制造业",
                "C3841 锂离子电池制造",
                "某种说不清的行业",
                None,
            ]
        finally:
            db.session.remove()
            db.engine.dispose()


def test_stored_demands_get_their_searchable_text_and_titles_lose_contacts(fresh_database_url):
    """Revision f7d2a8c41b96: a university's keyword search reads public_text, filled for the
    demands already stored without the contact details pasted into their texts; a title that
    carried some has them hidden (titles may no longer carry any)."""
    from revive.accounts.models import OrgKind
    from revive.demands.models import Demand
    from tests.factories import make_org

    app = other_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url, "TESTING": True})
    with app.app_context():
        try:
            upgrade(revision="f1a2b3c4d5e6")
            company = make_org("迁移测试有限公司", kind=OrgKind.ENTERPRISE)
            db.session.commit()
            leaky, plain = _insert_old_demands(
                company.id,
                [
                    {
                        "title": "果蔬保鲜 电话13912345678",
                        "description": "需要保鲜技术，邮箱 boss@zhinong.example",
                        "target_specs": "货架期 ≥ 30 天",
                    },
                    {"title": "铝合金压铸", "description": "表面缺陷检测"},
                ],
            )
            db.session.remove()
            upgrade()
            rows = {
                r.id: r
                for r in db.session.execute(sa.select(Demand.id, Demand.title, Demand.public_text))
            }
            assert rows[leaky].title == "果蔬保鲜 电话〔联系方式已隐藏〕"
            assert (
                rows[leaky].public_text == "需要保鲜技术，邮箱 〔联系方式已隐藏〕\n货架期 ≥ 30 天"
            )
            assert (rows[plain].title, rows[plain].public_text) == ("铝合金压铸", "表面缺陷检测")
        finally:
            db.session.remove()
            db.engine.dispose()
