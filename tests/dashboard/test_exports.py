"""Every dashboard table downloads as .xlsx and .csv with the numbers shown on the page, scoped
like the page, and formula-safe (a cell starting with = + - @ is never run by Excel/WPS)."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal, InvalidOperation

import pytest
from openpyxl import load_workbook

from revive.accounts.models import Role
from revive.common.spreadsheets import unquote
from revive.dashboard import pages
from revive.templating import format_rate
from tests.dashboard.helpers import TableScan
from tests.factories import make_user
from tests.spreadsheets import formula_cells


def download(client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    if url.split("?")[0].endswith(".csv"):
        assert response.mimetype == "text/csv"
        raw = response.get_data()
        assert raw.startswith("\ufeff".encode())  # Excel needs the BOM for Chinese text
        return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert formula_cells(response.get_data()) == []  # text that looks like a formula is text
    wb = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [
        ["" if v is None else str(v) for v in row] for row in wb.active.iter_rows(values_only=True)
    ]


def number(cell: str) -> str:
    """'105.50' and '105.5' are the same figure (CSV writes Decimals as text, XLSX as numbers);
    a date is a date cell in the .xlsx (read back at midnight), text in the CSV."""
    if cell.endswith(" 00:00:00"):
        return cell.removesuffix(" 00:00:00")
    try:
        return format(Decimal(cell).normalize(), "f")
    except InvalidOperation:
        return cell


def rates_as_text(rows: list[list[str]]) -> list[list[str]]:
    """The .xlsx's rate columns (a share cell, then 「…：计数」 with 「n / d」) as the CSV writes
    them, 「47.4%（3688 / 7782）」, after checking the share is n / d."""
    pairs = [i for i, label in enumerate(rows[0]) if label.endswith("：计数")]
    out = []
    for r, row in enumerate(rows):
        row = list(row)
        for i in reversed(pairs):
            if r == 0:
                del row[i]
                continue
            share, counts = row[i - 1], row[i]
            if counts:
                n, d = (int(x) for x in counts.split(" / "))
                expected = pytest.approx(n / d, rel=1e-12) if d else None
                assert (float(share) if share else None) == expected, (share, counts)
                row[i - 1] = format_rate(n, d)
            del row[i]
        out.append(row)
    return out


def both(client, path: str, query: str = "") -> list[list[str]]:
    """The rows (numbers normalised; the CSV's formula-neutralising apostrophe removed, which
    the .xlsx does not need: its cells are typed as text), after checking the XLSX and CSV
    files say the same (the .xlsx's rates are numbers beside their counts)."""
    q = f"?{query}" if query else ""
    rows_csv = [[number(unquote(c)) for c in r] for r in download(client, f"{path}.csv{q}")]
    rows_xlsx = rates_as_text(download(client, f"{path}.xlsx{q}"))
    assert [[number(c) for c in r] for r in rows_xlsx] == rows_csv
    return rows_csv


def test_funnel_export_matches_the_page(client, auth, pipeline):
    auth.login(pipeline.world.admin_a)
    rows = both(client, "/dashboard/export/funnel")

    assert rows[0] == [
        "环节",
        "专利数",
        "环节转化率",
        "计算方式（分子 / 分母）",
        "占盘点数（/ 盘点数）",
        "口径",
    ]
    figures = {r[0]: r[1:5] for r in rows[1:]}
    assert figures == {
        "盘点": ["10", "—", "起点", "100.0%（10 / 10）"],
        "入库": ["4", "40.0%（4 / 10）", "入库率（入库数 / 盘点数）", "40.0%（4 / 10）"],
        "评价": ["2", "50.0%（2 / 4）", "评价率（评价数 / 入库数）", "20.0%（2 / 10）"],
        "推送": ["3", "75.0%（3 / 4）", "推送率（推送数 / 入库数）", "30.0%（3 / 10）"],
        "对接": ["2", "66.7%（2 / 3）", "对接率（对接数 / 推送数）", "20.0%（2 / 10）"],
        "签约": ["1", "50.0%（1 / 2）", "签约率（签约数 / 对接数）", "10.0%（1 / 10）"],
    }
    page = client.get("/").get_data(as_text=True)
    for _label, _n, rate, _name, share in (r[:5] for r in rows[1:]):
        assert rate in page or rate == "—"
        assert share in page


def test_breakdown_export_has_total_row(client, auth, pipeline):
    auth.login(pipeline.users["regulator"])
    rows = both(client, "/dashboard/export/by-university")

    assert rows[0][:7] == ["高校", "盘点数", "入库数", "推送数", "评价数", "对接数", "签约数"]
    assert rows[0][7:] == [
        "入库率（入库数 / 盘点数）",
        "推送率（推送数 / 入库数）",
        "评价率（评价数 / 入库数）",
        "对接率（对接数 / 推送数）",
        "签约率（签约数 / 对接数）",
    ]
    by_name = {r[0]: r[1:7] for r in rows[1:]}
    assert by_name["甲大学"] == ["10", "4", "3", "2", "2", "1"]
    assert by_name["乙大学"] == ["3", "3", "3", "1", "3", "1"]
    assert by_name["丙学院"] == ["0"] * 6
    assert by_name["合计"] == ["13", "7", "6", "3", "5", "2"]


def test_regional_filter_reaches_the_export(client, auth, pipeline):
    w = pipeline.world
    auth.login(pipeline.users["o1"])
    rows = both(client, "/dashboard/export/by-college", f"university={w.uni_b.id}")
    assert [r[0] for r in rows[1:]] == ["乙大学机械学院", "合计"]
    rows = both(client, "/dashboard/export/contracts-kind", f"university={w.uni_b.id}")
    assert rows[-1][:2] == ["合计", "1"]


def test_university_admin_export_ignores_other_university(client, auth, pipeline):
    w = pipeline.world
    auth.login(w.admin_a)
    rows = both(client, "/dashboard/export/by-college", f"university={w.uni_b.id}")
    assert "乙大学机械学院" not in {r[0] for r in rows}
    assert {"材料学院", "能源学院"} <= {r[0] for r in rows}


def test_contract_exports(client, auth, pipeline):
    auth.login(pipeline.users["regulator"])
    months = both(client, "/dashboard/export/contracts-month")
    assert months[1:4] == [["2024-03", "2", "105.5"], ["2024-04", "0", "0"], ["2024-05", "1", "20"]]
    assert months[-1] == ["合计", "3", "125.5"]
    kinds = both(client, "/dashboard/export/contracts-kind")
    assert kinds[1] == ["转让", "1", "33.3%（1 / 3）", "100.5"]
    # one row per contract, latest signed first (a tester: the regulator had totals only)
    listed = both(client, "/dashboard/export/contracts")
    assert listed[0][:2] == ["对接", "专利"] and "备案号" in listed[0]
    assert len(listed) == 1 + 3
    signed = [r[listed[0].index("签订日期")] for r in listed[1:]]
    assert signed == sorted(signed, reverse=True) and signed[0].startswith("2024-05")
    assert {r[listed[0].index("合同类型")] for r in listed[1:]} <= {
        "转让",
        "许可",
        "作价入股",
        "开放许可",
    }


def test_xlsx_keeps_numbers_numeric(client, auth, pipeline):
    auth.login(pipeline.users["regulator"])
    response = client.get("/dashboard/export/contracts-month.xlsx")
    ws = load_workbook(io.BytesIO(response.get_data())).active
    assert ws["B2"].value == 2
    assert Decimal(str(ws["C2"].value)) == Decimal("105.5")
    assert ws.title == "各月合同数与金额"


def test_xlsx_rates_are_percent_numbers_beside_their_counts(client, auth, pipeline):
    """A tester's spreadsheet could not sort or chart 「40.0%（4 / 10）」: it was text."""
    auth.login(pipeline.world.admin_a)
    response = client.get("/dashboard/export/funnel.xlsx")
    ws = load_workbook(io.BytesIO(response.get_data())).active
    header = [c.value for c in ws[1]]
    assert header[2:4] == ["环节转化率", "环节转化率：计数"]
    entered = next(row for row in ws.iter_rows(min_row=2) if row[0].value == "入库")
    share, counts = entered[2], entered[3]
    assert share.value == 0.4 and share.number_format == "0.0%"
    assert counts.value == "4 / 10"
    first = next(row for row in ws.iter_rows(min_row=2) if row[0].value == "盘点")
    assert first[2].value in (None, "—") and first[3].value in (None, "")  # no base: no rate


def test_overdue_export_is_scoped_and_complete(client, auth, pipeline, monkeypatch):
    monkeypatch.setattr(pages, "LIST_PAGE_SIZE", 1)  # the page shows one; the file has all
    auth.login(pipeline.users["regulator"])
    rows = both(client, "/dashboard/export/overdue")
    assert [r[0] for r in rows[1:]] == [
        f"#{pipeline.deals['d2'].id}",
        f"#{pipeline.deals['db3'].id}",
    ]
    assert rows[1][6:8] == ["王经理", "已推荐"]

    auth.logout()
    auth.login(pipeline.world.admin_b)
    rows = both(client, "/dashboard/export/overdue")
    assert [r[0] for r in rows[1:]] == [f"#{pipeline.deals['db3'].id}"]


def test_unmet_export_is_formula_safe(client, auth, pipeline):
    auth.login(pipeline.users["o1"])
    rows = both(client, "/dashboard/export/unmet")

    titles = [r[0] for r in rows[1:]]
    assert titles[0] == '=HYPERLINK("http://x")盐碱地改良'  # a text cell (.xlsx), quoted (CSV)
    assert titles[1] == "污水深度处理"
    assert [r[5] for r in rows[1:]] == ["尚无匹配结果", "匹配结果均被否决（2 条）"]


def test_workload_export(client, auth, pipeline):
    auth.login(pipeline.users["platform"])
    rows = both(client, "/dashboard/export/workload")
    assert rows[1] == ["王经理", "5", "1", "6", "3", "1", "1", "20"]
    assert rows[-1][0] == "合计" and rows[-1][4] == "4"


def test_enterprise_exports_only_own_rows(client, auth, pipeline):
    auth.login(pipeline.users["ent_y"])
    demands = both(client, "/dashboard/export/my-demands")
    deals = both(client, "/dashboard/export/my-deals")

    assert {r[0] for r in demands[1:-1]} == {"轻量化汽车零部件", "污水深度处理", "饲料添加剂"}
    assert demands[0][3:5] == ["机器推荐", "推送专利数"]
    assert demands[-1][:5] == ["合计", "", "", "1", "5"]  # D5's undecided candidate; 5 pushed
    assert len(deals) == 1 + 5
    assert {r[1] for r in deals[1:]} == {"轻量化汽车零部件"}


def test_inventory_tables_export(client, auth, pipeline):
    auth.login(pipeline.world.admin_a)
    rows = both(client, "/dashboard/export/inventory-breakdown")
    assert rows[0] == ["学院", "盘点数", "入库数", "待审核", "入库率（入库数 / 盘点数）"]
    assert ["材料学院", "4", "2", "1", "50.0%（2 / 4）"] in rows
    status = both(client, "/dashboard/export/inventory-status")
    assert ["已入库", "4", "40.0%（4 / 10）"] in status


def test_export_file_name_and_unknowns(client, auth, pipeline):
    auth.login(pipeline.users["regulator"])
    response = client.get("/dashboard/export/unmet.xlsx")
    disposition = response.headers["Content-Disposition"]
    assert 'filename="dashboard-unmet.xlsx"' in disposition
    assert "filename*=UTF-8''" in disposition
    assert client.get("/dashboard/export/unmet.pdf").status_code == 404
    assert client.get("/dashboard/export/nothing.csv").status_code == 404
    assert client.get("/dashboard/export/by-college.csv").status_code == 422  # needs university


@pytest.mark.parametrize("key", sorted(pages.EXPORTS))
def test_every_table_on_a_page_is_an_export(key):
    """Each exportable table has a source page, and each source names allowed roles."""
    source = pages.EXPORTS[key]
    assert source.roles
    assert source.page in (
        pages.home_page,
        pages.monthly_page,
        pages.breakdown_page,
        pages.contracts_page,
        pages.overdue_page,
        pages.unmet_page,
        pages.workload_page,
        pages.regions_page,
        pages.enterprise_page,
    )


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.PLATFORM_ADMIN, "/"),
        (Role.OFFICER, "/dashboard/breakdown?by=industry"),
        (Role.REGULATOR, "/dashboard/monthly"),
        (Role.REGULATOR, "/dashboard/contracts"),
        (Role.REGULATOR, "/dashboard/overdue"),
        (Role.OFFICER, "/dashboard/unmet"),
        (Role.OFFICER, "/dashboard/workload"),
        (Role.REGULATOR, "/dashboard/regions"),
        (Role.ENTERPRISE, "/"),
    ],
)
def test_every_table_shown_links_to_a_working_export(client, auth, pipeline, role, path):
    user = pipeline.users["ent_x"] if role == Role.ENTERPRISE else make_user(role)
    auth.login(user)
    html = client.get(path).get_data(as_text=True)
    links = re.findall(r'href="(/dashboard/export/[^"]+)"', html)
    tables = re.findall(r'<table class="table[^"]*" id="table-([^"]+)"', html)
    assert len(links) >= 2 * len(tables) > 0
    for link in links:
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
        response.close()


FORMULA_QUOTED = {"'=", "'+", "'-", "'@"}


def _same_figure(cell: str) -> str:
    """Page text and file text of one cell, compared as figures: '1,234.50' == '1234.5'."""
    return number(cell.replace(",", "")) if re.fullmatch(r"-?[\d,]+(\.\d+)?", cell) else cell


PAGES_BY_ROLE = [
    ("admin_a", "/"),
    ("admin_a", "/dashboard/breakdown"),
    ("admin_a", "/dashboard/breakdown?by=industry"),
    ("admin_a", "/dashboard/overdue"),
    ("college_admin_a", "/"),
    ("inventor_a", "/"),
    ("regulator", "/"),
    ("regulator", "/dashboard/breakdown"),
    ("admin_a", "/dashboard/monthly"),
    ("college_admin_a", "/dashboard/monthly"),
    ("regulator", "/dashboard/monthly"),
    ("regulator", "/dashboard/contracts"),
    ("regulator", "/dashboard/overdue"),
    ("regulator", "/dashboard/unmet"),
    ("regulator", "/dashboard/workload"),
    ("ent_x", "/"),
]


@pytest.mark.parametrize(("who", "path"), PAGES_BY_ROLE)
def test_page_tables_and_their_downloads_carry_the_same_cells(client, auth, pipeline, who, path):
    """Every table on the page, cell by cell (header and total row included), equals its
    download: what a user reads is what they export."""
    user = pipeline.users.get(who) or getattr(pipeline.world, who)
    auth.login(user)
    _tables_match_downloads(client, path, client.get(path).get_data(as_text=True))


@pytest.mark.parametrize("path", ["/", "/dashboard/breakdown?by=college"])
def test_a_chosen_universitys_tables_and_downloads_carry_the_same_cells(
    client, auth, pipeline, path
):
    """The overview narrowed to one university (as the other tabs are): its tables and their
    downloads keep the choice."""
    auth.login(pipeline.users["regulator"])
    uni = pipeline.world.uni_b.id
    url = f"{path}{'&' if '?' in path else '?'}university={uni}"
    html = client.get(url).get_data(as_text=True)
    assert "统计范围：全平台 · 乙大学" in html
    _tables_match_downloads(client, url, html)


def _tables_match_downloads(client, path: str, html: str) -> None:
    scan = TableScan()
    scan.feed(html)
    checked = 0
    for dom_id, rows in scan.tables.items():
        export_link = re.search(
            rf'<h[23] class="table-title" id="{dom_id}-title">.*?href="(/dashboard/export/[^"]+\.csv[^"]*)"',
            html,
            re.S,
        )
        assert export_link, f"{dom_id} has no CSV link"
        url = export_link.group(1).replace("&amp;", "&")
        # safe_cell's apostrophe before = + - @ is the one intended difference (tested above)
        file_rows = [
            [_same_figure(c[1:] if c[:2] in FORMULA_QUOTED else c) for c in r]
            for r in download(client, url)
        ]
        page_rows = [[_same_figure(c) for c in r] for r in rows]
        assert page_rows == file_rows, (path, dom_id)
        checked += 1
    assert checked == len(re.findall(r"<table ", html)) > 0


# ---------------------------------------------------------------------------- time zone

MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


def _exporter(pipeline, source):
    if source.roles == frozenset({Role.ENTERPRISE}):
        return pipeline.users["ent_x"]
    if Role.REGULATOR in source.roles:
        return pipeline.users["regulator"]
    return pipeline.world.admin_a


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_exported_time_names_its_zone(client, auth, pipeline, fmt):
    """/dashboard/export/unmet.csv's 发布时间 and overdue.csv's 推送时间 gave times without a zone
    while /audit/export.csv says 「时间（北京时间）」: every column of times says it now, in every
    dashboard export (and the monthly table's months, which are Beijing-time months)."""
    timed = set()
    for key, source in sorted(pages.EXPORTS.items()):
        auth.logout()
        auth.login(_exporter(pipeline, source))
        query = f"?university={pipeline.world.uni_a.id}" if key == "by-college" else ""
        rows = download(client, f"/dashboard/export/{key}.{fmt}{query}")
        header, body = rows[0], rows[1:]
        for i, label in enumerate(header):
            if any(MOMENT.match(r[i]) for r in body if i < len(r)):
                assert label.endswith("（北京时间）"), (key, label)
                timed.add((key, label))
        if key == "monthly":
            assert header[0] == "月份（北京时间）"
    assert {
        ("unmet", "发布时间（北京时间）"),
        ("overdue", "推送时间（北京时间）"),
        ("overdue", "答复期限（北京时间）"),
        ("my-demands", "发布时间（北京时间）"),
        ("my-deals", "推送时间（北京时间）"),
    } <= timed


def test_the_configured_zone_is_the_one_named(client, auth, pipeline, app, monkeypatch):
    """Outside Beijing time the zone's own name is used, and the times are in it."""
    from revive.clock import format_dt

    monkeypatch.setitem(app.config, "REVIVE_TIMEZONE", "Asia/Tokyo")
    auth.login(pipeline.users["regulator"])
    rows = download(client, "/dashboard/export/overdue.csv")
    assert "推送时间（Asia/Tokyo）" in rows[0]
    column = rows[0].index("推送时间（Asia/Tokyo）")
    deal = pipeline.deals["d2"]
    with app.test_request_context():
        pushed = format_dt(deal.pushed_at)
    assert pushed in {r[column] for r in rows[1:]}
