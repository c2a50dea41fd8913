"""The dashboard pages per role, on the constructed pipeline: what each role sees (and does not),
charts before tables, every chart described by a table on the page, links, no inline JS."""

from __future__ import annotations

import re

import pytest

from revive.accounts.models import Role
from tests.dashboard.helpers import PageScan, TableScan
from tests.factories import make_user

REGIONAL_TABS = [
    "概览",
    "按月进展",
    "分项对比",
    "合同与金额",
    "逾期答复",
    "未满足需求",
    "经理人工作量",
    "地区与产业池",
]


def get(client, auth, user, url) -> tuple[str, PageScan]:
    auth.login(user)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.get_data(as_text=True)
    scan = PageScan()
    scan.feed(html)
    return html, scan


def tabs(html: str) -> list[str]:
    nav = re.search(r'<nav class="button-row dashboard-tabs".*?</nav>', html, re.S)
    return re.findall(r">([^<>]+)</a>", nav.group(0)) if nav else []


def assert_well_formed(html: str, scan: PageScan) -> None:
    """Charts come before tables; each canvas has its JSON and a table/fallback on the page;
    scripts are files only."""
    for canvas in scan.canvases:
        assert canvas["data-chart"] in scan.json_blocks()
        assert canvas["aria-describedby"] in scan.ids, canvas
    if scan.canvases and "<table" in html:
        assert html.index("<canvas") < html.index("<table")
    for attrs, body in scan.scripts:
        if attrs.get("type") != "application/json":
            assert attrs.get("src") and not body.strip()
    assert scan.handlers == []


@pytest.mark.parametrize("role", [Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR])
def test_regional_home_leads_with_the_platform_funnel(client, auth, pipeline, role):
    html, scan = get(client, auth, make_user(role), "/")

    assert tabs(html) == REGIONAL_TABS
    blocks = scan.json_blocks()
    assert [c["data-chart"] for c in scan.canvases][0] == "chart-conversion"
    # the pipeline's order (评价 once pushed or invited), each bar naming its rate's denominator
    assert blocks["chart-conversion"]["labels"] == [
        "盘点",
        "入库（/ 盘点数）",
        "推送（/ 入库数）",
        "评价（/ 入库数）",
        "对接（/ 推送数）",
        "签约（/ 对接数）",
    ]
    assert blocks["chart-conversion"]["datasets"][0]["data"] == [13, 7, 6, 3, 5, 2]
    assert "推送率（推送数 / 入库数）" in html
    assert "85.7%（6 / 7）" in html  # 推送 / 入库
    assert "15.4%（2 / 13）" in html  # 签约 / 盘点
    assert "转化漏斗口径" in html and "受邀评价不必经过推送" in html
    assert "逾期数 / 待答复数：66.7%（2 / 3）" in html
    assert 'href="/dashboard/export/funnel.xlsx"' in html
    assert_well_formed(html, scan)


def test_university_home_shows_own_funnel_and_overdue_kpi(client, auth, pipeline):
    html, scan = get(client, auth, pipeline.world.admin_a, "/")

    assert tabs(html) == ["概览", "按月进展", "分项对比", "合同与金额", "逾期答复"]
    assert scan.json_blocks()["chart-conversion"]["datasets"][0]["data"] == [10, 4, 3, 2, 2, 1]
    assert "逾期未答复" in html and "50.0%（1 / 2）" in html  # overdue / awaiting
    assert 'href="/dashboard/overdue"' in html
    assert "乙大学" not in html
    assert_well_formed(html, scan)


def test_college_admin_home_shows_own_college_funnel(client, auth, pipeline):
    html, scan = get(client, auth, pipeline.world.college_admin_a, "/")

    assert scan.json_blocks()["chart-conversion"]["datasets"][0]["data"] == [4, 2, 2, 1, 1, 0]
    assert "能源学院" not in html
    assert_well_formed(html, scan)


def test_inventor_home_is_the_inventory_overview_only(client, auth, pipeline):
    html, scan = get(client, auth, pipeline.world.inventor_a, "/")

    assert tabs(html) == []
    assert "chart-conversion" not in html
    assert "转化漏斗" not in html
    assert "盘点数" in html


def test_enterprise_home_shows_own_demands_and_deals(client, auth, pipeline):
    html, scan = get(client, auth, pipeline.users["ent_x"], "/")

    assert tabs(html) == []
    assert "高能量密度电池材料" in html
    assert "轻量化汽车零部件" not in html  # 乙制造's demand
    assert "污水深度处理" not in html
    for key in ("d1", "d6", "d3", "db1"):
        assert f'href="/deals/{pipeline.deals[key].id}"' in html
    assert f'href="/deals/{pipeline.deals["d2"].id}"' not in html
    assert scan.json_blocks()["chart-stages"]["datasets"][0]["data"] == [0, 0, 1, 1, 2]
    assert "签约数 / 推送数：25.0%（1 / 4）" in html
    assert "盘点数" not in html
    assert_well_formed(html, scan)


def _kpi(html: str, label: str) -> str:
    found = re.search(rf'<div class="label">{label}</div>\s*<div class="value">([^<]*)<', html)
    assert found, label
    return found.group(1)


def test_enterprise_home_counts_the_machines_suggestions(client, auth, pipeline):
    """机器推荐: the undecided candidates each demand page lists; the headline counts open
    demands only (乙: D5's candidate; 甲: D6's is on a closed demand, so only its row has it)."""
    html, _ = get(client, auth, pipeline.users["ent_y"], "/")
    assert _kpi(html, "机器推荐的专利") == "1"
    assert _kpi(html, "推送给我的专利") == "5"

    auth.logout()
    html, _ = get(client, auth, pipeline.users["ent_x"], "/")
    assert _kpi(html, "机器推荐的专利") == "0"
    row = re.search(r"<tr>(?:(?!</tr>).)*已关闭的需求(?:(?!</tr>).)*</tr>", html, re.S)
    assert row and re.findall(r'<td class="num">([^<]*)</td>', row.group(0))[0] == "1"


def test_enterprise_without_demands_is_welcomed(client, auth, app):
    html, scan = get(client, auth, make_user(Role.ENTERPRISE), "/")

    assert "欢迎使用" in html
    assert 'href="/demands/new"' in html
    assert scan.canvases == []


def test_breakdown_by_university_links_to_its_colleges(client, auth, pipeline):
    w = pipeline.world
    html, scan = get(client, auth, pipeline.users["regulator"], "/dashboard/breakdown")

    assert f'href="/dashboard/breakdown?by=college&amp;university={w.uni_a.id}">甲大学</a>' in html
    assert "丙学院" in html  # idle universities are listed
    assert "40.0%（4 / 10）" in html  # 甲大学 入库率
    assert 'href="/dashboard/export/by-university.csv"' in html
    assert scan.json_blocks()["chart-breakdown-rates"]["labels"][0] == "甲大学"
    assert_well_formed(html, scan)


def test_breakdown_by_college_needs_a_university_for_regional_roles(client, auth, pipeline):
    w = pipeline.world
    officer = pipeline.users["o1"]
    html, _ = get(client, auth, officer, "/dashboard/breakdown?by=college")
    assert "需先选择一所高校" in html
    assert "<table" not in html

    html, scan = get(
        client, auth, officer, f"/dashboard/breakdown?by=college&university={w.uni_a.id}"
    )
    assert "统计范围：全平台 · 甲大学" in html
    assert "外国语学院" in html and "乙大学机械学院" not in html
    assert f"/dashboard/export/by-college.xlsx?university={w.uni_a.id}" in html
    assert f'<option value="{w.uni_a.id}" selected>' in html
    assert_well_formed(html, scan)


def test_university_admin_breakdown_is_own_colleges_and_industries(client, auth, pipeline):
    admin = pipeline.world.admin_a
    html, _ = get(client, auth, admin, "/dashboard/breakdown")
    assert "材料学院" in html and "乙大学机械学院" not in html
    assert "<select" not in html  # no university filter for a university's own view

    html, _ = get(client, auth, admin, "/dashboard/breakdown?by=industry")
    assert "C 制造业" in html and "未标注门类代码" in html
    assert client.get("/dashboard/breakdown?by=university").status_code == 404


def test_college_admin_breakdown_is_industry_only(client, auth, pipeline):
    html, _ = get(client, auth, pipeline.world.college_admin_a, "/dashboard/breakdown")
    assert "C 制造业" in html
    assert client.get("/dashboard/breakdown?by=college").status_code == 404


def test_contracts_page(client, auth, pipeline):
    html, scan = get(client, auth, pipeline.users["regulator"], "/dashboard/contracts")

    blocks = scan.json_blocks()
    assert blocks["chart-contracts-month"]["labels"][:3] == ["2024-03", "2024-04", "2024-05"]
    assert blocks["chart-contracts-month"]["datasets"][1]["data"][:3] == [105.5, 0.0, 20.0]
    # UX review (ua-contracts-d): one or two contracts a month drew a 0–1 axis, one contract
    # filling the chart; the count axis now reaches at least 5 whole contracts.
    assert blocks["chart-contracts-month"]["options"]["scales"]["y"]["suggestedMax"] == 5
    assert "125.50" in html and "万元" in html
    assert "33.3%（1 / 3）" in html  # each kind's share of the contracts
    assert_well_formed(html, scan)


def test_contracts_page_of_a_university(client, auth, pipeline):
    html, _ = get(client, auth, pipeline.world.admin_b, "/dashboard/contracts")
    assert "5.00" in html and "125.50" not in html and "120.50" not in html


def test_overdue_page_of_a_university_links_to_deals(client, auth, pipeline):
    html, scan = get(client, auth, pipeline.world.admin_a, "/dashboard/overdue")

    d2, db3 = pipeline.deals["d2"], pipeline.deals["db3"]
    assert f'href="/deals/{d2.id}">#{d2.id}</a>' in html
    assert f'href="/deals/{db3.id}"' not in html
    assert f'href="/patents/{pipeline.patents["p2"].id}"' in html
    assert "王经理" in html
    assert scan.json_blocks()["chart-overdue-units"]["labels"] == ["材料学院"]
    assert_well_formed(html, scan)


def test_overdue_page_empty_for_a_college_without_overdue(client, auth, pipeline):
    html, scan = get(client, auth, pipeline.users["energy_admin"], "/dashboard/overdue")
    assert "没有逾期未答复的对接" in html
    assert "0.0%（0 / 1）" in html  # one deal awaits an answer, none overdue
    # no chart of overdue counts, but the college's answers are there, "nothing overdue" too
    assert [c["data-chart"] for c in scan.canvases] == ["chart-answers-units"]
    table = TableScan()
    table.feed(html)
    assert table.tables["table-overdue-units"][1][:4] == ["能源学院", "3", "1", "0"]


def test_unmet_page_lists_and_escapes(client, auth, pipeline):
    html, scan = get(client, auth, pipeline.users["o2"], "/dashboard/unmet")

    d3 = pipeline.demands["D3"]
    assert f'href="/demands/{d3.id}">=HYPERLINK(&#34;http://x&#34;)盐碱地改良</a>' in html
    assert "匹配结果均被否决（2 条）" in html
    assert "饲料添加剂" not in html  # D5 still has an undecided candidate
    assert "40.0%（2 / 5）" in html  # unmet / open demands
    assert_well_formed(html, scan)


def test_workload_page(client, auth, pipeline):
    html, scan = get(client, auth, pipeline.users["regulator"], "/dashboard/workload")

    blocks = scan.json_blocks()
    assert blocks["chart-workload"]["labels"] == ["王经理", "李经理", "赵经理"]
    assert blocks["chart-workload"]["datasets"][1]["data"] == [3, 1, 0]
    assert "涉及 1 条征集中的需求" in html
    assert_well_formed(html, scan)


def test_list_pages_paginate(client, auth, pipeline, monkeypatch):
    from revive.dashboard import pages

    monkeypatch.setattr(pages, "LIST_PAGE_SIZE", 1)
    html, _ = get(client, auth, pipeline.users["regulator"], "/dashboard/unmet?page=2")
    assert "污水深度处理" in html  # D4, the second oldest
    assert "盐碱地改良" not in html  # D3 is on page 1
    assert 'href="/dashboard/unmet?page=1"' in html


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/dashboard/breakdown",
        "/dashboard/breakdown?by=industry",
        "/dashboard/monthly",
        "/dashboard/contracts",
        "/dashboard/overdue",
        "/dashboard/unmet",
        "/dashboard/workload",
    ],
)
def test_page_statement_count_does_not_grow_with_data(client, auth, pipeline, path):
    """No per-row queries: ten more patents, demands, deals and contracts cost no statement."""
    import sqlalchemy as sa

    from revive.deals.models import ContractKind, Stage
    from revive.extensions import db
    from revive.inventory.models import EntryStatus
    from tests.dashboard.helpers import make_contract, make_deal, make_demand, make_evaluation
    from tests.factories import make_patent

    auth.login(pipeline.users["regulator"])
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    def statements() -> int:
        seen.clear()
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(path).status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    db.session.expire_all()  # the same state before both measurements
    before = statements()
    w, officer = pipeline.world, pipeline.users["o2"]
    for i in range(10):
        p = make_patent(
            w.uni_b, college=w.b_college, status=EntryStatus.ENTERED, industry_code="E4710"
        )
        demand = make_demand(pipeline.ent_x, f"新需求{i}", industry="E4710 住宅房屋建筑")
        deal = make_deal(
            demand, p, officer, [Stage.RECOMMENDED], now=pipeline.now, due_in_days=-i - 1
        )
        make_evaluation(p, pipeline.ent_y)
        make_demand(pipeline.ent_y, f"无人响应的需求{i}")
        if i % 3 == 0:
            make_contract(deal, ContractKind.LICENSE, "3", pipeline.now.date())
    db.session.commit()
    db.session.expire_all()
    assert statements() == before


def _signed_application(declaration, enterprise):
    """An open-licence application the holder recorded as signed (written directly)."""
    from datetime import date

    from revive.extensions import db
    from revive.licensing.models import ApplicationStatus, LicenceApplication

    application = LicenceApplication(
        declaration_id=declaration.id,
        patent_id=declaration.patent_id,
        enterprise_id=enterprise.id,
        status=ApplicationStatus.SIGNED,
        applicant_name=enterprise.name,
        contact_name="联系人",
        contact_phone="0471-1234567",
        intended_use="产线",
        terms_accepted=True,
        terms={},
        signed_on=date(2025, 3, 1),
    )
    db.session.add(application)
    db.session.commit()
    return application


def test_the_two_open_licence_figures_say_what_they_count(client, auth, pipeline):
    """The card read 「已签订 0 件」 beside a 合同类型 table with 开放许可 1: one counted
    open-licence applications signed, the other open-licence contracts registered on deals,
    and nothing said so. Each now names its record, and open licences recorded in both places
    (the same enterprise and patent) are counted once in the total."""
    from revive.dashboard import activity
    from revive.dashboard.scope import scope_for
    from tests.licensing.helpers import make_declaration

    b2 = pipeline.patents["b2"]  # db2: 乙大学 × 乙制造, a 开放许可 contract on a deal
    declaration = make_declaration(b2)
    _signed_application(declaration, pipeline.ent_y)  # recorded on the deal as well
    _signed_application(declaration, pipeline.ent_x)  # only an application

    html, scan = get(client, auth, pipeline.users["regulator"], "/dashboard/contracts")
    assert "已签订 0 件" not in html
    assert "通过开放许可实施申请签订 2 件（不计入合同数）" in html
    assert "对接中登记的合同（按合同计数）" in html
    assert (
        "「开放许可」行是对接中登记的开放许可合同（1 份）；通过开放许可实施申请签订的 2 件是"
        "另一种记录，不在此表，其中 1 件两处都有登记（同一企业、同一专利），开放许可共签订 2 件。"
    ) in html
    assert_well_formed(html, scan)

    assert activity.open_licences_in_both(scope_for(pipeline.world.admin_b).deals()) == 1
    assert activity.open_licences_in_both(scope_for(pipeline.world.admin_a).deals()) == 0
    auth.logout()
    html, _ = get(client, auth, pipeline.world.admin_a, "/dashboard/contracts")
    assert "通过开放许可实施申请签订 0 件" in html
    assert "「开放许可」行是对接中登记的开放许可合同（0 份）" in html and "两处都有登记" not in html
