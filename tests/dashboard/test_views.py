"""The dashboard page and its JSON twin, as a logged-in user sees them."""

from __future__ import annotations

import pytest

from revive.accounts.models import Role
from tests.dashboard.helpers import PageScan
from tests.factories import make_user


def get_page(client, auth, user) -> tuple[str, PageScan]:
    auth.login(user)
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    scan = PageScan()
    scan.feed(html)
    return html, scan


def test_home_shows_scoped_figures_with_denominators(client, auth, world):
    html, _ = get_page(client, auth, world.admin_a)

    assert "25.0%（2 / 8）" in html  # 入库率 names its denominator
    assert "50.0%（2 / 4）" in html  # 材料学院 row
    assert "—（0 / 0）" in html  # 外国语学院: listed, rate shown as undefined
    assert "外国语学院" in html
    assert "乙大学机械学院" not in html


def test_the_funnel_reads_as_cards_on_a_phone_and_other_tables_scroll(client, auth, world):
    """A design review at 375 px: the funnel's 口径 column was squeezed to a few characters a
    line. Its six steps are cards on a phone, each figure under its column's name; the other
    tables (figures to compare down a column) scroll sideways in their box."""
    from tests.phone_cards import assert_cards_on_phone, read_table

    html, _ = get_page(client, auth, world.admin_a)
    funnel = assert_cards_on_phone(html, "table-funnel")
    assert [row[0].text.strip() for row in funnel.rows][:2] == ["盘点", "入库"]
    assert funnel.rows[0][-1].label == "口径"
    breakdown = read_table(html, "table-breakdown")
    assert breakdown.in_wrap and "cards-on-phone" not in breakdown.classes


def test_college_admin_page_hides_other_colleges(client, auth, world):
    html, _ = get_page(client, auth, world.college_admin_a)

    assert "50.0%（2 / 4）" in html
    assert "能源学院" not in html
    assert "table-breakdown" not in html


def test_chart_blocks_are_valid_json_with_expected_labels(client, auth, world):
    _, scan = get_page(client, auth, world.admin_a)
    blocks = scan.json_blocks()

    assert blocks["chart-grade"]["labels"] == ["1★", "2★", "3★", "4★", "5★", "未自评"]
    assert blocks["chart-grade"]["datasets"][0]["data"] == [1, 0, 1, 0, 1, 5]
    assert blocks["chart-trl"]["labels"] == [f"TRL {n}" for n in range(1, 10)] + ["未评"]
    assert blocks["chart-funnel"]["labels"] == [
        "草稿",
        "待学院审核",
        "待学校审核",
        "已入库",
        "退回",
        "不入库",
        "建议放弃",
    ]
    assert blocks["chart-willingness"]["labels"] == ["愿意", "视条件", "暂不", "未填写"]
    breakdown = blocks["chart-breakdown"]
    assert breakdown["labels"][0] == "材料学院"
    assert [d["label"] for d in breakdown["datasets"]] == ["盘点数", "入库数"]
    # every canvas points at an existing JSON block, and has an accessible name
    assert scan.canvases
    for canvas in scan.canvases:
        assert canvas["data-chart"] in blocks
        assert canvas.get("role") == "img"
        assert canvas.get("aria-describedby")


def test_page_has_no_inline_script_code(client, auth, world):
    _, scan = get_page(client, auth, world.admin_a)

    srcs = []
    for attrs, body in scan.scripts:
        if attrs.get("type") == "application/json":
            continue
        assert attrs.get("src"), f"inline script: {body[:80]!r}"
        assert not body.strip()
        srcs.append(attrs["src"])
    assert any(s.endswith("vendor/chartjs/chart.umd.min.js") for s in srcs)
    assert any(s.endswith("js/charts.js") for s in srcs)
    assert scan.handlers == []


def test_static_assets_are_served_locally(client, auth, world):
    for path in (
        "/static/css/app.css",
        "/static/js/charts.js",
        "/static/vendor/chartjs/chart.umd.min.js",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()


def test_empty_scope_renders_friendly_message_without_charts(client, auth, app):
    html, scan = get_page(client, auth, make_user(Role.UNIVERSITY_ADMIN))

    assert "还没有专利盘点数据" in html
    assert scan.canvases == []
    assert not any("chart" in (attrs.get("src") or "") for attrs, _ in scan.scripts)


def test_enterprise_user_gets_welcome_page(client, auth, world):
    html, scan = get_page(client, auth, make_user(Role.ENTERPRISE))

    assert "欢迎使用" in html
    assert "盘点数" not in html
    assert scan.canvases == []


def test_dashboard_requires_login(client, app):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_api_summary_returns_scoped_figures(client, auth, world):
    auth.login(world.admin_b)
    data = client.get("/api/v1/dashboard/summary").get_json()

    assert data["scope"] == "乙大学"
    assert (data["total"], data["entered"]) == (3, 3)
    assert data["entry_rate"]["display"] == "100.0%（3 / 3）"
    assert data["entry_rate"]["denominator"] == 3
    assert data["breakdown_kind"] == "college"
    assert [r["name"] for r in data["breakdown"]] == ["乙大学机械学院"]
    assert {b["key"]: b["count"] for b in data["by_value_grade"]}["3"] == 3


@pytest.mark.parametrize("role", [Role.PLATFORM_ADMIN, Role.REGULATOR])
def test_api_summary_for_read_all_roles_lists_universities(client, auth, world, role):
    auth.login(make_user(role))
    data = client.get("/api/v1/dashboard/summary").get_json()

    assert data["total"] == 11
    assert data["breakdown_kind"] == "university"
    assert {r["name"] for r in data["breakdown"]} == {"甲大学", "乙大学", "丙学院"}


def test_api_summary_refuses_enterprise(client, auth, world):
    auth.login(make_user(Role.ENTERPRISE))
    response = client.get("/api/v1/dashboard/summary")

    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


# ---------------------------------------------------------------------------- one university


def _breakdown_names(html: str) -> list[str]:
    from tests.dashboard.helpers import TableScan

    scan = TableScan()
    scan.feed(html)
    return [row[0] for row in scan.tables["table-breakdown"][1:]]


@pytest.mark.parametrize("role", [Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR])
def test_regional_overview_narrows_to_one_university(client, auth, world, role):
    """/?university=1 showed the whole platform (11 patents here) to the regulator: the
    overview now takes the university filter of the other tabs, with the same selector."""
    auth.login(make_user(role))
    html = client.get(f"/?university={world.uni_a.id}").get_data(as_text=True)
    assert "统计范围：全平台 · 甲大学" in html
    assert "入库数 / 盘点数 = 2 / 8" in html  # 甲大学's 8 patents, not the platform's 11
    assert '<select name="university">' in html
    assert f'<option value="{world.uni_a.id}" selected>甲大学</option>' in html
    assert "各学院盘点进度" in html  # per college, as the university sees it
    assert _breakdown_names(html) == ["材料学院", "能源学院", "未指定学院", "外国语学院", "合计"]
    assert "入库数 / 盘点数 = 5 / 11" in client.get("/").get_data(as_text=True)  # unfiltered
    blocks = PageScan()
    blocks.feed(html)
    assert blocks.json_blocks()["chart-grade"]["datasets"][0]["data"] == [1, 0, 1, 0, 1, 5]
    # the table exports and the overdue card keep the choice
    assert f'href="/dashboard/export/inventory-status.csv?university={world.uni_a.id}"' in html
    assert f'href="/dashboard/export/funnel.csv?university={world.uni_a.id}"' in html
    assert f'href="/dashboard/overdue?university={world.uni_a.id}"' in html
    status = client.get(f"/dashboard/export/inventory-status.csv?university={world.uni_a.id}")
    assert "已入库,2,25.0%（2 / 8）" in status.get_data(as_text=True)
    assert client.get("/?university=999999").status_code == 404


def test_a_university_without_patents_says_so_when_chosen(client, auth, world):
    auth.login(make_user(Role.REGULATOR))
    html = client.get(f"/?university={world.idle_uni.id}").get_data(as_text=True)
    assert "统计范围：全平台 · 丙学院" in html
    assert "这所高校还没有上传盘点数据" in html
    assert '<select name="university">' in html  # the way back to another choice


@pytest.mark.parametrize("who", ["admin_a", "college_admin_a"])
def test_a_foreign_university_argument_does_not_widen_a_scoped_view(client, auth, world, who):
    """A university (or college) admin keeps seeing their own scope, whatever ?university=
    names: page, exports and API alike, and no selector."""
    user = getattr(world, who)
    own_html, _ = get_page(client, auth, user)
    html = client.get(f"/?university={world.uni_b.id}").get_data(as_text=True)
    assert html == own_html
    assert "乙大学" not in html and '<select name="university">' not in html
    own = client.get("/dashboard/export/inventory-status.csv").get_data(as_text=True)
    other = client.get(f"/dashboard/export/inventory-status.csv?university={world.uni_b.id}")
    assert other.get_data(as_text=True) == own
    data = client.get(f"/api/v1/dashboard/summary?university={world.uni_b.id}").get_json()
    assert data["total"] == (8 if who == "admin_a" else 4)
    assert "乙大学" not in data["scope"]


def test_api_summary_narrows_to_one_university(client, auth, world):
    auth.login(make_user(Role.REGULATOR))
    data = client.get(f"/api/v1/dashboard/summary?university={world.uni_b.id}").get_json()
    assert data["scope"] == "全平台 · 乙大学"
    assert (data["total"], data["entered"]) == (3, 3)
    assert data["breakdown_kind"] == "college"
    assert [r["name"] for r in data["breakdown"]] == ["乙大学机械学院"]
    assert client.get("/api/v1/dashboard/summary?university=999999").status_code == 404


# ---------------------------------------------------------------------------- mix per unit


def _table(html: str, dom_id: str) -> list[list[str]]:
    from tests.dashboard.helpers import TableScan

    scan = TableScan()
    scan.feed(html)
    return scan.tables[dom_id]


def test_regional_overview_compares_universities_by_grade_trl_willingness_and_status(
    client, auth, world
):
    """Per university, the counts behind the overview's four distributions: 建议放弃 and 不入库
    included, each table adding up to the 盘点数 of its row."""
    auth.login(make_user(Role.REGULATOR))
    html = client.get("/").get_data(as_text=True)

    status = _table(html, "table-mix-status")
    assert status[0] == [
        "高校",
        "盘点数",
        "草稿",
        "待学院审核",
        "待学校审核",
        "已入库",
        "退回",
        "不入库",
        "建议放弃",
    ]
    rows = {r[0]: r[1:] for r in status[1:]}
    assert rows["甲大学"] == ["8", "1", "1", "1", "2", "1", "1", "1"]
    assert rows["乙大学"] == ["3", "0", "0", "0", "3", "0", "0", "0"]
    assert rows["丙学院"] == ["0"] * 8  # nothing uploaded yet: listed
    assert rows["合计"] == ["11", "1", "1", "1", "5", "1", "1", "1"]

    grade = _table(html, "table-mix-grade")
    assert grade[0][2:8] == ["1★", "2★", "3★", "4★", "5★", "未自评"]
    assert grade[0][8] == "自评 4–5★（4–5★ 数 / 已自评数）"
    rows = {r[0]: r[1:] for r in grade[1:]}
    assert rows["甲大学"] == ["8", "1", "0", "1", "0", "1", "5", "33.3%（1 / 3）"]
    assert rows["乙大学"] == ["3", "0", "0", "3", "0", "0", "0", "0.0%（0 / 3）"]
    assert rows["丙学院"][-1] == "—（0 / 0）"

    trl = _table(html, "table-mix-trl")
    assert trl[0][1:] == ["盘点数", "TRL 1–3", "TRL 4–6", "TRL 7–9", "未评"]
    rows = {r[0]: r[1:] for r in trl[1:]}
    assert rows["甲大学"] == ["8", "0", "1", "1", "6"]
    assert rows["乙大学"] == ["3", "0", "3", "0", "0"]

    willingness = _table(html, "table-mix-willingness")
    assert willingness[0][1:] == ["盘点数", "愿意", "视条件", "暂不", "未填写"]
    rows = {r[0]: r[1:] for r in willingness[1:]}
    assert rows["甲大学"] == ["8", "2", "0", "1", "5"]
    assert rows["合计"] == ["11", "5", "0", "1", "5"]

    for key in ("mix-status", "mix-grade", "mix-trl", "mix-willingness"):
        assert f'href="/dashboard/export/{key}.csv"' in html
    csv = client.get("/dashboard/export/mix-status.csv").get_data(as_text=True)
    assert "甲大学,8,1,1,1,2,1,1,1" in csv


@pytest.mark.parametrize("who", ["regulator", "admin_a"])
def test_a_universitys_mix_is_per_college(client, auth, world, who):
    """A regional view narrowed to 甲大学 and 甲大学's own admin see the same per-college
    tables; the college admin (one college) sees the overview's distributions only."""
    user = make_user(Role.REGULATOR) if who == "regulator" else world.admin_a
    auth.login(user)
    html = client.get(f"/?university={world.uni_a.id}").get_data(as_text=True)
    status = _table(html, "table-mix-status")
    assert status[0][0] == "学院"
    rows = {r[0]: r[1:] for r in status[1:]}
    assert rows == {
        "材料学院": ["4", "1", "1", "0", "2", "0", "0", "0"],
        "能源学院": ["3", "0", "0", "1", "0", "1", "0", "1"],
        "未指定学院": ["1", "0", "0", "0", "0", "0", "1", "0"],
        "外国语学院": ["0"] * 8,
        "合计": ["8", "1", "1", "1", "2", "1", "1", "1"],
    }
    assert "各学院专利价值分级自评" in html and "乙大学机械学院" not in html
    query = f"?university={world.uni_a.id}" if who == "regulator" else ""
    csv = client.get(f"/dashboard/export/mix-trl.csv{query}").get_data(as_text=True)
    assert "材料学院,4,0,1,1,2" in csv

    auth.logout()
    auth.login(world.college_admin_a)
    html = client.get("/").get_data(as_text=True)
    assert "table-mix-" not in html
    assert client.get("/dashboard/export/mix-status.csv").status_code == 404
