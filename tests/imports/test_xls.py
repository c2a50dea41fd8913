"""Old Excel (.xls) workbooks are read, not refused: university systems still export them, and
a trial's inventory office had to re-save each one as .xlsx. The workbook is rewritten as a
temporary .xlsx and read through the same path, so titles, several data sheets, merged cells,
dates, row numbers and the cell budget behave as they do for .xlsx."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa
import xlwt

from revive.extensions import db
from revive.imports import legacy_xls, services
from revive.imports.models import ImportJob, ImportStatus
from revive.imports.reader import FileRejected, InMergedCell, ReadLimits, read_table
from revive.inventory.models import Patent
from tests.imports.helpers import HEADER, appno

DATE = xlwt.easyxf(num_format_str="YYYY-MM-DD")


def _xls(path, sheets) -> bytes:
    """``sheets``: (title, rows); a cell that is a date is written with a date format, as
    Excel stores it (a serial number); None leaves the cell empty."""
    book = xlwt.Workbook(encoding="utf-8")
    for title, rows in sheets:
        ws = book.add_sheet(title)
        for r, cells in enumerate(rows):
            for c, value in enumerate(cells):
                if value is None:
                    continue
                if isinstance(value, dt.date):
                    ws.write(r, c, value, DATE)
                else:
                    ws.write(r, c, value)
    book.save(str(path))
    return path.read_bytes()


def _invention(serial: int) -> list:
    return [
        appno(serial),
        f"一种复合材料的制备方法{serial}",
        "材料学院",
        5,
        dt.date(2019, 3, serial),
    ]


def test_an_xls_reads_like_the_same_xlsx(tmp_path):
    """Title above the header, a blank row, a date cell and a whole number: the rows a user
    sees in WPS, with the numbers they see there, and the values the .xlsx path gives."""
    path = tmp_path / "盘点.xls"
    _xls(
        path,
        [("发明专利", [["2026 年存量专利盘点表"], HEADER, _invention(1), [], _invention(2)])],
    )
    table = read_table(path, max_rows=100)
    rows = list(table.rows)
    assert table.file_format == "xls"
    assert (table.title, table.header, table.header_line) == ("2026 年存量专利盘点表", HEADER, 2)
    assert [line for line, _ in rows] == [3, 5]
    cells = rows[0][1]
    assert cells[:4] == [appno(1), "一种复合材料的制备方法1", "材料学院", 5]
    assert isinstance(cells[3], int)  # not 5.0: a float would read as "5.0" in text columns
    assert cells[4] == dt.datetime(2019, 3, 1)


def test_merged_cells_of_an_xls_are_explained(tmp_path):
    path = tmp_path / "合并.xls"
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("Sheet1")
    for c, name in enumerate(HEADER):
        ws.write(0, c, name)
    ws.write(1, 0, appno(1))
    ws.write(1, 1, "一种材料")
    ws.write_merge(1, 2, 2, 2, "材料学院")  # 所属学院 merged over two rows
    ws.write(2, 0, appno(2))
    ws.write(2, 1, "一种方法")
    book.save(str(path))
    rows = dict(read_table(path, max_rows=100).rows)
    assert rows[2][2] == "材料学院"
    assert isinstance(rows[3][2], InMergedCell)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # a password-protected .xlsx is an OLE2 document holding an EncryptedPackage stream
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + b"\x00" * 500
            + "EncryptedPackage".encode("utf-16-le")
            + b"\x00" * 100,
            "设置了打开密码",
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "文件可能已损坏"),
    ],
)
def test_unreadable_old_excel_is_refused_with_its_reason(tmp_path, content, message):
    path = tmp_path / "upload.xls"
    path.write_bytes(content)
    with pytest.raises(FileRejected, match=message):
        read_table(path, max_rows=100)


def test_the_xls_size_and_cell_caps_hold_before_a_sheet_is_copied(tmp_path, monkeypatch):
    path = tmp_path / "big.xls"
    _xls(path, [("Sheet1", [HEADER, *(_invention(n) for n in range(1, 21))])])
    with pytest.raises(FileRejected, match="单元格过多"):
        read_table(path, max_rows=100, limits=ReadLimits(cells=50))
    monkeypatch.setattr(legacy_xls, "MAX_XLS_MB", 0)
    with pytest.raises(FileRejected, match="旧版 Excel（.xls）文件超过 0 MB"):
        read_table(path, max_rows=100)


def test_no_temporary_file_is_left_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    path = tmp_path / "f.xls"
    _xls(path, [("Sheet1", [HEADER, _invention(1)])])
    table = read_table(path, max_rows=100)
    assert list(table.rows)
    table.close()
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(FileRejected):
        read_table(path, max_rows=100)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_an_xls_with_two_data_sheets_is_imported(client, auth, uni, enqueued, tmp_path):
    """End to end through the upload page: both data sheets, the instructions sheet skipped,
    the patents stored with their dates."""
    auth.login(uni.admin)
    content = _xls(
        tmp_path / "全校.xls",
        [
            ("发明专利", [HEADER, _invention(1), _invention(2)]),
            (
                "实用新型",
                [HEADER, [appno(3, kind=2), "一种夹具", "材料学院", 6, dt.date(2019, 5, 6)]],
            ),
            ("填表说明", [["字段", "说明"], ["申请号", "必填"]]),
        ],
    )
    data = {"file": (io.BytesIO(content), "全校.xls")}
    client.post("/imports/", data=data, content_type="multipart/form-data")
    job = services.validate_job(db.session.scalars(sa.select(ImportJob)).one().id)
    assert job.status == ImportStatus.VALIDATED, job.error
    errors = [(e.line, e.column, e.message) for e in services.first_errors(job)]
    assert (job.file_format, job.preview_counts["new"]) == ("xls", 3), errors
    assert job.header_map["sheets_read"] == ["发明专利", "实用新型"]
    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "XLS" in page and "未读取：“填表说明”" in page
    client.post(f"/imports/{job.id}/commit")
    services.commit_job(job.id)
    stored = {p.application_no: p for p in db.session.scalars(sa.select(Patent))}
    assert set(stored) == {appno(1), appno(2), appno(3, kind=2)}
    assert stored[appno(3, kind=2)].filing_date == dt.date(2019, 5, 6)
    assert stored[appno(2)].trl == 5


def test_a_hidden_sheet_of_an_xls_is_named_and_not_read(tmp_path):
    path = tmp_path / "h.xls"
    book = xlwt.Workbook(encoding="utf-8")
    for title, serial in (("发明专利", 1), ("旧数据", 2)):
        ws = book.add_sheet(title)
        for c, name in enumerate(HEADER):
            ws.write(0, c, name)
        for c, value in enumerate(_invention(serial)[:4]):
            ws.write(1, c, value)
    book.get_sheet(1).visibility = 1  # hidden
    book.save(str(path))
    table = read_table(path, max_rows=100, is_column=lambda h: h in HEADER)
    try:
        assert [line for line, _ in table.rows] == [2]
        assert table.skipped and table.skipped[0][0] == "旧数据"
    finally:
        table.close()


def test_a_sparse_xls_costs_its_cells_not_its_width_times_its_height(tmp_path):
    """A code review: a header and one cell at IV65536 (a 5 KB file) read as 16.7M padded
    cells, 200 MB and 21 s, within the cell budget. Rows are read at their own length."""
    path = tmp_path / "sparse.xls"
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("Sheet1")
    for c, name in enumerate(HEADER):
        ws.write(0, c, name)
    for c, value in enumerate(_invention(1)[:4]):
        ws.write(1, c, value)
    ws.write(65535, 255, "x")
    book.save(str(path))
    table = read_table(path, max_rows=100, limits=ReadLimits(cells=1000))
    try:
        assert [line for line, _ in table.rows] == [2, 65536]
    finally:
        table.close()


def test_control_characters_in_an_xls_cell_are_dropped_not_a_500(tmp_path):
    """Systems' .xls exports carry \\x07 and \\x0b in text; a .xlsx cannot hold them and the
    conversion raised (a 500 on the college-list upload, a code review)."""
    path = tmp_path / "ctl.xls"
    _xls(path, [("Sheet1", [HEADER, [appno(1), "一种\x0b复合\x07材料", "材料学院", 5]])])
    table = read_table(path, max_rows=100)
    try:
        (line, cells), *_ = list(table.rows)
        assert cells[1] == "一种复合材料"
    finally:
        table.close()


def test_a_conversion_stopped_midway_leaves_no_temporary_file(tmp_path, monkeypatch):
    """The budget runs out on the second sheet, after the first was written: openpyxl's file
    for that sheet was left in /tmp (removed only at interpreter exit, which a pool process
    never reaches)."""
    import tempfile

    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", None)
    path = tmp_path / "two.xls"
    rows = [HEADER, *(_invention(n) for n in range(1, 11))]
    _xls(path, [("甲", rows), ("乙", rows)])
    with pytest.raises(FileRejected, match="单元格过多"):
        read_table(path, max_rows=100, limits=ReadLimits(cells=70))
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_normal_xls_naming_the_encryption_stream_in_a_cell_is_read(tmp_path):
    """A trial's .xls with 「一种文件加密方法（EncryptedPackage 流）」 in a title cell was refused as
    encrypted: the stream's name was looked for in the file's bytes, where a cell's UTF-16
    text can hold it. It is looked for only once the file is no workbook."""
    path = tmp_path / "title.xls"
    _xls(
        path,
        [
            (
                "Sheet1",
                [HEADER, [appno(1), "一种文件加密方法（EncryptedPackage 流）", "材料学院", 5]],
            )
        ],
    )
    table = read_table(path, max_rows=100)
    try:
        assert [cells[1] for _, cells in table.rows] == ["一种文件加密方法（EncryptedPackage 流）"]
    finally:
        table.close()
