"""Dashboard figures: correct counts, strict scoping, rates with denominators, SQL-only work."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.dashboard.queries import dashboard_summary
from revive.extensions import db
from revive.inventory.models import EntryStatus
from tests.factories import make_patent, make_user


def counts(buckets):
    return {b.key: b.count for b in buckets}


def test_university_admin_figures(world):
    s = dashboard_summary(world.admin_a)

    assert s.scope_label == "甲大学"
    assert (s.total, s.entered, s.pending_college, s.pending_school) == (8, 2, 1, 1)
    assert s.entry_rate == "25.0%（2 / 8）"
    assert [b.key for b in s.by_status] == [
        "draft",
        "pending_college",
        "pending_school",
        "entered",
        "returned",
        "not_entered",
        "abandon",
    ]
    assert counts(s.by_status) == {
        "draft": 1,
        "pending_college": 1,
        "pending_school": 1,
        "entered": 2,
        "returned": 1,
        "not_entered": 1,
        "abandon": 1,
    }
    assert counts(s.by_grade) == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 1, "none": 5}
    assert counts(s.by_trl) == {str(n): 0 for n in range(1, 10)} | {"5": 1, "7": 1, "none": 6}
    assert counts(s.by_willingness) == {"willing": 2, "conditional": 0, "not_now": 1, "none": 5}
    assert (s.graded, s.good_prospects) == (3, 1)


def test_university_admin_gets_every_college_with_rates(world):
    s = dashboard_summary(world.admin_a)

    assert s.breakdown_kind == "college"
    rows = {r.name: (r.total, r.entered, r.pending, r.rate) for r in s.breakdown}
    assert rows == {
        "材料学院": (4, 2, 1, "50.0%（2 / 4）"),
        "能源学院": (3, 0, 1, "0.0%（0 / 3）"),
        "未指定学院": (1, 0, 0, "0.0%（0 / 1）"),
        "外国语学院": (0, 0, 0, "—（0 / 0）"),  # has not started: listed, not hidden
    }
    assert [r.name for r in s.breakdown][0] == "材料学院"  # largest first


def test_university_admin_never_sees_another_university(world):
    a = dashboard_summary(world.admin_a)
    b = dashboard_summary(world.admin_b)

    assert (b.total, b.entered) == (3, 3)
    assert [r.name for r in b.breakdown] == ["乙大学机械学院"]
    assert "乙大学机械学院" not in [r.name for r in a.breakdown]
    assert a.total == 8


def test_college_admin_sees_only_own_college(world):
    s = dashboard_summary(world.college_admin_a)

    assert s.scope_label == "甲大学 · 材料学院"
    assert (s.total, s.entered, s.pending_college, s.pending_school) == (4, 2, 1, 0)
    assert counts(s.by_grade)["1"] == 0  # the 1★ patent belongs to 能源学院
    assert s.breakdown_kind is None
    assert s.breakdown == []


def test_inventor_sees_only_linked_patents(world):
    s = dashboard_summary(world.inventor_a)

    assert (s.total, s.entered) == (1, 1)
    assert counts(s.by_grade)["5"] == 1


@pytest.mark.parametrize("role", [Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR])
def test_read_all_roles_get_per_university_breakdown(world, role):
    s = dashboard_summary(make_user(role))

    assert (s.total, s.entered) == (11, 5)
    assert s.entry_rate == "45.5%（5 / 11）"
    assert s.breakdown_kind == "university"
    rows = {r.name: (r.total, r.entered, r.rate) for r in s.breakdown}
    assert rows["甲大学"] == (8, 2, "25.0%（2 / 8）")
    assert rows["乙大学"] == (3, 3, "100.0%（3 / 3）")
    assert rows["丙学院"] == (0, 0, "—（0 / 0）")
    assert "某某科技有限公司" not in rows  # enterprises are not inventoried


def test_empty_scope_has_zero_figures(app):
    s = dashboard_summary(make_user(Role.UNIVERSITY_ADMIN))

    assert s.is_empty
    assert s.entry_rate == "—（0 / 0）"
    assert sum(b.count for b in s.by_grade) == 0
    assert len(s.by_trl) == 10


def test_api_dict_carries_denominators(world):
    d = dashboard_summary(world.admin_a).to_dict()

    assert d["entry_rate"] == {
        "numerator": 2,
        "denominator": 8,
        "value": 0.25,
        "display": "25.0%（2 / 8）",
    }
    materials = next(r for r in d["breakdown"] if r["name"] == "材料学院")
    assert materials["entry_rate"]["denominator"] == 4


def _statements_for(user) -> int:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        dashboard_summary(user)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_query_count_does_not_grow_with_patents(world):
    """Figures come from GROUP BY queries, not from loading patents one by one."""
    admin = world.admin_a
    before = _statements_for(admin)
    for _ in range(15):
        make_patent(world.uni_a, college=world.a_energy, status=EntryStatus.ENTERED)
    db.session.expire_all()

    assert _statements_for(admin) == before
    assert before <= 9  # eight GROUP BYs and look-ups, plus the dashboard snapshot look-up
