"""Read an uploaded spreadsheet into a header and numbered rows. Pure file handling, no DB.

``read_table(path, max_rows=…)`` detects the type from the file's bytes (never its name):

- .xlsx: a zip holding ``xl/workbook.xml``. Every part is inflated and inspected first
  (declared and actual sizes, macros, DDE links, DTDs in any part and encoding: _check_zip),
  then read with openpyxl in read-only mode with ``data_only=True`` (formula cells give their
  cached value; nothing is ever evaluated), our own capped shared-strings reader, and the
  budgets of ``ReadLimits``. Every data sheet (a header the import knows in its first rows),
  in order, its rows numbered by ``sheet_line``; the other sheets are listed as skipped.
- CSV: UTF-8 with BOM, UTF-8, GBK or GB18030 (detected in that order), UTF-16 with BOM (Excel's
  "Unicode text"); delimiter , ; or tab, whichever the header row uses most.
- .xls (OLE2, BIFF8): rewritten as a temporary .xlsx by legacy_xls (xlrd) and read as one.
  An encrypted workbook, an OLE2 file holding no workbook, images, archives and other binary
  files are refused with a Chinese message.

Line numbers are the row numbers a user sees in Excel/WPS (the header is 1 in a normal file);
blank rows are skipped but keep their numbers. Anything a user must fix at file level raises
``FileRejected`` with a Chinese message.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import logging
import lzma
import os
import re
import sys
import tempfile
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from openpyxl.utils.cell import coordinate_to_tuple

from revive.common.fields import CONTROL_CHARACTERS

logger = logging.getLogger(__name__)

_MB = 1024 * 1024
MAX_XLSX_UNCOMPRESSED = 200 * _MB  # all parts together, declared and inflated
MAX_XLSX_RATIO = 100
_RATIO_CHECK_FLOOR = 10 * _MB  # tiny files may compress very well; not a threat
# Parts other than sheets and shared strings (see _whole): openpyxl parses styles, workbook,
# relationships, … into whole trees, about ten times their size in memory. Excel's own, even
# for heavily formatted workbooks, stay far below.
_WHOLE_PART_MAX = 16 * _MB
EXCEL_MAX_ROWS = 1_048_576  # a sheet row beyond Excel's last one: the file was not made by it
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """What reading one file may cost (README: REVIVE_XLSX_MAX_PART_MB, REVIVE_XLSX_MAX_STRINGS_MB,
    REVIVE_IMPORT_MAX_CELLS). Each is refused with a message naming the limit.

    Memory is capped per parse by these budgets rather than by a resource limit on the worker
    (RLIMIT_AS): the same process holds the matching index (hundreds of MB) and serves other
    tasks, and the command line imports in the caller's process, so an address-space limit
    would be either too loose to help or fatal to unrelated work — and a MemoryError can be
    raised anywhere, with no message a user could act on. A read-only parse holds in memory
    the shared-strings table (``strings_mb``, counted as the string objects it creates), the
    parts openpyxl parses whole (_WHOLE_PART_MAX each), and one row at a time (bounded by
    ``part_mb``); ``cells`` bounds the work of a parse, padding included (a cell at column
    XFD makes every row 16,384 cells wide).
    """

    part_mb: int = 64  # decompressed size of any one part of an .xlsx
    strings_mb: int = 256  # memory the shared-strings table of an .xlsx may take
    cells: int = 20_000_000  # cells read from one file (.xlsx or CSV)


def _too_many_cells(cap: int) -> FileRejected:
    return FileRejected(
        f"文件的单元格过多：超过 {cap:,} 个（单个文件的上限），为保护系统已拒绝："
        "请删除不需要的行和列，或拆分为多个文件后分批导入"
    )


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
BINARY_MAGICS = {
    b"\x89PNG": "PNG 图片",
    b"\xff\xd8\xff": "JPEG 图片",
    b"GIF8": "GIF 图片",
    b"%PDF": "PDF 文档",
    b"\x1f\x8b": "gzip 压缩包",
    b"Rar!": "RAR 压缩包",
    b"7z\xbc\xaf": "7z 压缩包",
}
SUPPORTED = "请上传 .xlsx、.xls 或 CSV（UTF-8 / GBK）文件"

# Called while a file is parsed, with (stage, count): "rows" for each sheet row or CSV record
# read. None in production; tests install one to pause a parse mid-file and check what other
# connections can do meanwhile (tests/imports/test_locks.py).
on_parse: Callable[[str, int], None] | None = None


class FileRejected(Exception):  # noqa: N818  (name used across the imports package)
    """The file as a whole cannot be imported; ``message`` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]  # (line number, cell values), blank rows skipped
    total_rows: int  # data rows (exact for CSV; from the sheet's dimension for .xlsx)
    file_format: str  # "xlsx" | "xls" | "csv"
    encoding: str | None  # CSV only
    header_line: int = 1
    close: Callable[[], None] = lambda: None  # releases an open workbook; safe to call twice
    sheets: tuple[str, ...] = ()  # .xlsx: every sheet's title (the first read first)
    title: str | None = None  # rows above the header taken for the sheet's title (skipped)
    # Lines whose cells held control characters (NUL, …), dropped as the rows are read (they
    # cannot be stored or exported): filled while ``rows`` is iterated, for the preview to say.
    stripped: list[int] = field(default_factory=list)
    # .xlsx: the data sheets read, in order (one for CSV, and for a workbook with one data
    # sheet); rows of parts[i] have line numbers sheet_line(i, row). A part whose ``skip`` is
    # set before ``rows`` is iterated is not read (the caller found its header unfit).
    parts: list[SheetPart] = field(default_factory=list)
    # (sheet, why) for the workbook's sheets not read: no header, a chart, no data rows, …
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def header_hint(self) -> str:
        """Where the header came from, for a message about a header that does not fit: which
        line was read as the header and, for a workbook with more sheets, which sheet."""
        shown = "、".join(h for h in self.header if h)
        if len(shown) > 60:
            shown = shown[:59] + "…"
        hint = f"第 {self.header_line} 行被读作表头：{shown or '（空）'}"
        return hint + (sheet_hint(self.sheets) if len(self.sheets) > 1 else "")


# Line numbers of a workbook's sheets: row r of the i-th data sheet read is line
# i * SHEET_LINES + r (the first sheet's rows keep their own numbers). Beyond Excel's last row,
# so lines stay unique, in reading order, and fit the row errors' integer column.
SHEET_LINES = 10_000_000


def sheet_line(index: int, row: int) -> int:
    return index * SHEET_LINES + row


def split_line(line: int) -> tuple[int, int]:
    """(index of the data sheet, row number in that sheet) of a line number."""
    return divmod(line, SHEET_LINES)


def line_label(line: int, sheets: tuple[str, ...] | list[str] = ()) -> str:
    """A line as messages name it: 第 12 行, or 实用新型 第 12 行 when the file's rows come
    from more than one sheet (``sheets``: the data sheets read, by index)."""
    index, row = split_line(line)
    if len(sheets) > 1 and index < len(sheets):
        return f"{sheets[index]} 第 {row} 行"
    return f"第 {row} 行"


@dataclass
class SheetPart:
    """One data sheet of a workbook: its header, where it was found, and its rows."""

    index: int
    name: str
    header: list[str]
    header_line: int  # in the sheet
    title: str | None = None
    skip: str | None = None  # why it is not read after all (set before the rows are read)
    rows: Iterator[tuple[int, list[Any]]] = field(default_factory=lambda: iter(()), repr=False)
    estimate: int = 1


def sheet_hint(sheets: tuple[str, ...]) -> str:
    """``sheets``: the sheet read first, then the others. Beyond SHEETS_LOOKED sheets the
    header is not looked for: the hint says so (a security review's data sat in sheet 300 and
    was told to put header and data in one sheet, which they were)."""
    others = "、".join(f"“{t}”" for t in sheets[1:4]) + ("等" if len(sheets) > 4 else "")
    hint = (
        f"；读取的是工作表“{sheets[0]}”（本文件另有工作表{others}）：请把数据和表头放在同一个"
        "工作表里，表头在前十行内"
    )
    if len(sheets) > SHEETS_LOOKED:
        hint += (
            f"。本文件有 {len(sheets)} 个工作表，只在前 {SHEETS_LOOKED} 个中查找表头："
            "请把数据所在的工作表移到前面，或另存为只含该工作表的文件"
        )
    return hint


def read_table(
    path: str | Path,
    *,
    max_rows: int,
    limits: ReadLimits | None = None,
    is_column: Callable[[Any], bool] | None = None,
    declared_name: str | None = None,
) -> Table:
    """Open ``path`` and return its header and a row iterator, or raise FileRejected.
    ``is_column``: does a header text name a column of this import (finds the header below
    a title block, see _split_title); ``declared_name``: the name it was uploaded under (the
    content decides how it is read; the name only words the refusal of a fake .xlsx)."""
    path = Path(path)
    limits = limits or ReadLimits()
    try:
        with path.open("rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise FileRejected(f"无法读取文件：{exc.strerror or exc}") from None
    if not head:
        raise FileRejected("文件为空")
    if head.startswith(OLE_MAGIC):
        return _read_xls(path, max_rows, limits, is_column)
    if head.startswith(ZIP_MAGIC):
        return _read_xlsx(path, max_rows, limits, is_column)
    for magic, name in BINARY_MAGICS.items():
        if head.startswith(magic):
            raise FileRejected(f"不支持的文件类型（{name}）：{SUPPORTED}")
    _check_markup(head)
    if declared_name and Path(declared_name).suffix.lower() in (".xlsx", ".xlsm"):
        # read as CSV it said "文件没有数据行" for a text named .xlsx (a security review)
        raise FileRejected(
            "文件扩展名是 .xlsx，内容却不是 Excel 工作簿（文件可能已损坏，或是改了扩展名的"
            f"其他文件）：{_RESAVE}"
        )
    return _read_csv(path, head, max_rows, limits, is_column)


_RESAVE = "请用 Excel/WPS 打开后另存为 .xlsx（Excel 工作簿）或 CSV 再上传"


def _read_xls(
    path: Path, max_rows: int, limits: ReadLimits, is_column: Callable[[Any], bool] | None
) -> Table:
    """An old Excel workbook: rewritten as a temporary .xlsx (legacy_xls) and read as one.
    The temporary file is removed once the workbook is open (the reader keeps its handle)."""
    from revive.imports import legacy_xls

    fd, name = tempfile.mkstemp(prefix="revive-xls-", suffix=".xlsx")
    os.close(fd)
    converted = Path(name)
    try:
        legacy_xls.convert(path, converted, max_cells=limits.cells)
        table = _read_xlsx(converted, max_rows, limits, is_column)
    finally:
        converted.unlink(missing_ok=True)
    table.file_format = "xls"
    return table


def _check_markup(head: bytes) -> None:
    """Web pages and XML that spreadsheet programs open (and systems export as ".xls")."""
    start = head.removeprefix(codecs.BOM_UTF8).lstrip()[:2048].lower()
    if not start.startswith(b"<"):
        return
    if b"<html" in start or b"<table" in start or start.startswith(b"<!doctype html"):
        raise FileRejected(f"文件是网页（HTML）格式，不是真正的 Excel 文件：{_RESAVE}")
    if start.startswith(b"<?xml") or b"<workbook" in start:
        raise FileRejected(f"文件是 XML 表格（Excel 2003 XML 等）格式，不受支持：{_RESAVE}")


def _utf16_without_bom(head: bytes) -> bool:
    """Text in UTF-16 without a byte-order mark: NUL bytes that all fall on one parity and
    decode to printable text."""
    data = head[: len(head) // 2 * 2]
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if max(even, odd) < 4 or min(even, odd) * 10 > max(even, odd):
        return False
    try:
        text = data.decode("utf-16-le" if odd > even else "utf-16-be")
    except UnicodeDecodeError:
        return False
    return not any(ord(c) < 32 and c not in "\t\r\n" for c in text)


# ---------------------------------------------------------------------------- helpers


def _cleaned(values: Any, number: int, stripped: list[int] | None) -> list[Any]:
    """A row's cells with control characters dropped and blank text as None; ``number`` is
    noted in ``stripped`` (when given, see Table) if any cell held one — found by the same
    substitution that drops them, so each cell is scanned once."""
    cells, found = [], 0
    for value in values:
        if isinstance(value, str):
            value, n = CONTROL_CHARACTERS.subn("", value)
            found += n
            value = value if value.strip() else None
        cells.append(value)
    if found and stripped is not None:
        stripped.append(number)
    return cells


def _trim(cells: list[Any]) -> list[Any]:
    end = len(cells)
    while end and cells[end - 1] is None:
        end -= 1
    return cells[:end]


def _header(cells: list[Any]) -> list[str]:
    header = ["" if c is None else str(c).strip() for c in cells]
    seen = Counter(h for h in header if h)
    dups = [h for h, n in seen.items() if n > 1]
    if dups:
        raise FileRejected(f"表头有重复的列名：{'、'.join(dups)}（每列名称须唯一）")
    return header


MAX_TITLE_ROWS = 3
# How far down a header is looked for by its column names (``is_column``): an official form's
# title block (表名, 填表日期, 单位（盖章）…填表人…) takes a few rows above it.
MAX_HEADER_SEARCH = 10
# A row naming this many known columns is the header (one could be a coincidence: a title
# block's 联系人).
MIN_KNOWN_COLUMNS = 2
SHEETS_LOOKED = 10  # sheets a workbook's header is looked for in (the first that has one)
MAX_HEADER_CELLS = 200  # cells of a row looked at for column names

ColumnTest = Callable[[Any], bool]


def _filled(cells: list[Any]) -> int:
    return sum(1 for c in cells if c is not None and str(c).strip())


def _known(cells: list[Any], is_column: ColumnTest) -> int:
    """How many columns of the import the row names. ``is_column`` may answer with the field
    a text names (the import kinds do): cells naming one field count once, so a field guide
    (申请号 beside its English key application_no, as the import template's 填写说明 sheet
    has) is not read as a header."""
    found: set[Any] = set()
    for i, c in enumerate(cells):
        if c is None or not str(c).strip():
            continue
        which = is_column(c)
        if which:
            found.add(("cell", i) if which is True else which)
    return len(found)


def _title_text(cells: list[Any]) -> str:
    return " ".join(str(c).strip() for c in cells if c is not None and str(c).strip())


def _split_title(
    records: Iterator[tuple[int, list[Any]]],
    is_column: ColumnTest | None = None,
) -> tuple[list[str], tuple[int, list[Any]] | None, Iterator[tuple[int, list[Any]]]]:
    """(title lines, the header record, the records after it). Inventory sheets often open
    with a title block above the header (华北理工示范大学 2026 年存量专利盘点表, a date line,
    单位（盖章）：… 填表人：…).

    With ``is_column`` (does this text name a column of the import?), the header is the first
    of the first MAX_HEADER_SEARCH rows naming at least MIN_KNOWN_COLUMNS known columns, and
    the rows above it are the title, however many cells they fill. Otherwise (no such row, or
    no ``is_column``): up to MAX_TITLE_ROWS rows of one filled cell followed by a row of
    several are the title, and the header is the row after them. A file whose rows all hold
    one cell (a one-column list) has no title."""
    if is_column is not None:
        window = list(itertools.islice(records, MAX_HEADER_SEARCH + 1))
        for i, (line, cells) in enumerate(window[:MAX_HEADER_SEARCH]):
            if _known(cells, is_column) >= MIN_KNOWN_COLUMNS:
                titles = [_title_text(c) for _, c in window[:i]]
                after = i + 1
                if after < len(window):
                    combined = _with_sub_header(cells, window[after][1], is_column)
                    if combined is not None:
                        return titles, (line, combined), itertools.chain(window[i + 2 :], records)
                return titles, window[i], itertools.chain(window[after:], records)
        records = itertools.chain(window, records)
    head: list[tuple[int, list[Any]]] = []
    for item in records:
        head.append(item)
        if _filled(item[1]) >= 2 or len(head) > MAX_TITLE_ROWS:
            break
    if len(head) > 1 and _filled(head[-1][1]) >= 2:
        return [_title_text(c) for _, c in head[:-1]], head[-1], records
    if not head:
        return [], None, records
    return [], head[0], itertools.chain(head[1:], records)


def _is_text(cell: Any) -> bool:
    return cell is not None and bool(str(cell).strip())


def _with_sub_header(
    header: list[Any], below: list[Any], is_column: ColumnTest
) -> list[Any] | None:
    """A two-row header, as official forms draw it: a group label merged across columns above
    their names (权利人信息 over 专利权人 and 发明人), the other names merged down both rows.
    ``below`` is that second row when it names a known column and each of its names sits under
    a cell of ``header`` that names no known column (a group label, or the blank rest of one);
    the header is then each column's lower name, else its upper one. None: ``below`` is data
    (a security review's second header row was read as a row of five 合并单元格 errors)."""
    named = [c for c, cell in enumerate(below) if _is_text(cell)]
    if not named or not any(is_column(below[c]) for c in named):
        return None
    for c in named:
        above = header[c] if c < len(header) else None
        if _is_text(above) and is_column(above):
            return None  # a value under a known column: a data row
    width = max(len(header), len(below))
    return [
        below[c]
        if c < len(below) and _is_text(below[c])
        else (header[c] if c < len(header) else None)
        for c in range(width)
    ]


def _too_many(max_rows: int) -> FileRejected:
    return FileRejected(f"文件数据行过多：单个文件最多 {max_rows:,} 行，请拆分后分批导入")


# ---------------------------------------------------------------------------- CSV


def _detect_encoding(path: Path, head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return _legacy_encoding(path)
    return "utf-8"


def _legacy_encoding(path: Path) -> str:
    """GBK or GB18030 for a file that is not UTF-8 as a whole, from one pass over its lines
    (no multi-byte character of these encodings contains a line feed, so the file decodes iff
    each line does). A file whose non-ASCII lines are partly UTF-8 and partly not (e.g. GBK
    lines pasted into a UTF-8 file) decodes as neither without mangling some lines: say which
    line differs."""
    fits = {"gbk": True, "gb18030": True}
    first: bool | None = None  # is the first line with non-ASCII bytes UTF-8?
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if line.isascii():
                continue
            fits["gbk"] = fits["gbk"] and _decodes(line, "gbk")
            is_gb18030 = _decodes(line, "gb18030")
            fits["gb18030"] = fits["gb18030"] and is_gb18030
            is_utf8 = _decodes(line, "utf-8")
            if not (is_utf8 or is_gb18030):
                continue  # no known encoding: refused below as undecodable
            if first is None:
                first = is_utf8
            elif is_utf8 != first:
                found = " UTF-8 " if is_utf8 else "非 UTF-8（如 GBK）"
                raise FileRejected(
                    f"文件中混有不同的编码（第 {number} 行是{found}编码，与前面的行不同）："
                    "请在 Excel/WPS 中统一另存为 UTF-8 CSV 或 .xlsx 后再上传"
                )
    for encoding, fits_all in fits.items():
        if fits_all:
            return encoding
    raise FileRejected(f"无法识别文件编码：{SUPPORTED}（CSV 请保存为 UTF-8 或 GBK 编码）")


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


MAX_CSV_CELL = 131_072  # characters in one CSV cell (the csv module's default limit)


def _open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    # newline="" lets the csv module handle line breaks inside quoted cells.
    return open(path, encoding=encoding, newline="")  # noqa: SIM115 (closed by the caller)


def _records(
    path: Path, encoding: str, delimiter: str, stripped: list[int] | None = None
) -> Iterator[tuple[int, list[Any]]]:
    """(record number, cleaned non-blank cells); record 1 is the first line of the file.
    ``stripped`` gets the numbers of records holding control characters (see Table)."""
    with _open_text(path, encoding) as fh:
        reader = csv.reader(fh, delimiter=delimiter)  # NUL is data to csv since Python 3.11
        try:
            for number, record in enumerate(reader, start=1):
                if on_parse is not None:
                    on_parse("rows", number)
                # Our own limit: the csv module's is process-wide and other code may raise it.
                if max(map(len, record), default=0) > MAX_CSV_CELL:
                    raise csv.Error("field larger than field limit")
                cells = _trim(_cleaned(record, number, stripped))
                if cells:
                    yield number, cells
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise FileRejected(
                    f"CSV 第 {reader.line_num} 行附近有单元格过长（超过 {MAX_CSV_CELL:,} "
                    "个字符），可能是引号没有配对：请检查该行，或另存为 .xlsx 后再上传"
                ) from None
            raise FileRejected(
                f"CSV 格式错误（第 {reader.line_num} 行附近）：请检查该行的引号和分隔符"
            ) from None


def _sniff_delimiter(path: Path, encoding: str) -> str:
    with _open_text(path, encoding) as fh:
        for line in fh:
            line = line.replace("\x00", "")
            if line.strip():
                counts = {d: line.count(d) for d in (",", ";", "\t", "，")}
                best = max(counts, key=lambda d: counts[d])
                if best == "，":
                    raise FileRejected(
                        "CSV 的分隔符是中文逗号“，”：请用英文逗号分隔，或另存为 .xlsx"
                    )
                return best if counts[best] else ","
    return ","


def _read_csv(
    path: Path,
    head: bytes,
    max_rows: int,
    limits: ReadLimits,
    is_column: Callable[[Any], bool] | None = None,
) -> Table:
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    controls = 0 if utf16 else sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    if controls > max(8, len(head) // 100):  # a few stray NULs are dropped, not refused
        if _utf16_without_bom(head):
            raise FileRejected(
                "文件是不带 BOM 的 UTF-16 编码文本，无法可靠识别："
                "请另存为 UTF-8 CSV（或带 BOM 的“Unicode 文本”）后再上传"
            )
        raise FileRejected(f"文件不是文本表格（可能是图片、压缩包或其他二进制文件）：{SUPPORTED}")
    encoding = _detect_encoding(path, head)
    delimiter = _sniff_delimiter(path, encoding)

    titles, first, rest = _split_title(_records(path, encoding, delimiter), is_column)
    if first is None:
        raise FileRejected("文件没有数据行（文件中没有任何内容）")
    header_line, cells = first
    header = _header(cells)
    total, cells_read = 0, len(cells)
    for _number, cells in rest:
        cells_read += len(cells)
        if cells_read > limits.cells:
            raise _too_many_cells(limits.cells)
        total += 1
        if total > max_rows:
            raise _too_many(max_rows)
    if total == 0:
        raise FileRejected("文件没有数据行（除表头外没有任何内容）")

    stripped: list[int] = []

    def rows() -> Iterator[tuple[int, list[Any]]]:
        records = _records(path, encoding, delimiter, stripped)
        for number, _cells in records:
            if number == header_line:
                break
        stripped.clear()  # the title and header lines are not data rows
        yield from records

    label = {"utf-8-sig": "utf-8-bom"}.get(encoding, encoding)
    title = "；".join(titles) or None
    part = SheetPart(0, "", header, header_line, title)
    return Table(
        header,
        rows(),
        total,
        "csv",
        label,
        header_line,
        title=title,
        stripped=stripped,
        parts=[part],
    )


# ---------------------------------------------------------------------------- XLSX


def _label(name: str) -> str:
    """A part name as shown in a message (it comes from the file: no control characters)."""
    shown = "".join(ch for ch in name if ch.isprintable())[:80]
    if name.lower().endswith("sharedstrings.xml"):
        return f"共享字符串表 {shown}"
    return shown


def _whole(name: str) -> bool:
    """Every part but the ones read as a stream (the sheets, and the shared strings through
    _read_shared_strings): openpyxl parses styles, the workbook, relationships, … into whole
    trees in memory, and a data import needs none of the rest (images, printer settings)."""
    lower = name.lower()
    return not (lower.startswith("xl/worksheets/") or lower == "xl/sharedstrings.xml")


def _part_cap(name: str, limits: ReadLimits) -> int:
    cap = limits.part_mb * _MB
    return min(cap, _WHOLE_PART_MAX) if _whole(name) else cap


def _part_too_big(name: str, cap: int) -> FileRejected:
    mb = max(1, cap // _MB)
    return FileRejected(
        f"工作簿中的“{_label(name)}”解压后超过 {mb} MB（每个部件的上限为 {mb} MB），"
        "为保护系统已拒绝：请删除不需要的内容，或拆分为多个文件后分批导入"
    )


def _too_big(uncompressed: int) -> FileRejected:
    return FileRejected(
        f"工作簿解压后过大（{uncompressed // _MB} MB，上限 "
        f"{MAX_XLSX_UNCOMPRESSED // _MB} MB）：请拆分后导入"
    )


_VBA_PARTS = ("vbaproject.bin", "vbaprojectsignature.bin")
_CORRUPT_ZIP = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    RuntimeError,  # an encrypted member ("password required")
    NotImplementedError,  # a compression method zipfile does not know
)


def _check_zip(path: Path, limits: ReadLimits) -> None:
    """Refuse a package before openpyxl parses any of it: zip bombs (the sizes the zip
    declares, then the bytes actually inflated), macros, DDE links, and XML declarations
    (DOCTYPE/ENTITY) in any part."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names:
                raise FileRejected(f"压缩包中没有 Excel 工作簿，不是有效的 .xlsx 文件：{SUPPORTED}")
            uncompressed = sum(i.file_size for i in infos)
            compressed = sum(i.compress_size for i in infos) or 1
            if uncompressed > MAX_XLSX_UNCOMPRESSED:
                raise _too_big(uncompressed)
            if uncompressed > _RATIO_CHECK_FLOOR and uncompressed / compressed > MAX_XLSX_RATIO:
                raise FileRejected("工作簿压缩比异常，疑似恶意文件，已拒绝")
            for info in infos:
                if info.file_size > _part_cap(info.filename, limits):
                    raise _part_too_big(info.filename, _part_cap(info.filename, limits))
            if any(n.lower().endswith(_VBA_PARTS) for n in names):
                raise FileRejected(
                    "工作簿包含宏（VBA 代码），为安全起见不予导入：请另存为不含宏的 .xlsx 后再上传"
                )
            _inspect_parts(zf, infos, limits)
    except _CORRUPT_ZIP:
        raise FileRejected("文件已损坏或不是有效的 .xlsx 文件") from None


_MACRO_TYPES = (b"macroEnabled", b"vbaProject", b"vnd.ms-excel.sheet.binary")
_OVERLAP = 64  # bytes (characters) kept between chunks: longer than any pattern searched


def _inspect_parts(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: ReadLimits) -> None:
    """Inflate every part once, whatever its name, counting the bytes it really holds (the
    sizes in the zip's directory are the sender's word) and looking for what a data import
    never needs and attackers use: VBA macros (.xlsm/.xlsb content types), DDE links, and XML
    document type declarations (entity expansion "billion laughs", external entities).

    The DTD check covers every part, not only the names openpyxl is known to read (a package
    can point its shared strings at any part name, e.g. ``xl/sharedStrings.dat``), the whole
    part (a DTD may follow a comment of any length) and the part's own encoding (a UTF-16
    part does not contain the bytes ``<!DOCTYPE``): see _XmlScan."""
    total = 0
    for info in infos:
        name, lower = info.filename, info.filename.lower()
        cap = _part_cap(name, limits)
        content_types = lower == "[content_types].xml"
        external_link = lower.startswith("xl/externallinks/")
        scan: _XmlScan | None = None
        size, tail = 0, b""
        with zf.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                size += len(chunk)
                total += len(chunk)
                if size > cap:
                    raise _part_too_big(name, cap)
                if total > MAX_XLSX_UNCOMPRESSED:
                    raise _too_big(total)
                if scan is None:
                    scan = _XmlScan(name, chunk)
                scan.feed(chunk)
                window = tail + chunk
                if content_types and any(t in window for t in _MACRO_TYPES):
                    raise FileRejected(
                        "工作簿是启用宏或二进制格式（.xlsm/.xlsb），为安全起见不予导入："
                        "请另存为 .xlsx 后再上传"
                    )
                if external_link and b"ddeLink" in window:
                    raise FileRejected(
                        "工作簿包含 DDE 外部链接（可执行外部程序），疑似恶意文件，已拒绝"
                    )
                tail = window[-_OVERLAP:]


_UNSAFE = re.compile(rb"<!(?i:DOCTYPE|ENTITY)")
_UNSAFE_TEXT = re.compile(r"<!(?i:DOCTYPE|ENTITY)")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16's, which it starts with
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Where the NUL bytes fall in the first four bytes of a document written without a BOM
# (XML 1.0 appendix F: "<" or whitespace first), and the encoding that tells.
_NULS = {
    (True, True, True, False): "utf-32-be",
    (False, True, True, True): "utf-32-le",
    (True, False, True, False): "utf-16-be",
    (False, True, False, True): "utf-16-le",
}
_DECLARED = re.compile(r"^\ufeff?\s*<\?xml\b[^>]{0,200}?\bencoding\s*=\s*[\"']([^\"']{1,40})[\"']")


def _unsafe(name: str) -> FileRejected:
    return FileRejected(
        "工作簿中含有 XML 实体声明（DOCTYPE/ENTITY），疑似恶意文件，已拒绝："
        f"请用 Excel/WPS 重新另存为 .xlsx（部件 {_label(name)}）"
    )


@functools.cache
def _ascii_transparent(codec: str) -> bool:
    """Whether text in ``codec`` holds ``<!DOCTYPE``/``<!ENTITY`` as those very bytes (UTF-8,
    GBK, Latin-1, …), so that the search in the raw bytes finds them."""
    try:
        return all(s.encode(codec) == s.encode("ascii") for s in ("<!DOCTYPE", "<!ENTITY"))
    except (UnicodeError, LookupError):
        return False


class _XmlScan:
    """Looks for ``<!DOCTYPE``/``<!ENTITY`` (any case) in one part, fed chunk by chunk: in
    the raw bytes, and decoded in each encoding an XML parser could read the part in, where
    that encoding does not keep those bytes (UTF-16/32, UTF-7, EBCDIC, …): the one its BOM or
    NUL pattern tells, and the one its XML declaration names. A part in an encoding Python
    does not know cannot be checked and is refused. Non-XML parts (images, …) only get the
    byte search, which finds nothing in them."""

    def __init__(self, name: str, head: bytes) -> None:
        self.name = name
        self.tail = b""
        codecs_: list[str] = []
        sniffed = next((c for bom, c in _BOMS if head.startswith(bom)), None)
        if sniffed is None and len(head) >= 4:
            sniffed = _NULS.get(tuple(b == 0 for b in head[:4]))
        if sniffed:
            codecs_.append(sniffed)
        declared = _DECLARED.match(head[:512].decode(sniffed or "latin-1", errors="replace"))
        if declared:
            try:
                codecs_.append(codecs.lookup(declared.group(1).strip()).name)
            except LookupError:
                shown = "".join(ch for ch in declared.group(1) if ch.isprintable())
                raise FileRejected(
                    f"工作簿中的“{_label(name)}”声明了无法识别的字符编码（{shown}），"
                    "无法做安全检查，已拒绝：请用 Excel/WPS 重新另存为 .xlsx"
                ) from None
        self.decoders = [
            [codecs.getincrementaldecoder(c)(errors="replace"), ""]
            for c in dict.fromkeys(codecs_)
            if not _ascii_transparent(c)
        ]

    def feed(self, chunk: bytes) -> None:
        window = self.tail + chunk
        if _UNSAFE.search(window):
            raise _unsafe(self.name)
        self.tail = window[-_OVERLAP:]
        for state in self.decoders:
            decoder, text_tail = state
            text = text_tail + decoder.decode(chunk)
            if _UNSAFE_TEXT.search(text):
                raise _unsafe(self.name)
            state[1] = text[-_OVERLAP:]


def _strings_too_big(cap: int) -> FileRejected:
    mb = max(1, cap // _MB)
    return FileRejected(
        f"工作簿中的文本内容过多：共享字符串表读入内存将超过 {mb} MB（上限 {mb} MB），"
        "为保护系统已拒绝：请拆分为多个文件后分批导入"
    )


def _read_shared_strings(source: IO[bytes], cap: int) -> list[str]:
    """The shared-strings table, as openpyxl's ``read_string_table`` reads it, within a
    memory budget. openpyxl's own reader keeps every parsed ``<si>`` element (cleared, but
    attached to the root: ~2 GB for 195 MB of strings); this one detaches them and counts
    the memory the table takes (each string object and its list slot) against ``cap``."""
    from openpyxl.cell.text import Text
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse  # defusedxml's when installed, as openpyxl's

    si = f"{{{SHEET_MAIN_NS}}}si"
    strings: list[str] = []
    used = 0
    events = iterparse(source, events=("start", "end"))
    _, root = next(events)
    for event, node in events:
        if event != "end" or node.tag != si:
            continue
        text = Text.from_tree(node).content.replace("x005F_", "")
        used += sys.getsizeof(text) + 8
        if used > cap:
            raise _strings_too_big(cap)
        strings.append(text)
        root.clear()  # the parsed <si> elements: memory stays one string's worth
        if on_parse is not None:
            on_parse("strings", len(strings))
    return strings


def _open_workbook(fh: IO[bytes], limits: ReadLimits) -> Any:
    """openpyxl's ExcelReader in read-only mode (formula results only, no links, no macros)
    with our shared-strings reader: what ``load_workbook`` does, from a file object (openpyxl
    would otherwise refuse a file by its extension, and we go by content)."""
    from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader

    class Reader(ExcelReader):
        def read_chartsheet(self, sheet: Any, rel: Any) -> None:
            """Chart sheets hold no rows: skipped, not read (one without a chart, as openpyxl
            itself writes it, failed the whole file with AttributeError)."""

        def read_strings(self) -> None:
            part = self.package.find(SHARED_STRINGS)
            if part is not None:
                with self.archive.open(part.PartName[1:]) as source:
                    self.shared_strings = _read_shared_strings(source, limits.strings_mb * _MB)

    reader = Reader(fh, read_only=True, keep_vba=False, data_only=True, keep_links=False)
    reader.read()
    return reader.wb


def _visible(ws: Any) -> bool:
    return getattr(ws, "sheet_state", "visible") == "visible"


class _Workbook:
    """A read-only workbook (see _open_workbook) and its first sheet, closed with the file."""

    def __init__(self, path: Path, limits: ReadLimits) -> None:
        self._fh = path.open("rb")
        try:
            with warnings.catch_warnings():
                # e.g. "Workbook contains no default style" from files written by other tools
                warnings.simplefilter("ignore")
                self.wb = _open_workbook(self._fh, limits)
        except FileRejected:
            self._fh.close()
            raise
        except Exception as exc:  # openpyxl raises many kinds for a broken package
            self._fh.close()
            logger.info("Unreadable workbook: %s: %s", type(exc).__name__, exc)
            raise FileRejected(
                "无法读取 .xlsx 文件（文件可能已损坏）：请用 Excel 或 WPS 打开后另存为 .xlsx 再上传"
            ) from None
        if not self.wb.worksheets:
            self.close()
            raise FileRejected("工作簿中没有工作表")
        self.ws = self.wb.worksheets[0]

    def data_sheets(
        self, is_column: Callable[[Any], bool] | None
    ) -> tuple[list[Any], list[tuple[str, str]]]:
        """(the sheets to read, in order; (title, why) of the others). Every sheet whose first
        rows hold a header (two columns ``is_column`` knows) is read, not only the first: a
        school's export kept 实用新型 in a second sheet, silently ignored. A tester's workbook
        opened with a 填写说明 sheet: skipped. A hidden sheet is skipped and named. At most
        SHEETS_LOOKED sheets, MAX_HEADER_SEARCH rows each, looked at; none with a header: the
        first sheet, as before."""
        sheets = self.wb.worksheets
        visible = [ws for ws in sheets if _visible(ws)]
        hidden = [
            (ws.title, "隐藏的工作表，未读取（如需导入，请在 Excel/WPS 中取消隐藏后再上传）")
            for ws in sheets
            if not _visible(ws)
        ]
        if not visible:
            raise FileRejected(
                "工作簿的工作表都是隐藏的（"
                + "、".join(f"“{t}”" for t, _ in hidden[:4])
                + "）：请在 Excel/WPS 中取消隐藏要导入的工作表后再上传"
            )
        if is_column is None or len(sheets) < 2:
            # the first sheet the user can see (a review's hidden first sheet was read unnamed)
            self.ws = visible[0]
            return [visible[0]], hidden
        found: list[Any] = []
        skipped: list[tuple[str, str]] = []
        for ws in sheets[:SHEETS_LOOKED]:
            if not hasattr(ws, "iter_rows"):
                skipped.append((ws.title, "图表工作表，没有数据行"))
                continue
            if not _visible(ws):
                # a sheet the user cannot see in Excel (veryHidden: not even in 取消隐藏) was
                # imported unannounced (a security review); hidden ones hold lookup lists or
                # old copies more often than data
                skipped.append(next(h for h in hidden if h[0] == ws.title))
                continue
            ws.reset_dimensions()  # rows at their own width (a hostile dimension pads them)
            rows = ws.iter_rows(max_row=MAX_HEADER_SEARCH, values_only=True)
            if any(
                _known(list(row[:MAX_HEADER_CELLS]), is_column) >= MIN_KNOWN_COLUMNS for row in rows
            ):
                found.append(ws)
            else:
                skipped.append(
                    (ws.title, f"前 {MAX_HEADER_SEARCH} 行中没有可识别的表头（如填表说明、备注）")
                )
        skipped += [
            (ws.title, f"只查看前 {SHEETS_LOOKED} 个工作表，未查看")
            for ws in sheets[SHEETS_LOOKED:]
        ]
        if not found:
            # no header anywhere: the first visible sheet, whose refusal names the header read
            self.ws = visible[0]
            return [visible[0]], hidden
        self.ws = found[0]
        return found, skipped

    @property
    def sheets(self) -> tuple[str, ...]:
        """The sheet read first, then the others."""
        read = self.ws.title
        return (read, *(t for t in self.wb.sheetnames if t != read))

    def close(self) -> None:
        if not self._fh.closed:
            self.wb.close()
            self._fh.close()


def _sheet_records(
    ws: Any,
    marks: Marks,
    limits: ReadLimits,
    stripped: list[int],
    offset: int = 0,
    budget: list[int] | None = None,
) -> Iterator[tuple[int, list[Any]]]:
    """The sheet's non-blank rows, numbered ``offset`` + row (sheet_line). The sheet XML is
    parsed lazily, row by row: a part that is corrupt or not well-formed fails here, mid-way,
    and is refused like a corrupt package.

    Rows come at their own width (the sheet's dimensions are dropped: see _read_xlsx), padded
    to the last noted cell where notes exist; every cell read counts against ``limits.cells``
    (``budget``: the cells read so far, shared by the sheets of one file).
    """
    number = 0
    budget = budget if budget is not None else [0]
    marks_width = max((c for _, c in marks), default=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                if on_parse is not None:
                    on_parse("rows", number)
                if number > EXCEL_MAX_ROWS:
                    raise FileRejected(
                        f"工作表超过 Excel 的行数上限（{EXCEL_MAX_ROWS:,} 行），文件不是由 Excel "
                        "生成或已损坏：请用 Excel/WPS 打开后重新另存为 .xlsx"
                    )
                budget[0] += len(values)
                if budget[0] > limits.cells:
                    raise _too_many_cells(limits.cells)
                cells = _cleaned(values, offset + number, stripped)
                if marks:
                    cells.extend([None] * (marks_width - len(cells)))
                    for i, v in enumerate(cells):
                        if v is None and (number, i + 1) in marks:
                            cells[i] = marks[(number, i + 1)]
                cells = _trim(cells)
                if cells:
                    yield offset + number, cells
        except FileRejected:
            raise
        except Exception as exc:  # zlib/zip errors, XML syntax errors, bad cell references, …
            logger.info("Unreadable sheet near row %d: %r", number + 1, exc)
            where = f"“{ws.title}”" if offset else ""
            raise FileRejected(
                f"工作表{where}内容已损坏（第 {number + 1} 行附近），无法读取："
                "请用 Excel/WPS 打开后重新另存为 .xlsx"
            ) from None


class CellNote(str):
    """An empty cell whose emptiness has a known cause the row specs report as ``problem``."""

    __slots__ = ()
    problem = ""


class NoCachedValue(CellNote):
    """A formula cell saved without its result (files written by programs, never opened in
    Excel): nothing is evaluated, so the cell has no value."""

    __slots__ = ()
    problem = (
        "该单元格是公式，但文件中没有公式的计算结果（文件可能由程序生成）："
        "请在 Excel/WPS 中打开并保存后再上传，或直接填写内容"
    )


class InMergedCell(CellNote):
    """A cell covered by a merged range (only the range's top-left cell holds the value)."""

    __slots__ = ()
    problem = "该单元格在合并单元格中（只有合并区域左上角的格子有值）：请取消合并，并在每一行填写"


NO_CACHED_VALUE = NoCachedValue("")
IN_MERGED_CELL = InMergedCell("")
_MERGE = re.compile(rb'<mergeCell\s+ref="([A-Z]{1,3}[0-9]{1,7}):([A-Z]{1,3}[0-9]{1,7})"')
_MAX_MERGED_CELLS = 100_000  # covered cells noted; larger merged areas are left unexplained
_FORMULA_NO_VALUE = re.compile(
    rb'<c\b[^>]*?\br="([A-Z]{1,3}[0-9]{1,7})"[^>]*>\s*<f(?:\s[^>]*)?(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>'
)
_SCAN_OVERLAP = 16 * 1024  # longer than a formula cell's XML (Excel formulas: 8,192 chars)
_MAX_MARKED = 10_000
Marks = dict[tuple[int, int], CellNote]


def _scan_sheet(path: Path, sheet_path: str | None) -> tuple[int | None, int, Marks]:
    """One pass over the sheet XML, not a parse: the number of <row> tags (an estimate for the
    progress bar when the sheet has no <dimension>), the number of formula cells without a
    cached value, and notes for empty cells — such formulas (at most _MAX_MARKED) and cells
    covered by merged ranges. A corrupt part is reported when the rows are read."""
    if not sheet_path:
        return None, 0, {}
    count, prev, formulas = 0, b"", set()
    merges: list[tuple[bytes, bytes]] = []
    try:
        with zipfile.ZipFile(path) as zf, zf.open(sheet_path.lstrip("/")) as fh:
            while chunk := fh.read(_CHUNK):
                # 4 bytes of the previous chunk: a 5-byte tag across the boundary counts once
                joined = prev[-4:] + chunk
                count += joined.count(b"<row ") + joined.count(b"<row>")
                window = prev[-_SCAN_OVERLAP:] + chunk
                if len(formulas) < _MAX_MARKED and b"<f" in window:
                    for m in _FORMULA_NO_VALUE.finditer(window):
                        formulas.add(coordinate_to_tuple(m.group(1).decode()))
                if b"<mergeCell" in window:
                    merges.extend(m.groups() for m in _MERGE.finditer(window))
                prev = chunk
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, zlib.error):
        return None, 0, {}
    marks: Marks = {}
    budget = _MAX_MERGED_CELLS
    for first, last in dict.fromkeys(merges):  # the overlap may find a range twice
        (r1, c1), (r2, c2) = (coordinate_to_tuple(x.decode()) for x in (first, last))
        size = (r2 - r1 + 1) * (c2 - c1 + 1)
        if size > budget:
            continue
        budget -= size
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    marks[(r, c)] = IN_MERGED_CELL
    marks.update(dict.fromkeys(formulas, NO_CACHED_VALUE))
    return count or None, len(formulas), marks


def _read_xlsx(
    path: Path,
    max_rows: int,
    limits: ReadLimits,
    is_column: Callable[[Any], bool] | None = None,
) -> Table:
    _check_zip(path, limits)
    book = _Workbook(path, limits)  # opened once: read-only mode loads the shared strings
    stripped: list[int] = []
    budget = [0]  # cells read, all sheets together
    try:
        found, skipped = book.data_sheets(is_column)
        parts: list[SheetPart] = []
        first_error: FileRejected | None = None
        for ws in found:
            try:
                part = _open_part(path, book, ws, len(parts), limits, is_column, stripped, budget)
            except FileRejected as exc:
                if len(found) == 1:
                    raise
                # Several data sheets: one without data rows (or with a broken header) is
                # skipped, and said so; the file is refused only if none is left.
                first_error = first_error or exc
                skipped.append((ws.title, _skip_reason(exc.message)))
                index = len(parts)  # reused by the next sheet: forget this one's lines
                stripped[:] = [n for n in stripped if split_line(n)[0] != index]
                continue
            parts.append(part)
        if not parts:
            assert first_error is not None
            raise first_error
    except BaseException:
        book.close()
        raise
    order = {t: i for i, t in enumerate(book.wb.sheetnames)}
    skipped.sort(key=lambda s: order.get(s[0], len(order)))

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            count = 0
            for part in parts:
                if part.skip is not None:
                    continue
                for item in part.rows:
                    count += 1
                    if count > max_rows:
                        raise _too_many(max_rows)
                    yield item
        finally:
            book.close()

    first = parts[0]
    book.ws = book.wb[first.name]
    sheets = book.sheets
    return Table(
        first.header,
        rows(),
        max(sum(p.estimate for p in parts), 1),
        "xlsx",
        None,
        first.header_line,
        book.close,
        sheets,
        first.title,
        stripped,
        parts,
        skipped,
    )


def _skip_reason(message: str) -> str:
    """Why a data sheet is skipped, from the refusal it would have been alone."""
    if message.startswith("文件没有数据行（工作表"):
        return "工作表为空"
    if message.startswith("文件没有数据行"):
        return "只有表头，没有数据行"
    return message


def _open_part(
    path: Path,
    book: _Workbook,
    ws: Any,
    index: int,
    limits: ReadLimits,
    is_column: Callable[[Any], bool] | None,
    stripped: list[int],
    budget: list[int],
) -> SheetPart:
    """One data sheet: scanned for notes, its title and header read, its first data row
    peeked at (FileRejected when it has none). Its rows are read later, in turn."""
    offset = sheet_line(index, 0)
    row_tags, formulas, marks = _scan_sheet(path, getattr(ws, "_worksheet_path", None))
    if formulas >= _MAX_MARKED:
        raise FileRejected(
            f"工作表中有 {_MAX_MARKED:,} 个以上的公式没有计算结果（文件可能由程序生成）："
            "请在 Excel/WPS 中打开并保存后再上传"
        )
    max_row = ws.max_row
    dimension_rows = max_row if max_row and max_row > 1 else row_tags
    # The <dimension> is the file's word: openpyxl would pad every row to its width and
    # add blank rows up to its height ("A1:XFD1048576": 16 billion cells). Read rows as
    # they are; the dimension only feeds the progress estimate above.
    ws.reset_dimensions()
    titles, found, records = _split_title(
        _sheet_records(ws, marks, limits, stripped, offset, budget), is_column
    )
    header_line, first = found if found is not None else (offset, None)
    header_line -= offset
    if first is None:
        book.ws = ws
        sheets = book.sheets
        raise FileRejected(
            f"文件没有数据行（工作表“{sheets[0]}”为空）"
            + (sheet_hint(sheets) if len(sheets) > 1 else "")
        )
    header = _header(first)
    # the title and header lines are not data rows (the header search reads ahead)
    stripped[:] = [n for n in stripped if not offset < n <= offset + header_line]
    peek = next(records, None)
    if peek is None:
        book.ws = ws
        sheets = book.sheets
        raise FileRejected(
            "文件没有数据行（除表头外没有任何内容）"
            + (sheet_hint(sheets) if len(sheets) > 1 else "")
        )
    # The estimate may count formatted blank rows; it only drives the progress bar. The row
    # limit is enforced on the rows actually read.
    estimate = (dimension_rows - header_line) if dimension_rows else 1
    return SheetPart(
        index,
        ws.title,
        header,
        header_line,
        "；".join(titles) or None,
        rows=itertools.chain([peek], records),
        estimate=max(estimate, 1),
    )
