"""按月进展: the last twelve months, month by month (the monthly report to the provincial IP
office): patents entered and marked 建议放弃 (from the status log), demands posted, deals pushed
and answered, contracts signed and their amount — Beijing-time months, scoped like every page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from revive.clock import local_date
from revive.dashboard import activity
from revive.dashboard.scope import scope_for
from revive.extensions import db
from revive.inventory.models import EntryStatus, StatusChange
from tests.dashboard.helpers import DAY, TableScan, make_demand
from tests.dashboard.test_exports import both
from tests.dashboard.test_pages import assert_well_formed, get, tabs

TODAY = date(2024, 6, 30)
S = EntryStatus


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def change(patent, to: EntryStatus, at: datetime) -> None:
    db.session.add(
        StatusChange(patent_id=patent.id, from_status=S.PENDING_SCHOOL, to_status=to, created_at=at)
    )


@pytest.fixture
def history(pipeline):
    """Status changes, pushes, answers and a demand at chosen moments of 2023-07 … 2024-06."""
    p = pipeline.patents
    # Beijing is UTC+8: 2024-05-31 16:30 UTC is 2024-06-01 00:30 there (June), 15:59 is May.
    change(p["p1"], S.ENTERED, utc(2024, 5, 31, 16, 30))
    change(p["p2"], S.ENTERED, utc(2024, 5, 31, 15, 59))
    # p1 again in June after 撤回重审: still one patent that month
    change(p["p1"], S.ENTERED, utc(2024, 6, 20))
    change(p["e2"], S.ABANDON, utc(2024, 3, 5))
    change(p["b1"], S.ENTERED, utc(2023, 6, 30, 16, 0))  # 2023-07-01 00:00 Beijing: first month
    change(p["b2"], S.ENTERED, utc(2023, 6, 30, 15, 59))  # June 2023: before the window
    change(p["p3"], S.RETURNED, utc(2024, 6, 1))  # other moves are not counted
    d2, db3 = pipeline.deals["d2"], pipeline.deals["db3"]
    d2.pushed_at, d2.responded_at = utc(2024, 4, 10), utc(2024, 4, 30, 17, 0)  # answered in May
    db3.pushed_at = utc(2024, 4, 11)
    make_demand(pipeline.ent_x, "四月的需求").created_at = utc(2024, 4, 2)
    db.session.commit()
    return pipeline


def figures(user, university_id=None, with_demands=None):
    scope = scope_for(user, university_id)
    if with_demands is None:
        with_demands = scope.level == "platform"
    figs = activity.monthly_progress(scope.patents(), scope.deals(), with_demands, TODAY)
    return {
        m.month: (m.entered, m.abandoned, m.demands, m.pushed, m.answered, m.contracts, m.amount)
        for m in figs.months
        if any((m.entered, m.abandoned, m.demands, m.pushed, m.answered, m.contracts))
    }, figs


def test_months_are_beijing_months_of_the_last_year(history):
    by_month, figs = figures(history.users["regulator"])

    assert [m.month for m in figs.months] == [
        *(f"2023-{m:02d}" for m in range(7, 13)),
        *(f"2024-{m:02d}" for m in range(1, 7)),
    ]
    assert (figs.first_day, figs.today) == (date(2023, 7, 1), TODAY)
    zero = Decimal("0.00")
    assert by_month == {
        # entered, 建议放弃, demands, pushed, answered, contracts, amount
        "2023-07": (1, 0, 0, 0, 0, 0, zero),
        "2024-03": (0, 1, 0, 0, 0, 2, Decimal("105.50")),
        "2024-04": (0, 0, 1, 2, 0, 0, zero),
        "2024-05": (1, 0, 0, 0, 1, 1, Decimal("20.00")),
        "2024-06": (1, 0, 0, 0, 0, 0, zero),
    }
    t = figs.total
    assert (t.entered, t.abandoned, t.demands, t.pushed, t.answered, t.contracts) == (
        3,
        1,
        1,
        2,
        1,
        3,
    )
    assert t.amount == Decimal("125.50")


def test_months_follow_the_viewers_scope(history):
    w = history.world
    uni_a, figs = figures(w.admin_a)
    assert not figs.with_demands  # demands belong to no university
    assert uni_a == {
        "2024-03": (0, 1, None, 0, 0, 1, Decimal("100.50")),
        "2024-04": (0, 0, None, 1, 0, 0, Decimal("0.00")),
        "2024-05": (1, 0, None, 0, 1, 1, Decimal("20.00")),
        "2024-06": (1, 0, None, 0, 0, 0, Decimal("0.00")),
    }
    materials, _ = figures(w.college_admin_a)  # p1, p2, d2 (材料学院)
    assert materials == {
        "2024-04": (0, 0, None, 1, 0, 0, Decimal("0.00")),
        "2024-05": (1, 0, None, 0, 1, 0, Decimal("0.00")),
        "2024-06": (1, 0, None, 0, 0, 0, Decimal("0.00")),
    }
    uni_b, figs = figures(history.users["regulator"], w.uni_b.id)
    assert not figs.with_demands
    assert uni_b == {
        "2023-07": (1, 0, None, 0, 0, 0, Decimal("0.00")),
        "2024-03": (0, 0, None, 0, 0, 1, Decimal("5.00")),
        "2024-04": (0, 0, None, 1, 0, 0, Decimal("0.00")),
    }


def test_month_starts_cross_the_year():
    assert activity.month_starts(date(2025, 2, 14), 3) == [
        date(2024, 12, 1),
        date(2025, 1, 1),
        date(2025, 2, 1),
        date(2025, 3, 1),
    ]
    assert activity.month_starts(date(2024, 12, 31), 12)[0] == date(2024, 1, 1)
    assert activity.month_starts(date(2024, 12, 31), 12)[-1] == date(2025, 1, 1)


def test_regulator_reads_the_monthly_page_with_chart_table_and_exports(client, auth, pipeline):
    """Live figures (this month and the last eleven): pipeline deals were pushed two days ago."""
    pushed_month = f"{local_date(pipeline.now - 2 * DAY):%Y-%m}"
    answered_month = f"{local_date(pipeline.now - DAY):%Y-%m}"
    html, scan = get(client, auth, pipeline.users["regulator"], "/dashboard/monthly")

    assert "按月进展" in tabs(html)
    table = TableScan()
    table.feed(html)
    rows = table.tables["table-monthly"]
    assert rows[0] == [
        "月份（北京时间）",  # months of Beijing time, as the note says (and the export keeps)
        "入库专利",
        "建议放弃",
        "企业发布需求",
        "推送的对接",
        "高校答复",
        "签订合同",
        "合同金额（万元）",
    ]
    assert len(rows) == 1 + 12 + 1  # header, twelve months, 合计
    by_month = {r[0]: r[1:] for r in rows[1:]}
    assert by_month["合计"][3] == "9"  # every pipeline deal, pushed two days ago
    assert by_month["合计"][4] == "5"  # five answered yesterday
    assert by_month["合计"][2] == "6"  # D1 … D6 posted now
    assert by_month[pushed_month][3] != "0" and by_month[answered_month][4] != "0"
    blocks = scan.json_blocks()
    labels = blocks["chart-monthly-deals"]["labels"]
    assert [label.removesuffix("（截至今日）") for label in labels] == [r[0] for r in rows[1:-1]]
    assert labels[-1].endswith("（截至今日）")  # the current month is partial, not a fall
    assert not any(label.endswith("（截至今日）") for label in labels[:-1])
    assert [d["label"] for d in blocks["chart-monthly-deals"]["datasets"]] == [
        "企业发布需求",
        "推送的对接",
        "高校答复",
        "签订合同",
    ]
    assert "北京时间的自然月" in html
    assert_well_formed(html, scan)

    rows_file = both(client, "/dashboard/export/monthly")
    assert rows_file[0] == rows[0] and len(rows_file) == len(rows)
    assert rows_file[-1][:1] == ["合计"]


def test_a_university_admin_sees_own_months_without_demands(client, auth, pipeline):
    html, scan = get(client, auth, pipeline.world.admin_b, "/dashboard/monthly")
    table = TableScan()
    table.feed(html)
    rows = table.tables["table-monthly"]
    assert "企业发布需求" not in rows[0]
    assert rows[-1][:1] == ["合计"] and rows[-1][3] == "3"  # 乙大学's three deals pushed
    assert "企业需求不属于某一高校" in html
    rows_file = both(
        client, "/dashboard/export/monthly", "university=" + str(pipeline.world.uni_a.id)
    )
    assert rows_file[-1][3] == "3"  # another university's id is ignored: still 乙大学
    assert_well_formed(html, scan)


def test_regulator_narrows_the_months_to_one_university(client, auth, pipeline):
    uni_a = pipeline.world.uni_a.id
    html, _ = get(
        client, auth, pipeline.users["regulator"], f"/dashboard/monthly?university={uni_a}"
    )
    assert "全平台 · 甲大学" in html
    assert f'href="/dashboard/export/monthly.csv?university={uni_a}"' in html
    rows = both(client, "/dashboard/export/monthly", f"university={uni_a}")
    assert "企业发布需求" not in rows[0] and rows[-1][3] == "6"  # 甲大学's six deals


def test_enterprises_and_inventors_have_no_monthly_page(client, auth, pipeline):
    for user in (pipeline.users["ent_x"], pipeline.world.inventor_a):
        auth.login(user)
        assert client.get("/dashboard/monthly").status_code == 403
        assert client.get("/dashboard/export/monthly.csv").status_code == 403


def test_charts_say_what_is_empty_and_name_only_their_series(client, auth, pipeline):
    """UX review: an all-zero series made its chart vanish without a word (ua-monthly-d), the
    title promised 需求 where no demand line is drawn (one university's scope), and contract
    amounts were only 「见下表」. Nothing was entered in the pipeline's last twelve months."""
    html, scan = get(client, auth, pipeline.world.admin_b, "/dashboard/monthly")
    blocks = scan.json_blocks()
    assert 'id="chart-monthly-inventory-empty"' in html
    assert "近 12 个月没有学校审核通过入库或标记建议放弃的专利" in html
    assert "chart-monthly-inventory" not in blocks  # a frame with the message, no empty chart
    assert "各月对接与合同（件数）" in html and "各月需求" not in html
    assert "企业发布需求" not in [d["label"] for d in blocks["chart-monthly-deals"]["datasets"]]
    assert 'id="chart-monthly-amount' in html  # the amounts by month, charted or said empty
    assert "学校审核通过入库的；另有 0 件标记建议放弃" in html  # the KPI says what it counts
    assert_well_formed(html, scan)


def test_contract_amounts_are_charted_by_month(app, history):
    from revive.dashboard import charts

    _, figs = figures(history.users["regulator"])
    cards = {c.id: c for c in charts.monthly_charts(figs)}
    amount = cards["chart-monthly-amount"]
    assert not amount.empty
    by_month = dict(zip(amount.spec["labels"], amount.spec["datasets"][0]["data"], strict=True))
    assert by_month["2024-03"] == 105.5
    assert cards["chart-monthly-deals"].title == "各月需求、对接与合同（件数）"
