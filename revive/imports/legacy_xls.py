"""Old Excel workbooks (.xls, BIFF8 in an OLE2 container), read with xlrd and rewritten as a
temporary .xlsx, which the reader then reads like any other workbook.

University systems still export .xls; until session 37 such a file was refused with "请另存为
.xlsx". Rewriting it instead of reading it a second way keeps one path for everything after
the bytes: header search below a title block, several data sheets, merged-cell notes (the
ranges are written back), the cell budget and the row numbers a user sees in WPS (blank rows
are written as blank rows). xlrd (BSD, the reader pandas uses for .xls) decodes the binary
format; nothing in it is evaluated: a formula cell holds the result Excel saved.

xlrd reads a whole sheet into memory, so a .xls is capped by size (``MAX_XLS_MB``; the format
holds at most 65,536 rows anyway) and by the reader's cell budget before any sheet is loaded
into the new file.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# reader imports this module only when it meets an .xls (inside _read_xls): no cycle
from revive.imports.reader import FileRejected
from revive.imports.reader import _too_many_cells as too_many_cells

logger = logging.getLogger(__name__)

MAX_XLS_MB = 20
_VISIBILITY = {0: "visible", 1: "hidden", 2: "veryHidden"}  # xlrd's Sheet.visibility
_SAVE_AS = "请用 Excel/WPS 打开后另存为 .xlsx 或 CSV 再上传"
_UNREADABLE = f"无法读取旧版 Excel（.xls）文件（文件可能已损坏）：{_SAVE_AS}"
_ENCRYPTED_MESSAGE = "工作簿设置了打开密码（已加密），无法读取：请取消密码后另存为 .xlsx 再上传"


def _cell_value(cell: Any, datemode: int) -> Any:
    """The value the same cell has when read from a .xlsx (openpyxl, data_only): dates as
    datetimes, whole numbers as ints, errors as their text (#N/A), empty as None."""
    import xlrd

    kind = cell.ctype
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_DATE:
        try:
            value = xlrd.xldate.xldate_as_datetime(cell.value, datemode)
        except (xlrd.xldate.XLDateError, OverflowError, ValueError):
            return cell.value  # an ambiguous or out-of-range date stays its serial number
        return value.time() if cell.value < 1 else value
    if kind == xlrd.XL_CELL_NUMBER:
        value = float(cell.value)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#VALUE!")
    if isinstance(cell.value, str):
        # control characters (\x07, \x0b … in systems' exports): a .xlsx cannot hold them
        # (openpyxl raised: a 500 on the college list), and the reader drops them anyway
        return ILLEGAL_CHARACTERS_RE.sub("", cell.value)
    return cell.value


def convert(
    path: Path,
    dest: Path,
    *,
    max_cells: int,
) -> None:
    """Write the workbook at ``path`` (.xls) to ``dest`` (.xlsx), every sheet in order, or
    raise FileRejected with a Chinese message (the reader's own, over its cell budget)."""
    import xlrd

    size = path.stat().st_size
    if size > MAX_XLS_MB * 1024 * 1024:
        raise FileRejected(
            f"旧版 Excel（.xls）文件超过 {MAX_XLS_MB} MB（本文件 {size / 1024 / 1024:.1f} MB）："
            "请另存为 .xlsx 或 CSV 后再上传，或拆分为多个文件"
        )
    try:
        # formatting_info: merged ranges are only read with it. ragged_rows: each row only as
        # long as its cells (padded to the widest, one cell at IV65536 made a 5 KB file 16.7M
        # cells, 200 MB and 21 s: a code review)
        book = xlrd.open_workbook(str(path), on_demand=True, formatting_info=True, ragged_rows=True)
    except xlrd.XLRDError as exc:
        text = str(exc)
        logger.info("Unreadable .xls: %s", text)
        # looked for only once the file is no workbook: the stream's name can be a cell's
        # text (BIFF8 keeps Chinese text as UTF-16), and a trial's normal .xls was refused
        if "encrypted" in text.lower() or _encrypted_xlsx(path):
            raise FileRejected(_ENCRYPTED_MESSAGE) from None
        if "workbook" in text.lower() and "ole2" in text.lower():
            raise FileRejected(
                "文件是 Office 复合文档，但其中没有 Excel 工作簿（可能是 Word 文档或其他文件）："
                "请上传 .xlsx、.xls 或 CSV（UTF-8 / GBK）文件"
            ) from None
        raise FileRejected(_UNREADABLE) from None
    except Exception as exc:  # noqa: BLE001  (xlrd raises struct, index and OLE errors alike)
        logger.info("Unreadable .xls: %s: %s", type(exc).__name__, exc)
        if _encrypted_xlsx(path):
            raise FileRejected(_ENCRYPTED_MESSAGE) from None
        raise FileRejected(_UNREADABLE) from None
    out = Workbook(write_only=True)
    try:
        _copy(book, out, max_cells)
        out.save(dest)
    except BaseException:
        _discard(out)  # the sheets' temporary files: openpyxl removes them only at exit
        raise
    finally:
        book.release_resources()


def _copy(
    book: Any,
    out: Workbook,
    max_cells: int,
) -> None:
    """Every sheet of ``book`` into ``out``, in order, within ``max_cells`` real cells."""
    if book.nsheets == 0:
        raise FileRejected("工作簿中没有工作表")
    cells = 0
    for index in range(book.nsheets):
        try:
            sheet = book.sheet_by_index(index)
        except Exception as exc:  # noqa: BLE001
            logger.info("Unreadable .xls sheet %d: %r", index, exc)
            raise FileRejected(
                f"旧版 Excel（.xls）文件的第 {index + 1} 个工作表已损坏，无法读取：{_SAVE_AS}"
            ) from None
        cells += sum(sheet.row_len(r) for r in range(sheet.nrows))
        if cells > max_cells:
            raise too_many_cells(max_cells)
        ws = out.create_sheet(_sheet_title(sheet.name, index))
        # a hidden sheet stays hidden, so the reader names it and leaves it out
        ws.sheet_state = _VISIBILITY.get(getattr(sheet, "visibility", 0), "visible")
        for r in range(sheet.nrows):
            row = [_cell_value(c, book.datemode) for c in sheet.row(r)]
            while row and row[-1] is None:
                row.pop()
            ws.append(row)
        for r1, r2, c1, c2 in sheet.merged_cells:  # half-open ranges, 0-based
            if (r2 - r1) * (c2 - c1) > 1:
                ws.merged_cells.add(_range(r1, r2, c1, c2))
        book.unload_sheet(index)


def _discard(out: Workbook) -> None:
    """Close and delete the temporary files of the sheets written so far."""
    from openpyxl.worksheet import _writer

    for ws in out.worksheets:
        writer = ws.__dict__.get("_writer")
        if writer is None:
            continue
        try:
            rows = ws.__dict__.get("_rows")  # the row generator writing into the file
            if rows is not None:
                with contextlib.suppress(Exception):
                    rows.close()
            writer.close()
        finally:
            Path(writer.out).unlink(missing_ok=True)
            if writer.out in _writer.ALL_TEMP_FILES:
                _writer.ALL_TEMP_FILES.remove(writer.out)


def _sheet_title(name: str, index: int) -> str:
    """A sheet title openpyxl accepts (≤ 31 characters, none of []:*?/\\), unique enough: an
    .xls title is already bound by the same rules in Excel."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip()[:31]
    return cleaned or f"Sheet{index + 1}"


def _range(r1: int, r2: int, c1: int, c2: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(c1 + 1)}{r1 + 1}:{get_column_letter(c2)}{r2}"


_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")  # the stream of a password-protected .xlsx


def _encrypted_xlsx(path: Path) -> bool:
    """A .xlsx with an open password is an OLE2 document holding an EncryptedPackage stream
    (its directory entry's name, UTF-16): read in chunks, never the whole file at once."""
    prev = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            if _ENCRYPTED in prev[-len(_ENCRYPTED) :] + chunk:
                return True
            prev = chunk
    return False
