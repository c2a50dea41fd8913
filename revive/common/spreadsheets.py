"""Writing spreadsheets for users to download (error reports, templates, exports): .xlsx and
.csv, every cell neutralised.

Every cell goes through ``safe_cell``: a text cell that starts with = + - @ (or a tab / CR, or
the full-width ＝ ＋ － ＠ that a Chinese input method types) would be run as a formula by
Excel/WPS when the file is opened ("CSV/formula injection", OWASP), so it is prefixed with an
apostrophe and shown as plain text. Text that starts with an apostrophe itself, or reads as a
formula's error result (#N/A …), is prefixed too, so that ``unquote`` (which the importers'
``clean_text`` applies) gives back exactly what was written: an export re-imports unchanged.

A .xlsx can say "this cell is text" (an inline string), which no spreadsheet program evaluates:
there formula-like text is written as it is, as a text cell, with no apostrophe for the reader
to see (users read '=1+1 as their title changed). CSV has no cell types, so the apostrophe
stays there.
"""

from __future__ import annotations

import csv
import io
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from revive.clock import format_dt

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
CSV_BOM = "\ufeff"  # Excel only detects UTF-8 (Chinese text) with a BOM
CSV_CHUNK_ROWS = 500
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Excel refuses these in sheet titles (openpyxl raises); they become a full-width dash.
_SHEET_FORBIDDEN = str.maketrans({c: "－" for c in "[]:*?/\\"})
# openpyxl refuses control characters other than tab/newline/CR in cells.
_ILLEGAL = {c: None for c in range(32) if c not in (9, 10, 13)}


# What Excel/WPS store as a formula's result when it fails (a CSV export writes them as text).
ERROR_VALUES = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!"}
)


def formula_like(text: str) -> bool:
    """Does ``text`` start as a formula would? The full-width and small forms of the signs
    too (＝ ＋ － ＠ ﹦ ﹢ ﹣ ﹫, NFKC-folded): a Chinese or Japanese Excel/WPS may read what an
    input method typed as the half-width sign, so ＝HYPERLINK(…) could run as well."""
    return text.startswith(FORMULA_PREFIXES) or (
        bool(text) and unicodedata.normalize("NFKC", text[0]).startswith(FORMULA_PREFIXES)
    )


def needs_quote(text: str) -> bool:
    """Would ``text`` be run as a formula, read as a formula error, or lose a leading
    apostrophe on re-import? Then ``safe_cell`` prefixes it with one."""
    return formula_like(text) or text.startswith("'") or text.strip().upper() in ERROR_VALUES


def unquote(text: str) -> str:
    """The inverse of ``safe_cell`` on text: one leading apostrophe that quotes is removed."""
    return text[1:] if text.startswith("'") and needs_quote(text[1:]) else text


def safe_cell(value: Any) -> Any:
    """A value that a spreadsheet program shows as written and never evaluates. A moment
    becomes its local-time text (revive.clock: a stored UTC datetime never reaches a file).
    A naive datetime is a spreadsheet's own cell (an uploaded file's date, read back for
    「待修正的行」), not a moment: written as it was, a date when it has no time of day (a
    tester saw 2020-07-02 come back as 2020-07-02 08:00:00)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.date() if value.time() == time.min else value
    if isinstance(value, datetime):
        return format_dt(value, "%Y-%m-%d %H:%M:%S")
    if value is None or isinstance(value, bool | int | float | Decimal | date):
        return value
    text = str(value).translate(_ILLEGAL)
    if needs_quote(text):
        return "'" + text
    return text


def _text_cell(ws: WriteOnlyWorksheet, text: str) -> Cell:
    """A cell typed as text (an inline string): shown exactly as written, never evaluated."""
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"  # openpyxl made text starting with = a formula
    return cell


@dataclass(frozen=True)
class Percent:
    """A share (0.474 for 47.4 %) that a .xlsx stores as a number shown as a percentage, so it
    sorts, sums and charts in the spreadsheet (a rate written as 「47.4%（3688 / 7782）」 is
    text there); elsewhere its text, 47.4%."""

    fraction: float

    def __str__(self) -> str:
        return f"{self.fraction:.1%}"


PERCENT_FORMAT = "0.0%"


def xlsx_cell(ws: WriteOnlyWorksheet, value: Any) -> Any:
    """``safe_cell`` for a .xlsx: formula-like text becomes a text cell without the
    apostrophe; text quoted for another reason (a leading apostrophe of its own, an error
    value such as #N/A, which the importers refuse) keeps it, so the file re-imports exactly.
    A ``Percent`` is a number formatted as a percentage."""
    if isinstance(value, Percent):
        cell = WriteOnlyCell(ws, value=value.fraction)
        cell.number_format = PERCENT_FORMAT
        return cell
    value = safe_cell(value)
    if isinstance(value, str) and value.startswith("'") and formula_like(value[1:]):
        return _text_cell(ws, value[1:])
    return value


def _append(ws: WriteOnlyWorksheet, values: Iterable[Any], *, bold: bool = False) -> None:
    if not bold:
        ws.append([xlsx_cell(ws, v) for v in values])
        return
    row = []
    for v in values:
        value = xlsx_cell(ws, v)
        cell = value if isinstance(value, Cell) else WriteOnlyCell(ws, value=value)
        cell.font = Font(bold=True)
        row.append(cell)
    ws.append(row)


def add_sheet(
    wb: Workbook,
    title: str,
    header: Sequence[Any],
    rows: Iterable[Iterable[Any]],
    *,
    widths: Sequence[int] | None = None,
) -> None:
    """Append a sheet (write-only workbook) with a bold header row and neutralised cells; the
    title loses the characters Excel forbids and is cut to Excel's 31."""
    ws = wb.create_sheet(title=title.translate(_SHEET_FORBIDDEN)[:31])
    for i, width in enumerate(widths or (), start=1):
        from openpyxl.utils import get_column_letter

        ws.column_dimensions[get_column_letter(i)].width = width
    _append(ws, header, bold=True)
    for row in rows:
        _append(ws, row)


def write_xlsx(
    path_or_stream: str | Path | IO[bytes],
    header: Sequence[Any],
    rows: Iterable[Iterable[Any]],
    *,
    sheet_title: str = "Sheet1",
) -> None:
    """Stream ``header`` + ``rows`` into a one-sheet .xlsx (constant memory, write-only mode)."""
    wb = Workbook(write_only=True)
    add_sheet(wb, sheet_title, header, rows)
    wb.save(path_or_stream)


XLSX_CHUNK = 64 * 1024


def workbook_chunks(wb: Workbook) -> Iterator[bytes]:
    """A (write-only) workbook's bytes in chunks, for streamed downloads. openpyxl needs a
    seekable file, so it is saved to a temporary file first, then streamed and deleted."""
    with tempfile.TemporaryFile(suffix=".xlsx") as tmp:
        wb.save(tmp)
        tmp.seek(0)
        yield from stream_chunks(tmp)


def stream_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """A binary file's remaining bytes in chunks of XLSX_CHUNK."""
    while chunk := stream.read(XLSX_CHUNK):
        yield chunk


def _safe(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) if v else v for v in values]


def csv_chunks(head: Sequence[Any], rows: Iterable[Iterable[Any]]) -> Iterator[bytes]:
    """UTF-8 CSV with BOM, yielded in chunks of CSV_CHUNK_ROWS rows (constant memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_safe(head))
    yield (CSV_BOM + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for values in rows:
        writer.writerow(_safe(values))
        pending += 1
        if pending >= CSV_CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def xlsx_chunks(
    head: Sequence[Any], rows: Iterable[Iterable[Any]], sheet_title: str
) -> Iterator[bytes]:
    """The .xlsx bytes in chunks (write-only workbook: constant memory)."""
    wb = Workbook(write_only=True)
    add_sheet(wb, sheet_title, head, rows)
    return workbook_chunks(wb)
