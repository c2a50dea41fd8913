"""File handling: type by magic bytes, encodings, delimiters, line numbers, refusals."""

from __future__ import annotations

import codecs
import datetime as dt
import os
import zipfile

import pytest
from openpyxl import Workbook

from revive.imports.reader import FileRejected, NoCachedValue, read_table
from tests.imports.helpers import HEADER, appno, csv_bytes, row, write_csv, write_xlsx_file


def _read(path, max_rows=1000):
    table = read_table(path, max_rows=max_rows)
    return table, list(table.rows)


@pytest.mark.parametrize(
    ("encoding", "prefix", "label"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-bom"),
        ("gbk", b"", "gbk"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
    ],
)
def test_csv_encodings_are_detected(tmp_path, encoding, prefix, label):
    path = tmp_path / "f.csv"
    path.write_bytes(prefix + csv_bytes([row(1, "一种锂电池负极材料")], encoding=encoding))
    table, rows = _read(path)
    assert (table.file_format, table.encoding) == ("csv", label)
    assert table.header == HEADER
    assert rows == [(2, row(1, "一种锂电池负极材料"))]


def test_gb18030_only_characters_are_read(tmp_path):
    title = "王𫖮团队的一种㐀型材料"  # not representable in GBK
    with pytest.raises(UnicodeEncodeError):
        title.encode("gbk")
    path = tmp_path / "f.csv"
    path.write_bytes(csv_bytes([row(1, title)], encoding="gb18030"))
    table, rows = _read(path)
    assert table.encoding == "gb18030"
    assert rows[0][1][1] == title


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_delimiter_is_sniffed(tmp_path, delimiter):
    path = tmp_path / "f.csv"
    path.write_bytes(csv_bytes([row(1)], delimiter=delimiter))
    table, rows = _read(path)
    assert table.header == HEADER
    assert rows[0][1] == row(1)


def test_blank_rows_skipped_but_line_numbers_kept_and_nul_removed(tmp_path):
    path = tmp_path / "f.csv"
    data = "申请号,专利名称\n\n,\n" + f"{appno(1)},一种\x00材料\n" + '"x",,,\n'
    path.write_bytes(data.encode())
    table, rows = _read(path)
    assert table.total_rows == 2
    assert rows == [(4, [appno(1), "一种材料"]), (5, ["x"])]
    assert table.stripped == [4]  # where, for the preview to say


def test_control_characters_are_noted_on_data_rows_only(tmp_path):
    """A NUL or another control character in a quoted cell is data to the csv module; the
    cell is read without it and its line is noted. The title and header lines are not."""
    path = tmp_path / "f.csv"
    data = (
        "2026 年盘点表\x00\n申请号,专利名称\x01\n"
        f'{appno(1)},"一种\x00材料"\n{appno(2)},一种方法\n{appno(3)},一种\x07装置\n'
    )
    path.write_bytes(data.encode())
    table, rows = _read(path)
    assert table.header == ["申请号", "专利名称"] and table.title == "2026 年盘点表"
    assert [cells[1] for _, cells in rows] == ["一种材料", "一种方法", "一种装置"]
    assert table.stripped == [3, 5]


def test_quoted_newlines_count_as_one_record(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(f'申请号,摘要\n{appno(1)},"第一行\n第二行"\n{appno(2)},b\n'.encode())
    _, rows = _read(path)
    assert [line for line, _ in rows] == [2, 3]
    assert rows[0][1][1] == "第一行\n第二行"


def test_xlsx_reads_first_sheet_with_real_row_numbers(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["说明：本表用于盘点"])  # a title line above the header is common
    ws.append([])
    ws.append([*HEADER, None, None])
    ws.append([appno(1), "一种材料", "材料学院", 5, dt.datetime(2019, 3, 1)])
    ws.append([])
    ws.append([appno(2), "=A4", None, None, None])  # formula: cached value only (none here)
    wb.create_sheet("第二页").append(["ignored"])
    wb.save(tmp_path / "f.xlsx")
    table, rows = _read(tmp_path / "f.xlsx")
    assert table.file_format == "xlsx"
    # a title line above the header is common: it is taken for the title and skipped
    assert table.title == "说明：本表用于盘点" and table.header_line == 3
    assert table.header[:2] == ["申请号", "专利名称"]
    table_rows = dict(rows)
    assert 3 not in table_rows
    assert table_rows[4][3] == 5
    assert table_rows[4][4] == dt.datetime(2019, 3, 1)
    # A formula is never evaluated: without a saved result the cell is marked (the row specs
    # report it) rather than read as empty; trailing blanks are trimmed.
    assert table_rows[6] == [appno(2), ""]
    assert isinstance(table_rows[6][1], NoCachedValue)


def test_a_one_column_file_has_no_title(tmp_path):
    """Rows of one cell each are a one-column list, not a title above a header."""
    path = write_csv(tmp_path / "f.csv", [[appno(1)], [appno(2)]], header=["申请号"])
    table, rows = _read(path)
    assert table.header == ["申请号"] and table.title is None
    assert [cells for _, cells in rows] == [[appno(1)], [appno(2)]]


def test_csv_title_and_date_lines_above_the_header_are_skipped(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(
        "华北理工示范大学 2026 年存量专利盘点表\n填表日期：2026-03-01\n"
        + ",".join(HEADER)
        + "\n"
        + ",".join(str(c) for c in row(1))
        + "\n",
        encoding="utf-8",
    )
    table, rows = _read(path)
    assert table.title == "华北理工示范大学 2026 年存量专利盘点表；填表日期：2026-03-01"
    assert table.header == HEADER and table.header_line == 3 and table.total_rows == 1
    assert [line for line, _ in rows] == [4]


def test_xlsx_header_is_line_one_in_a_normal_file(tmp_path):
    path = write_xlsx_file(tmp_path / "f.xlsx", [row(1), [], row(2)])
    table, rows = _read(path)
    assert table.header == HEADER
    assert [line for line, _ in rows] == [2, 4]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "另存为 .xlsx 或 CSV"),
        (b"\x89PNG\r\n\x1a\n" + os.urandom(400), "PNG"),
        (b"%PDF-1.7\n" + os.urandom(400), "PDF"),
        (b"", "文件为空"),
    ],
)
def test_unsupported_types_are_refused(tmp_path, content, message):
    path = tmp_path / "upload.csv"  # the extension is never trusted
    path.write_bytes(content)
    with pytest.raises(FileRejected, match=message):
        read_table(path, max_rows=10)


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "upload.csv"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(FileRejected, match="不是文本表格|无法识别文件编码"):
        read_table(path, max_rows=10)


def test_undecodable_text_is_refused(tmp_path):
    path = tmp_path / "upload.csv"
    path.write_bytes("申请号,名称\n".encode() + b"\x80\xff\xfe\x80 abc\n")
    with pytest.raises(FileRejected, match="无法识别文件编码"):
        read_table(path, max_rows=10)


def test_csv_that_is_really_a_zip_is_refused(tmp_path):
    path = tmp_path / "data.csv"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    with pytest.raises(FileRejected, match="不是有效的 .xlsx"):
        read_table(path, max_rows=10)


def test_renamed_xlsx_is_read_by_content(tmp_path):
    path = write_xlsx_file(tmp_path / "export.csv", [row(1)])
    table, rows = _read(path)
    assert table.file_format == "xlsx"
    assert rows[0][1][0] == appno(1)


def test_zip_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 * 1024 * 1024))
    with pytest.raises(FileRejected, match="压缩比异常"):
        read_table(path, max_rows=10)


def test_broken_xlsx_is_refused(tmp_path):
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.xml", "not xml")
    with pytest.raises(FileRejected, match="无法读取 .xlsx"):
        read_table(path, max_rows=10)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_header_only_file_is_refused(tmp_path, kind):
    path = tmp_path / f"f.{kind}"
    if kind == "csv":
        path.write_bytes(csv_bytes([]) + b"\n,,\n")
    else:
        write_xlsx_file(path, [])
    with pytest.raises(FileRejected, match="没有数据行"):
        read_table(path, max_rows=10)


def test_blank_csv_is_refused(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"\n\n ,\n")
    with pytest.raises(FileRejected, match="没有数据行"):
        read_table(path, max_rows=10)


def test_duplicate_headers_are_named(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes("申请号,专利名称,专利名称\n1,2,3\n".encode())
    with pytest.raises(FileRejected, match="重复的列名：专利名称"):
        read_table(path, max_rows=10)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_row_limit(tmp_path, kind):
    rows = [row(i) for i in range(1, 6)]
    path = tmp_path / f"f.{kind}"
    if kind == "csv":
        path.write_bytes(csv_bytes(rows))
    else:
        write_xlsx_file(path, rows)
    with pytest.raises(FileRejected, match="最多 4 行"):
        list(read_table(path, max_rows=4).rows)
    assert len(list(read_table(path, max_rows=5).rows)) == 5


# ---------------------------------------------------------------------------- package checks


def _package(path, sheet: bytes, **kw):
    from tests.imports.hostile.corpus import raw_xlsx

    path.write_bytes(raw_xlsx(sheet, **kw))
    return path


def _sheet(prolog: str = "") -> str:
    from tests.imports.hostile.corpus import sheet_xml

    return sheet_xml([HEADER, row(1)], prolog=prolog).decode()


_XXE = '<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda text: text.encode("utf-16-le"), id="utf-16-without-bom"),
        pytest.param(lambda text: text.encode("utf-16-be"), id="utf-16-be-without-bom"),
        pytest.param(lambda text: text.encode("utf-32"), id="utf-32-with-bom"),
        pytest.param(
            lambda text: text.replace('encoding="UTF-8"', 'encoding="UTF-7"').encode("utf-7"),
            id="utf-7-declared",
        ),
        pytest.param(lambda text: text.replace("DOCTYPE", "doctype").encode(), id="lowercase"),
    ],
)
def test_a_dtd_is_found_in_any_encoding_the_part_declares(tmp_path, encode):
    path = _package(tmp_path / "f.xlsx", encode(_sheet(_XXE)))
    with pytest.raises(FileRejected, match=r"XML 实体声明（DOCTYPE/ENTITY）.*xl/worksheets/sheet1"):
        read_table(path, max_rows=10)


@pytest.mark.parametrize("name", ["customXml/item1.xml", "xl/printerSettings1.bin", "x"])
def test_a_dtd_is_found_in_a_part_of_any_name(tmp_path, name):
    data = f'<?xml version="1.0"?>{_XXE}<a>&xxe;</a>'.encode()
    path = _package(tmp_path / "f.xlsx", _sheet().encode(), parts={name: data})
    with pytest.raises(FileRejected, match=f"XML 实体声明.*{name}"):
        read_table(path, max_rows=10)


def test_a_part_in_an_encoding_python_does_not_know_is_refused(tmp_path):
    sheet = _sheet().replace('encoding="UTF-8"', 'encoding="x-klingon"').encode()
    path = _package(tmp_path / "f.xlsx", sheet)
    with pytest.raises(FileRejected, match="无法识别的字符编码（x-klingon）"):
        read_table(path, max_rows=10)


def test_a_utf16_workbook_without_a_dtd_is_read(tmp_path):
    sheet = _sheet().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    table, rows = _read(_package(tmp_path / "f.xlsx", sheet))
    assert table.header == HEADER
    assert rows == [(2, row(1))]


def test_a_part_declaring_more_than_the_limit_is_refused_before_inflating(tmp_path):
    from revive.imports.reader import ReadLimits

    path = _package(tmp_path / "f.xlsx", _sheet().encode() + b" " * (1024 * 1024))
    with pytest.raises(FileRejected, match="“xl/worksheets/sheet1.xml”解压后超过 1 MB"):
        read_table(path, max_rows=10, limits=ReadLimits(part_mb=1))
    assert len(_read(path)[1]) == 1  # under the default limit


def test_inflated_bytes_are_counted_whatever_the_directory_says(tmp_path, monkeypatch):
    """zipfile stops at the size the directory declares (and fails the CRC); the reader still
    counts what it inflates itself, so an inflater that gave more would be caught too."""
    import io as _io

    from revive.imports.reader import ReadLimits

    path = _package(tmp_path / "f.xlsx", _sheet().encode())
    real_open = zipfile.ZipFile.open

    def lying_open(self, name, *args, **kw):
        if getattr(name, "filename", name) == "xl/worksheets/sheet1.xml":
            return _io.BytesIO(_sheet().encode() + b" " * (2 * 1024 * 1024))
        return real_open(self, name, *args, **kw)

    monkeypatch.setattr(zipfile.ZipFile, "open", lying_open)
    with pytest.raises(FileRejected, match="“xl/worksheets/sheet1.xml”解压后超过 1 MB"):
        read_table(path, max_rows=10, limits=ReadLimits(part_mb=1))


def test_parts_parsed_whole_have_a_lower_cap(tmp_path, monkeypatch):
    from revive.imports import reader

    monkeypatch.setattr(reader, "_WHOLE_PART_MAX", 4096)
    path = _package(tmp_path / "f.xlsx", _sheet().encode(), parts={"xl/styles.xml": b" " * 5000})
    with pytest.raises(FileRejected, match="“xl/styles.xml”解压后超过"):
        read_table(path, max_rows=10)


def test_shared_strings_are_read_like_openpyxl_reads_them(tmp_path, monkeypatch):
    from revive.imports import reader
    from tests.imports.hostile.corpus import shared_strings_xlsx, sst_xml

    rich = '<si><r><t>一种</t></r><r><rPr><b/></rPr><t>材料</t></r><rPh sb="0" eb="1"><t>yi</t></rPh></si>'

    def table(texts):
        items = [f"<si><t>{t}</t></si>" for t in texts if t != "RICH"]
        return sst_xml([*items, rich], raw=True)

    path = tmp_path / "f.xlsx"
    path.write_bytes(shared_strings_xlsx([["申请号", "专利名称"], [appno(1), "RICH"]], table=table))
    # "RICH" was given index 3 by the builder; the table puts the rich text there instead.
    seen = []
    monkeypatch.setattr(reader, "on_parse", lambda stage, n: seen.append((stage, n)))
    table_, rows = _read(path)
    assert rows == [(2, [appno(1), "一种材料"])]
    assert [n for stage, n in seen if stage == "strings"] == [1, 2, 3, 4]


def test_shared_strings_over_the_memory_budget_are_refused(tmp_path):
    from revive.imports.reader import ReadLimits
    from tests.imports.hostile.corpus import shared_strings_xlsx

    path = tmp_path / "f.xlsx"
    extra = [str(i) for i in range(20_000)]  # ~60 bytes each as Python objects
    path.write_bytes(shared_strings_xlsx([HEADER, row(1)], extra=extra))
    with pytest.raises(FileRejected, match="共享字符串表读入内存将超过 1 MB"):
        read_table(path, max_rows=10, limits=ReadLimits(strings_mb=1))
    assert len(_read(path)[1]) == 1


def test_a_row_beyond_excels_last_is_refused(tmp_path, monkeypatch):
    from revive.imports import reader

    monkeypatch.setattr(reader, "EXCEL_MAX_ROWS", 10)
    sheet = _sheet().replace('<row r="2">', '<row r="11">').encode()
    with pytest.raises(FileRejected, match="超过 Excel 的行数上限（10 行）"):
        list(read_table(_package(tmp_path / "f.xlsx", sheet), max_rows=10).rows)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_cells_over_the_budget_are_refused(tmp_path, kind):
    from revive.imports.reader import ReadLimits

    rows = [row(i) for i in range(1, 6)]  # 5 cells a row, header included: 30 cells
    path = tmp_path / f"f.{kind}"
    if kind == "csv":
        path.write_bytes(csv_bytes(rows))
    else:
        write_xlsx_file(path, rows)
    with pytest.raises(FileRejected, match="单元格过多：超过 29 个"):
        list(read_table(path, max_rows=10, limits=ReadLimits(cells=29)).rows)
    assert len(list(read_table(path, max_rows=10, limits=ReadLimits(cells=30)).rows)) == 5


def _is_column(text) -> bool:
    return str(text).strip() in HEADER


OFFICIAL_BLOCK = [
    ["华北理工示范大学2025年度存量专利盘点表"],
    ["填表日期：2025年10月"],
    ["单位（盖章）：", None, None, "填表人：王某"],
]


def test_an_official_title_block_is_skipped_when_the_header_is_found_by_its_names(tmp_path):
    """A title block whose rows fill several cells (单位（盖章）… 填表人…) is no header: the
    header is the first row naming known columns, within the first rows."""
    path = write_xlsx_file(tmp_path / "f.xlsx", [*OFFICIAL_BLOCK, HEADER, row(1)], header=None)
    table = read_table(path, max_rows=1000, is_column=_is_column)
    try:
        assert table.header == HEADER and table.header_line == 4
        assert table.title == (
            "华北理工示范大学2025年度存量专利盘点表；填表日期：2025年10月；单位（盖章）： 填表人：王某"
        )
        assert [line for line, _ in table.rows] == [5]
    finally:
        table.close()
    # Without the column names the old rule applies: row 3 (several cells) is the header.
    table, _ = _read(path)
    assert table.header_line == 3


def test_the_header_is_looked_for_in_the_first_ten_rows_only(tmp_path):
    from revive.imports.reader import MAX_HEADER_SEARCH

    titles = [[f"说明{i}"] for i in range(1, MAX_HEADER_SEARCH)]
    path = tmp_path / "near.csv"
    path.write_bytes(csv_bytes([*titles[1:], HEADER, row(1)], header=titles[0]))
    table = read_table(path, max_rows=1000, is_column=_is_column)
    assert table.header_line == MAX_HEADER_SEARCH and table.header == HEADER
    assert list(table.rows) == [(MAX_HEADER_SEARCH + 1, [str(c) for c in row(1)])]
    path = tmp_path / "far.csv"
    path.write_bytes(csv_bytes([*titles[1:], ["说明"], HEADER, row(1)], header=titles[0]))
    table = read_table(path, max_rows=1000, is_column=_is_column)
    assert table.header_line == 1 and table.title is None  # one-cell rows: no header found


def test_a_chart_sheet_is_skipped_and_the_data_sheet_read(tmp_path):
    """A security review's workbook opened with a chart sheet without a chart (as openpyxl
    writes it) and was refused with 「…：AttributeError」."""
    wb = Workbook()
    wb.create_chartsheet("图表", 0)
    data = wb["Sheet"]
    data.append(HEADER)
    data.append(row(1))
    wb.save(tmp_path / "f.xlsx")
    table = read_table(tmp_path / "f.xlsx", max_rows=1000, is_column=_is_column)
    try:
        assert table.header == HEADER
        assert [line for line, _ in table.rows] == [2]
    finally:
        table.close()


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_sheet_is_named_and_not_read(tmp_path, state):
    """A security review's workbook held data in a hidden and a veryHidden sheet (the latter
    not even listed by Excel's 取消隐藏): both were imported without a word."""
    wb = Workbook()
    visible = wb.active
    visible.title = "发明专利"
    visible.append(HEADER)
    visible.append(row(1))
    hidden = wb.create_sheet("旧数据")
    hidden.sheet_state = state
    hidden.append(HEADER)
    hidden.append(row(2))
    wb.save(tmp_path / "f.xlsx")
    table = read_table(tmp_path / "f.xlsx", max_rows=1000, is_column=_is_column)
    try:
        assert [line for line, _ in table.rows] == [2]
        (skipped,) = table.skipped
        assert skipped[0] == "旧数据" and "隐藏的工作表" in skipped[1]
    finally:
        table.close()


def test_a_hidden_first_sheet_is_not_read_even_when_no_other_has_a_header(tmp_path):
    """A code review: with the data in a veryHidden first sheet and only a 说明 sheet visible,
    no header was found, and the fallback read the hidden sheet's rows, unnamed."""
    wb = Workbook()
    hidden = wb.active
    hidden.title = "数据"
    hidden.append(HEADER)
    hidden.append(row(1))
    hidden.sheet_state = "veryHidden"
    wb.create_sheet("说明").append(["本表用于说明"])
    wb.save(tmp_path / "f.xlsx")
    with pytest.raises(FileRejected, match="读取的是工作表“说明”"):  # not the hidden rows
        read_table(tmp_path / "f.xlsx", max_rows=1000, is_column=_is_column)


def test_a_workbook_beyond_the_sheets_looked_at_says_so(tmp_path):
    from revive.imports.reader import SHEETS_LOOKED

    wb = Workbook()
    for i in range(SHEETS_LOOKED + 2):
        wb.create_sheet(f"空表{i}")
    last = wb.create_sheet("数据")
    last.append(HEADER)
    last.append(row(1))
    wb.save(tmp_path / "f.xlsx")
    with pytest.raises(FileRejected, match=f"只在前 {SHEETS_LOOKED} 个中查找表头"):
        read_table(tmp_path / "f.xlsx", max_rows=1000, is_column=_is_column)


def _inventory_column(text) -> bool:
    from revive.inventory.fields import match_header

    return match_header(text) is not None


def _two_row_header(path, data_rows):
    wb = Workbook()
    ws = wb.active
    ws.append(["申请号", "专利名称", "权利人信息", None, "技术成熟度"])
    ws.append([None, None, "专利权人", "发明人", None])
    for r in data_rows:
        ws.append(r)
    for merged in ("A1:A2", "B1:B2", "C1:D1", "E1:E2"):
        ws.merge_cells(merged)
    wb.save(path)
    return path


def test_a_two_row_header_with_a_group_label_is_read_as_one(tmp_path):
    """A security review's official form: 权利人信息 merged over 专利权人 and 发明人, the other
    names merged down both rows. The second row was read as data (five 合并单元格 errors) and
    专利权人 / 发明人 were not recognised."""
    data = [
        [appno(1), "一种材料", "甲大学", "张三；李四", 5],
        [appno(2), "一种装置", "甲大学", "王五", 4],
    ]
    path = _two_row_header(tmp_path / "f.xlsx", data)
    table = read_table(path, max_rows=1000, is_column=_inventory_column)
    try:
        assert table.header == ["申请号", "专利名称", "专利权人", "发明人", "技术成熟度"]
        rows = list(table.rows)
        assert [line for line, _ in rows] == [3, 4]
        assert rows[0][1] == data[0]
    finally:
        table.close()


def test_a_data_row_under_a_one_row_header_is_not_taken_for_a_sub_header(tmp_path):
    """A first data row is never merged into the header, even one whose cells read like names
    (a patentee called 发明人 sits under its own known column)."""
    path = tmp_path / "f.xlsx"
    wb = Workbook()
    wb.active.append(["申请号", "专利名称", "专利权人", "发明人"])
    wb.active.append([appno(1), "一种材料", "发明人", "张三"])
    wb.save(path)
    table = read_table(path, max_rows=1000, is_column=_inventory_column)
    try:
        assert table.header == ["申请号", "专利名称", "专利权人", "发明人"]
        assert [line for line, _ in table.rows] == [2]
    finally:
        table.close()
