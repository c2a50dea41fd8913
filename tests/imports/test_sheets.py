"""A workbook's data sheets are all read, in order: a school's export with sheets 发明专利,
实用新型 and 填表说明 was previewed as 共 151 行, the second sheet silently ignored. Sheets
without a header the import knows (instructions, notes) are skipped and the preview says so;
a row error names its sheet."""

from __future__ import annotations

import io

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from revive.extensions import db
from revive.imports import services
from revive.imports.models import ImportJob, ImportStatus
from revive.imports.reader import read_table
from revive.inventory.importers import template_rows
from revive.inventory.models import Patent
from tests.imports.helpers import HEADER, appno, row

# 实用新型 lists its columns in another order, under other names, with one more field.
UTILITY_HEADER = ["序号", "专利申请号", "技术成熟度", "专利名称", "发明人"]


def _utility(serial: int, title: str, trl: str = "6") -> list:
    return [serial, appno(serial, kind=2), trl, title, "张伟"]


def _workbook(path, *, invention: int = 3, utility: int = 2, extra=()) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "发明专利"
    ws.append(HEADER)
    for n in range(1, invention + 1):
        ws.append(row(n))
    ws = wb.create_sheet("实用新型")
    ws.append(UTILITY_HEADER)
    for n in range(1, utility + 1):
        ws.append(_utility(n, f"一种夹具{n}"))
    ws.append([99, appno(1), "5", "与发明专利第 2 行同号"])  # the same 申请号 as 发明专利 row 2
    ws.append([100, appno(7, kind=2), "12", "一种支架"])  # TRL out of range
    for title, rows in extra:
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    guide = wb.create_sheet("填表说明")
    _, _, notes = template_rows()
    guide.append(["字段", "英文键", "必填", "说明", "可选值", "也可识别的表头"])
    for r in notes:
        guide.append(r)
    wb.save(path)
    return path.read_bytes()


def _upload(client, content: bytes):
    data = {"file": (io.BytesIO(content), "全校专利.xlsx")}
    client.post("/imports/", data=data, content_type="multipart/form-data")
    job = db.session.scalars(sa.select(ImportJob)).one()
    return services.validate_job(job.id)


def test_every_data_sheet_is_read_and_the_others_are_named(client, auth, uni, enqueued, tmp_path):
    auth.login(uni.admin)
    job = _upload(client, _workbook(tmp_path / "f.xlsx"))
    assert job.status == ImportStatus.VALIDATED, job.error
    counts = job.preview_counts
    assert counts["rows"] == 3 + 4
    assert (counts["new"], counts["invalid"]) == (5, 2)
    assert counts["sheet_rows"] == [["发明专利", 3], ["实用新型", 4]]
    assert job.header_map["sheets_read"] == ["发明专利", "实用新型"]
    (skipped,) = job.header_map["skipped_sheets"]
    assert skipped[0] == "填表说明" and "没有可识别的表头" in skipped[1]

    errors = [
        (services.Lines.of(job).label(e.line), e.column, e.message)
        for e in services.first_errors(job)
    ]
    assert errors[0] == ("实用新型 第 4 行", "申请号", "与发明专利 第 2 行申请号重复")
    assert errors[1][0] == "实用新型 第 5 行" and errors[1][1] == "技术成熟度"

    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "预检结果（共 7 行）" in page
    assert "读取了 2 个工作表：“发明专利”（3 行）、“实用新型”（4 行）；未读取：“填表说明”（" in page
    assert "<th>工作表</th>" in page and "<td>实用新型</td>" in page

    _, rows = _sheet(client.get(f"/imports/{job.id}/errors.xlsx"))
    assert rows[0][:2] == ["工作表", "行号"] and rows[1][:3] == ["实用新型", 4, "申请号"]
    _, rows = _sheet(client.get(f"/imports/{job.id}/rows-with-errors.xlsx"))
    header = rows[0]
    assert header[:2] == ["工作表", "行号"] and header[2 : 2 + len(HEADER)] == HEADER
    fixed = dict(zip(header, rows[2], strict=True))  # 实用新型 row 5, under the combined header
    assert (fixed["工作表"], fixed["行号"], fixed["专利名称"], fixed["技术成熟度"]) == (
        "实用新型",
        5,
        "一种支架",
        "12",
    )

    api = client.get(f"/api/v1/import-jobs/{job.id}/errors").get_json()
    assert (api["items"][0]["sheet"], api["items"][0]["line"]) == ("实用新型", 4)

    client.post(f"/imports/{job.id}/commit")
    services.commit_job(job.id)
    stored = {
        p.application_no: (p.title, p.trl, p.inventors)
        for p in db.session.scalars(sa.select(Patent))
    }
    assert len(stored) == 5
    assert stored[appno(2, kind=2)] == ("一种夹具2", 6, "张伟")  # columns of its own sheet
    assert stored[appno(1)][0] == row(1)[1]


def _sheet(response):
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    return wb, [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


def test_a_sheet_whose_header_does_not_fit_is_skipped_with_its_reason(
    client, auth, uni, enqueued, tmp_path
):
    summary = ("汇总", [["所属学院", "专利类型", "件数"], ["材料学院", "发明", 3]])
    auth.login(uni.admin)
    job = _upload(client, _workbook(tmp_path / "f.xlsx", extra=[summary]))
    assert job.status == ImportStatus.VALIDATED, job.error
    assert job.header_map["sheets_read"] == ["发明专利", "实用新型"]
    reasons = dict(job.header_map["skipped_sheets"])
    assert "申请号" in reasons["汇总"] and "填表说明" in reasons


def test_a_single_data_sheet_keeps_plain_row_numbers(client, auth, uni, enqueued, tmp_path):
    wb = Workbook()
    wb.active.title = "专利清单"
    wb.active.append(HEADER)
    wb.active.append(["坏号", "一种材料"])
    wb.create_sheet("填表说明").append(["说明"])
    wb.save(tmp_path / "f.xlsx")
    auth.login(uni.admin)
    job = _upload(client, (tmp_path / "f.xlsx").read_bytes())
    (error,) = services.first_errors(job)
    assert error.line == 2 and not services.Lines.of(job).multi
    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "读取了 1 个工作表：“专利清单”；未读取：“填表说明”（" in page
    assert "<th>工作表</th>" not in page


def test_the_row_cap_counts_every_sheet(tmp_path):
    import pytest

    from revive.imports.reader import FileRejected
    from revive.inventory.fields import match_header

    _workbook(tmp_path / "f.xlsx", invention=3, utility=3)
    table = read_table(
        tmp_path / "f.xlsx",
        max_rows=5,
        is_column=lambda h: getattr(match_header(h), "key", None),
    )
    with pytest.raises(FileRejected, match="最多 5 行"):
        list(table.rows)
    table.close()
