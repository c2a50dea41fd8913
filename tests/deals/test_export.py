"""The deals board's export (/deals/export.csv|.xlsx): one row per deal the viewer may see,
with the board's filters, the deal page's values (Beijing time), formula-safe cells; a large
.xlsx is built in the background like the other exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from revive.accounts.models import Role
from revive.clock import local_today
from revive.deals import services
from revive.deals.models import UniversityResponse
from revive.exports.models import ExportJob
from revive.extensions import db
from tests.deals.helpers import make_overdue, sign
from tests.exports.helpers import download, read_xlsx, run_worker
from tests.statements import statements_run

HEADER = [
    "对接编号",
    "需求",
    "企业",
    "专利",
    "申请号",
    "高校",
    "学院",
    "阶段",
    "推送日期",
    "答复期限（北京时间）",
    "高校答复",
    "答复日期",
    "是否逾期",
    "未成交原因",
    "合同类型",
    "合同金额（万元）",
    "签约日期",
    "技术经理人",
]


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese right
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def export(client, fmt: str = "csv", **args) -> bytes:
    response = client.get(f"/deals/export.{fmt}", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    data = response.get_data()
    response.close()
    return data


def by_demand(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    assert rows[0] == HEADER
    return {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}


def test_each_deal_reads_as_on_its_page_in_beijing_time(world, client, auth):
    signed = sign(world.own_deal(title="已签约的需求"), actor=world.officer)
    late = make_overdue(world.own_deal(title="逾期的需求"))
    # pushed at 16:30 UTC on 1 March: already 2 March in Beijing; due 17:30 UTC on 9 March:
    # 01:30 on 10 March in Beijing
    late.pushed_at = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
    late.response_due_at = datetime(2026, 3, 9, 17, 30, tzinfo=UTC)
    declined = world.own_deal(title="未成交的需求", response=UniversityResponse.DECLINED)
    declined.responded_at = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)  # 5 March, Beijing
    db.session.commit()
    services.change_stage(declined.id, "fail", world.officer, reason="declined", comment="无团队")
    auth.login(world.users[Role.REGULATOR])
    rows = by_demand(read_csv(export(client)))
    assert list(rows) == ["已签约的需求", "逾期的需求", "未成交的需求"]  # by 对接编号

    row = rows["已签约的需求"]
    assert row["对接编号"] == str(signed.id)
    assert row["企业"] == "甲科技有限公司"
    assert row["专利"] == signed.patent.title
    assert row["申请号"] == signed.patent.application_no
    assert (row["高校"], row["学院"]) == ("甲大学", "甲材料学院")
    assert row["阶段"] == "已签约"
    assert row["合同类型"] == "许可（普通许可）"
    assert row["合同金额（万元）"] == "120.50"
    assert row["签约日期"] == local_today().isoformat()
    assert row["技术经理人"] == "王经理"
    assert (row["高校答复"], row["答复日期"], row["是否逾期"]) == ("未答复", "", "否")

    row = rows["逾期的需求"]
    assert row["阶段"] == "已推荐"
    assert row["推送日期"] == "2026-03-02"
    assert row["答复期限（北京时间）"] == "2026-03-10 01:30"
    assert row["是否逾期"] == "是"
    assert row["合同类型"] == row["合同金额（万元）"] == row["签约日期"] == ""

    row = rows["未成交的需求"]
    assert row["阶段"] == "未成交"
    assert row["未成交原因"] == "高校暂不对接"
    assert (row["高校答复"], row["答复日期"]) == ("暂不对接", "2026-03-05")
    assert row["是否逾期"] == "否"


def test_an_enterprise_exports_only_its_own_deals(world, client, auth):
    world.own_deal(title="甲企业的需求")
    world.other_deal(title="乙企业的需求")
    auth.login(world.users[Role.ENTERPRISE])
    for fmt in ("csv", "xlsx"):
        data = export(client, fmt)
        rows = read_csv(data) if fmt == "csv" else [list(r) for r in read_xlsx(data)[1]]
        assert [r[1] for r in rows[1:]] == ["甲企业的需求"], fmt
    # naming the other enterprise in the filter widens nothing
    rows = read_csv(export(client, enterprise=world.ent_b.id))
    assert rows == [HEADER]


def test_the_university_side_exports_the_deals_of_the_patents_it_sees(world, client, auth):
    world.own_deal(title="本学院的需求")
    neighbour = world.own_deal(title="隔壁学院的需求")
    neighbour.patent.college = world.other_college_a
    neighbour.patent.inventor_users = []
    db.session.commit()
    world.other_deal(title="乙大学的需求")
    expected = {
        Role.UNIVERSITY_ADMIN: ["本学院的需求", "隔壁学院的需求"],
        Role.COLLEGE_ADMIN: ["本学院的需求"],
        Role.INVENTOR: ["本学院的需求"],
        Role.OFFICER: ["本学院的需求", "隔壁学院的需求", "乙大学的需求"],
    }
    for role, titles in expected.items():
        auth.login(world.users[role])
        assert [r[1] for r in read_csv(export(client))[1:]] == titles, role
        auth.logout()


def test_the_export_follows_the_boards_filters(world, client, auth):
    world.own_deal(title="甲的需求")
    make_overdue(world.own_deal(title="甲的逾期需求"))
    other = world.other_deal(title="乙的需求")
    sign(other, actor=world.officer)
    auth.login(world.officer)
    titles = lambda **args: [r[1] for r in read_csv(export(client, **args))[1:]]  # noqa: E731
    assert titles(overdue=1) == ["甲的逾期需求"]
    assert titles(enterprise=world.ent_b.id) == ["乙的需求"]
    assert titles(university=world.uni_a.id) == ["甲的需求", "甲的逾期需求"]
    assert titles(stage="signed") == ["乙的需求"]
    assert titles(stage="nonsense", page=3) == ["甲的需求", "甲的逾期需求", "乙的需求"]
    # the board's buttons carry its filters
    html = client.get(f"/deals/?enterprise={world.ent_a.id}&overdue=1").get_data(as_text=True)
    assert f"/deals/export.xlsx?enterprise={world.ent_a.id}&amp;overdue=1" in html
    assert f"/deals/export.csv?enterprise={world.ent_a.id}&amp;overdue=1" in html


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formula_like_text_is_neutralised(world, client, auth, fmt):
    deal = world.own_deal(title='=HYPERLINK("http://evil.example","点我")')
    deal.patent.title = "＋1+2 一种材料"
    deal.enterprise.name = "@SUM(1+1)公司"
    db.session.commit()
    auth.login(world.officer)
    data = export(client, fmt)
    if fmt == "csv":
        row = dict(zip(HEADER, read_csv(data)[1], strict=True))
        quote = "'"
    else:
        row = dict(zip(HEADER, read_xlsx(data)[1][1], strict=True))
        quote = ""  # a text cell: shown as written, never evaluated
        cells = list(load_workbook(io.BytesIO(data)).active[2])
        assert all(c.data_type != "f" for c in cells)
    assert row["需求"] == quote + '=HYPERLINK("http://evil.example","点我")'
    assert row["专利"] == quote + "＋1+2 一种材料"
    assert row["企业"] == quote + "@SUM(1+1)公司"


def test_a_large_xlsx_is_built_in_the_background_with_the_same_rows(
    world, client, auth, app, monkeypatch, tmp_path, enqueued
):
    monkeypatch.setitem(app.config, "REVIVE_DATA_DIR", str(tmp_path))
    for i in range(3):
        world.own_deal(title=f"甲的需求{i}")
    world.other_deal(title="乙的需求")
    auth.login(world.users[Role.ENTERPRISE])
    direct = read_xlsx(export(client, "xlsx"))
    monkeypatch.setitem(app.config, "REVIVE_EXPORT_DIRECT_MAX_ROWS", 2)
    response = client.get("/deals/export.xlsx")
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    job = db.session.get(ExportJob, job_id)
    assert job.kind == "deals"
    run_worker(job_id)
    built = download(client, job_id)
    assert built.status_code == 200
    assert read_xlsx(built.data) == direct
    assert [r[1] for r in direct[1][1:]] == ["甲的需求0", "甲的需求1", "甲的需求2"]
    # the CSV always streams
    assert len(read_csv(export(client))) == 4
    assert "全部（未筛选）" in client.get(f"/exports/{job_id}").get_data(as_text=True)


def test_my_exports_names_the_boards_filters(world, client, auth, app, monkeypatch, enqueued):
    make_overdue(world.own_deal())
    world.own_deal()
    monkeypatch.setitem(app.config, "REVIVE_EXPORT_DIRECT_MAX_ROWS", 0)
    auth.login(world.officer)
    response = client.get(f"/deals/export.xlsx?enterprise={world.ent_a.id}&overdue=1&page=2")
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert db.session.get(ExportJob, job_id).params == {
        "enterprise": world.ent_a.id,
        "overdue": "1",
    }
    page = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert "筛选：企业：甲科技有限公司；只看答复逾期" in page


def test_the_export_costs_no_query_per_deal(world, client, auth):
    """Demand, organisations, patent, college, officer and contract come with the deals."""
    sign(world.own_deal(), actor=world.officer)
    auth.login(world.users[Role.REGULATOR])
    db.session.expire_all()
    with statements_run() as few:
        assert len(read_csv(export(client))) == 2
    for _ in range(3):
        sign(world.other_deal(), actor=world.officer)
        make_overdue(world.own_deal())
    db.session.expire_all()
    with statements_run() as many:
        assert len(read_csv(export(client))) == 8
    assert len(many) == len(few), "\n".join(s[:120] for s in many)
