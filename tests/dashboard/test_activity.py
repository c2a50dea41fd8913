"""Contracts, overdue responses, unmet need, officer workload and the enterprise view on the
constructed pipeline (see conftest.pipeline for who did what)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from revive.dashboard import activity
from revive.dashboard.scope import scope_for
from revive.db import as_utc
from revive.deals.models import Deal, Stage
from revive.extensions import db

TODAY = date(2024, 6, 30)


def months(figs):
    return [(m.month, m.count, m.amount) for m in figs.months]


def test_contracts_per_month_fill_empty_months_up_to_today(pipeline):
    figs = activity.contract_figures(scope_for(pipeline.users["regulator"]).deals(), TODAY)

    assert months(figs) == [
        ("2024-03", 2, Decimal("105.50")),
        ("2024-04", 0, Decimal("0.00")),
        ("2024-05", 1, Decimal("20.00")),
        ("2024-06", 0, Decimal("0.00")),
    ]
    assert {k.key: (k.count, k.amount) for k in figs.kinds} == {
        "assignment": (1, Decimal("100.50")),
        "license": (1, Decimal("20.00")),
        "open_license": (1, Decimal("5.00")),
        "equity": (0, Decimal("0.00")),
    }
    assert (figs.count, figs.amount) == (3, Decimal("125.50"))


def test_contracts_are_scoped(pipeline):
    w = pipeline.world
    uni_a = activity.contract_figures(scope_for(w.admin_a).deals(), TODAY)
    uni_b = activity.contract_figures(scope_for(w.admin_b).deals(), TODAY)
    materials = activity.contract_figures(scope_for(w.college_admin_a).deals(), TODAY)
    energy = activity.contract_figures(scope_for(pipeline.users["energy_admin"]).deals(), TODAY)
    filtered = activity.contract_figures(scope_for(pipeline.users["o1"], w.uni_b.id).deals(), TODAY)

    assert (uni_a.count, uni_a.amount) == (2, Decimal("120.50"))
    assert (uni_b.count, uni_b.amount) == (1, Decimal("5.00"))
    assert (filtered.count, filtered.amount) == (1, Decimal("5.00"))
    assert (energy.count, energy.amount) == (2, Decimal("120.50"))
    assert materials.count == 0 and materials.months == []


def test_overdue_figures_and_list(pipeline):
    regional = scope_for(pipeline.users["regulator"]).deals()
    figs = activity.overdue_figures(regional, by_college=False)
    items, page = activity.overdue_deals(regional)

    # awaiting: d2 (overdue), d7 (not yet due), db3 (overdue); d6 failed, others answered
    assert (figs.awaiting, figs.overdue) == (3, 2)
    assert sorted(figs.by_unit) == [("乙大学", 1), ("甲大学", 1)]  # a tie: order by name in SQL
    assert [d.id for d in items] == [pipeline.deals["d2"].id, pipeline.deals["db3"].id]
    assert page.total == 2
    d2 = items[0]
    assert (d2.patent_title, d2.university, d2.college, d2.enterprise) == (
        pipeline.patents["p2"].title,
        "甲大学",
        "材料学院",
        "乙制造有限公司",
    )
    assert (d2.officer, d2.stage, d2.days_overdue) == ("王经理", Stage.RECOMMENDED, 3)


def test_overdue_is_scoped_to_university_and_college(pipeline):
    w = pipeline.world
    uni = scope_for(w.admin_a).deals()
    figs = activity.overdue_figures(uni, by_college=True)
    assert (figs.awaiting, figs.overdue, figs.by_unit, figs.unit) == (
        2,
        1,
        [("材料学院", 1)],
        "学院",
    )
    assert [d.id for d in activity.overdue_deals(uni)[0]] == [pipeline.deals["d2"].id]

    energy = scope_for(pipeline.users["energy_admin"]).deals()
    assert activity.overdue_figures(energy, by_college=True).overdue == 0
    assert activity.overdue_figures(energy, by_college=True).awaiting == 1  # d7, not yet due
    assert activity.overdue_deals(energy)[0] == []

    other = scope_for(w.admin_b).deals()
    assert [d.id for d in activity.overdue_deals(other)[0]] == [pipeline.deals["db3"].id]


def test_answered_deal_is_no_longer_overdue(pipeline):
    d2 = pipeline.deals["d2"]
    d2.responded_at = pipeline.now
    d2.response = "declined"
    db.session.commit()
    figs = activity.overdue_figures(scope_for(pipeline.world.admin_a).deals(), by_college=True)
    assert (figs.awaiting, figs.overdue) == (1, 0)


def _answer_late(pipeline):
    """db1 (乙大学) pushed 10 days ago, due 3 days ago, answered yesterday: 9 days, late."""
    db1 = pipeline.deals["db1"]
    db1.pushed_at = pipeline.now - timedelta(days=10)
    db1.response_due_at = pipeline.now - timedelta(days=3)
    db.session.commit()


def _row(u):
    return (u.name, u.pushed, u.awaiting, u.overdue, u.answered, u.on_time, u.late) + (
        u.median_days,
        u.ended_unanswered,
    )


def test_answers_on_time_late_and_unanswered_per_university(pipeline):
    """A late answer left 逾期未答复 and was seen nowhere; a deal that ended 未成交 unanswered
    neither. Per university: answered, on time (of the answered), late, the median days from
    push to answer, ended unanswered — and universities with nothing overdue are listed."""
    _answer_late(pipeline)
    figs = activity.overdue_figures(scope_for(pipeline.users["regulator"]).deals(), False)

    assert [_row(u) for u in figs.units] == [
        # name, pushed, awaiting, overdue, answered, on time, late, median, ended unanswered
        ("乙大学", 3, 1, 1, 2, 1, 1, Decimal("5.0"), 0),  # db1 9 days, db2 1 day
        ("甲大学", 6, 2, 1, 3, 3, 0, Decimal("1.0"), 1),  # d6 failed unanswered
        ("丙学院", 0, 0, 0, 0, 0, 0, None, 0),  # no deal: listed, not left out
    ]
    assert _row(figs.total) == ("合计", 9, 3, 2, 5, 4, 1, Decimal("1.0"), 1)
    assert (figs.awaiting, figs.overdue) == (3, 2)
    assert figs.by_unit == [("乙大学", 1), ("甲大学", 1)]  # the overdue chart: overdue ones


def test_a_deal_ended_before_its_deadline_is_not_the_universitys_silence(pipeline):
    """A code review: an enterprise closing its demand an hour after the push ended the deal
    未成交 unanswered, and it counted against the university as 未答复即未成交."""
    d6 = pipeline.deals["d6"]  # 未成交, unanswered, ended after its deadline: counted
    figs = activity.overdue_figures(scope_for(pipeline.users["regulator"]).deals(), False)
    assert figs.total.ended_unanswered == 1
    d6.response_due_at = d6.stage_changed_at + timedelta(days=6)  # ended within its time
    db.session.commit()
    figs = activity.overdue_figures(scope_for(pipeline.users["regulator"]).deals(), False)
    assert figs.total.ended_unanswered == 0


def test_answers_per_college_list_every_college_of_the_scope(pipeline):
    w = pipeline.world
    uni = activity.overdue_figures(scope_for(w.admin_a).deals(), True, university_id=w.uni_a.id)
    assert [_row(u) for u in uni.units] == [
        ("材料学院", 3, 1, 1, 1, 1, 0, Decimal("1.0"), 1),
        ("能源学院", 3, 1, 0, 2, 2, 0, Decimal("1.0"), 0),
        ("外国语学院", 0, 0, 0, 0, 0, 0, None, 0),
    ]
    energy_admin = pipeline.users["energy_admin"]
    college = activity.overdue_figures(
        scope_for(energy_admin).deals(),
        True,
        university_id=w.uni_a.id,
        college_id=w.a_energy.id,
    )
    assert [u.name for u in college.units] == ["能源学院"]  # not the other colleges


def test_overdue_page_lists_answers_per_university(client, auth, pipeline):
    from tests.dashboard.helpers import TableScan

    _answer_late(pipeline)
    auth.login(pipeline.users["regulator"])
    html = client.get("/dashboard/overdue").get_data(as_text=True)
    scan = TableScan()
    scan.feed(html)
    rows = scan.tables["table-overdue-units"]
    assert rows[0] == [
        "高校",
        "推送的对接",
        "待答复",
        "逾期未答复",
        "已答复",
        "按期答复率（按期答复数 / 已答复数）",
        "逾期后答复",
        "答复用时中位数（天）",
        "未答复即未成交",
    ]
    assert rows[1:] == [
        ["乙大学", "3", "1", "1", "2", "50.0%（1 / 2）", "1", "5.0", "0"],
        ["甲大学", "6", "2", "1", "3", "100.0%（3 / 3）", "0", "1.0", "1"],
        ["丙学院", "0", "0", "0", "0", "—（0 / 0）", "0", "—", "0"],
        ["合计", "9", "3", "2", "5", "80.0%（4 / 5）", "1", "1.0", "1"],
    ]
    assert "按期答复数 / 已答复数：80.0%（4 / 5）；逾期后答复 1 件；答复用时中位数 1.0 天" in html
    assert 'data-chart="chart-answers-units"' in html

    from tests.dashboard.test_exports import both

    assert both(client, "/dashboard/export/overdue-units")[1:] == [
        ["乙大学", "3", "1", "1", "2", "50.0%（1 / 2）", "1", "5", "0"],
        ["甲大学", "6", "2", "1", "3", "100.0%（3 / 3）", "0", "1", "1"],
        ["丙学院", "0", "0", "0", "0", "—（0 / 0）", "0", "—", "0"],
        ["合计", "9", "3", "2", "5", "80.0%（4 / 5）", "1", "1", "1"],
    ]


def test_overdue_list_paginates(pipeline):
    regional = scope_for(pipeline.users["regulator"]).deals()
    first, page = activity.overdue_deals(regional, page=1, per_page=1)
    second, _ = activity.overdue_deals(regional, page=2, per_page=1)
    everything, _ = activity.overdue_deals(regional, page=None)
    assert (page.pages, page.has_next, len(first), len(second)) == (2, True, 1, 1)
    assert [*first, *second] == everything


def test_unmet_need(pipeline):
    figs = activity.unmet_figures()
    items, page = activity.unmet_demands()

    assert (figs.open_demands, figs.unmet, figs.never_matched, figs.all_rejected) == (5, 2, 1, 1)
    assert [(d.id, d.reason) for d in items] == [
        (pipeline.demands["D3"].id, "尚无匹配结果"),
        (pipeline.demands["D4"].id, "匹配结果均被否决（2 条）"),
    ]
    assert figs.by_industry == [
        ("A", "A 农、林、牧、渔业", 1),
        ("N", "N 水利、环境和公共设施管理业", 1),
    ]
    assert page.total == 2


def test_demand_with_an_undecided_candidate_is_not_unmet_until_rejected(pipeline):
    from revive.matching.models import Match, MatchState

    candidate = (
        db.session.query(Match)
        .filter_by(demand_id=pipeline.demands["D5"].id, state=MatchState.CANDIDATE)
        .one()
    )
    candidate.state = MatchState.REJECTED
    candidate.decided_at = pipeline.now
    db.session.commit()
    assert pipeline.demands["D5"].id in [d.id for d in activity.unmet_demands()[0]]


def test_officer_workload(pipeline):
    figs = activity.workload(now=pipeline.now + timedelta(seconds=1))
    rows = {
        o.name: (o.accepted_30d, o.rejected_30d, o.open_deals, o.overdue, o.contracts, o.amount)
        for o in figs.officers
    }
    assert rows == {
        # 王经理: accepted d1 d2 d4 d7 db1, rejected one D4 match; open d2 d7 db1; overdue d2
        "王经理": (5, 1, 3, 1, 1, Decimal("20.00")),
        # 李经理: accepted d6 d3 db2 db3, rejected D5's match (the D4 one is 40 days old)
        "李经理": (4, 1, 1, 1, 2, Decimal("105.50")),
        "赵经理": (0, 0, 0, 0, 0, Decimal("0.00")),  # officers without activity are listed
    }
    assert [o.name for o in figs.officers][:2] == ["王经理", "李经理"]  # most open deals first
    assert (figs.undecided, figs.demands_waiting) == (1, 1)  # D6's candidate: demand closed


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("ent_x", {"高能量密度电池材料": (4, 0, 0, 1, 1, 2)}),
        ("ent_y", {"轻量化汽车零部件": (5, 2, 1, 0, 2, 0)}),
    ],
)
def test_enterprise_sees_its_own_demands_and_deals(pipeline, who, expected):
    org = pipeline.ent_x if who == "ent_x" else pipeline.ent_y
    figs = activity.enterprise_figures(org.id)
    rows = {d.title: (d.pushed, *(d.stages[s] for s in Stage)) for d in figs.demands if d.pushed}
    assert rows == expected
    deals, page = activity.enterprise_deals(org.id)
    assert page.total == sum(v[0] for v in expected.values())
    assert {d.university for d in deals} == {"甲大学", "乙大学"}
    mine = {d.id for d in pipeline.demands.values() if d.enterprise_id == org.id}
    assert {d.id for d in figs.demands} == mine
    assert {d.demand_id for d in deals} <= mine


# ---------------------------------------------------------------------------- answer-time medians


def _answered_deals(world, microseconds: dict[str, list[int]]) -> list[int]:
    """Answered deals whose time from push to answer is exactly ``microseconds`` (negative: an
    answer stamped before the push), per unit: "materials" (甲大学 材料学院), "none" (甲大学,
    no college) and "b" (乙大学); the pushes themselves spread over two months."""
    from revive.accounts.models import OrgKind, Role
    from revive.db import utcnow
    from tests.dashboard.helpers import make_deal, make_demand
    from tests.factories import make_org, make_patent, make_user

    now = utcnow()
    officer = make_user(Role.OFFICER)
    ent = make_org(kind=OrgKind.ENTERPRISE)
    patents = {
        "materials": make_patent(world.uni_a, college=world.a_materials),
        "none": make_patent(world.uni_a),
        "b": make_patent(world.uni_b, college=world.b_college),
    }
    n, ids = db.session.scalar(sa.select(sa.func.count(Deal.id))), []
    for unit, values in microseconds.items():
        for us in values:
            n += 1
            demand = make_demand(ent, f"答复用时需求{n}")
            deal = make_deal(
                demand, patents[unit], officer, [Stage.RECOMMENDED], now=now, due_in_days=3
            )
            deal.pushed_at = now - timedelta(days=n % 60, seconds=n * 37, microseconds=n * 11)
            deal.responded_at = deal.pushed_at + timedelta(microseconds=us)
            ids.append(deal.id)
    db.session.commit()
    return ids


def _reference(values: list[int]) -> Decimal | None:
    """The median as the dashboard took it before: every answer's days, statistics.median."""
    import statistics

    days = [max(0.0, timedelta(microseconds=us).total_seconds()) / 86400 for us in values]
    return Decimal(statistics.median(days)).quantize(Decimal("0.1")) if days else None


def test_answer_time_medians_equal_the_median_of_every_answer(world, monkeypatch):
    """The answer-time table loaded every answered deal into Python for its medians; they now
    come from the database (only the middle deal or two of each unit reach Python), with the
    same figures: exact halves (1.25 days shows 1.2, as Decimal rounds it), differences of a
    microsecond (below the millisecond SQLite's julianday() reads), ties, answers stamped
    before the push (0 days), odd and even counts, per unit and over the whole scope."""
    import random

    rng = random.Random(20261208)
    day = 86_400_000_000
    values = {
        "materials": [day, 3 * day // 2 - 1, 3 * day // 2, 3 * day // 2 + 1, 5 * day // 4],
        "none": [-2 * 3_600_000_000, day // 4, day // 4, day // 2, 3 * day // 10 + 1, 9 * day],
        "b": [rng.randrange(-day, 30 * day) for _ in range(24)] + [day, day, day + 1],
    }
    _answered_deals(world, values)
    scope = sa.true()
    universities = activity.overdue_figures(scope, by_college=False)
    colleges = activity.overdue_figures(scope, by_college=True)

    got = {u.name: u.median_days for u in universities.units}
    assert got["甲大学"] == _reference(values["materials"] + values["none"])
    assert got["乙大学"] == _reference(values["b"])
    assert got["丙学院"] is None  # nothing answered
    assert universities.total.median_days == _reference([v for vs in values.values() for v in vs])
    got = {u.name: u.median_days for u in colleges.units}
    assert got["材料学院"] == _reference(values["materials"]) == Decimal("1.5")
    assert got[activity.NO_COLLEGE_LABEL] == _reference(values["none"]) == Decimal("0.3")
    assert got["乙大学机械学院"] == _reference(values["b"])
    # two answers averaging an exact half: 1.25 days shows 1.2 (Decimal's rounding of 1.25)
    ids = _answered_deals(world, {"materials": [day, 3 * day // 2]})
    halves = activity.overdue_figures(Deal.id.in_(ids), by_college=True)
    assert halves.total.median_days == _reference([day, 3 * day // 2]) == Decimal("1.2")


def test_answer_time_medians_do_not_load_every_answered_deal(world, monkeypatch):
    """Bounded memory: however many deals were answered, only the middle one or two of each
    unit (and of the whole scope) are read into Python — each read one converts its two
    stored times (as_utc), so 60 answered deals in 2 universities convert at most 12."""
    day = 86_400_000_000
    _answered_deals(world, {"materials": [day + i for i in range(30)], "b": [day] * 30})
    converted = []

    def counting(value):
        converted.append(value)
        return as_utc(value)

    monkeypatch.setattr(activity, "as_utc", counting)
    figs = activity.overdue_figures(sa.true(), by_college=False)
    assert figs.total.answered == 60 and figs.total.median_days == Decimal("1.0")
    assert len(converted) <= 2 * 2 * 3, len(converted)
