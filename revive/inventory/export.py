"""Export the (filtered) inventory as .xlsx or .csv that re-imports cleanly.

The header row is the Chinese label of every field in ``fields.FIELDS`` order (so the import's
``match_header`` maps each column back), values go through ``fields.display_value`` (the text
the importer parses), and every cell goes through ``imports.xlsx.safe_cell`` so a cell such as
``=HYPERLINK(...)`` is shown as text, never run as a formula. Both formats stream: CSV is a
generator of encoded chunks, XLSX is written by openpyxl's write-only mode to a temporary file.
``stream_download`` serves the demand export too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from flask import Response
from openpyxl import Workbook

from revive.errors import NotFoundError
from revive.imports.xlsx import XLSX_MIMETYPE, add_sheet, safe_cell, workbook_chunks
from revive.inventory.fields import FIELDS, display_value
from revive.web import send_stream

CSV_BOM = "\ufeff"  # Excel only detects UTF-8 with a BOM
CSV_CHUNK_ROWS = 500
EXPORT_TYPES = {"xlsx": XLSX_MIMETYPE, "csv": "text/csv; charset=utf-8"}


def header() -> list[str]:
    return [f.label for f in FIELDS]


_KEYS = tuple(f.key for f in FIELDS)


def row_values(row: Any) -> list[str]:
    """One exported row: display text per field. ``row`` has model attributes + college_name."""
    return [
        (getattr(row, "college_name", None) or "")
        if key == "college"
        else display_value(key, getattr(row, key, None))
        for key in _KEYS
    ]


def _safe(values: Sequence[Any]) -> list[Any]:
    return [safe_cell(v) if v else v for v in values]


def csv_chunks(head: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
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
    head: Sequence[Any], rows: Iterable[Sequence[Any]], sheet_title: str
) -> Iterator[bytes]:
    """The .xlsx bytes in chunks (write-only workbook: constant memory)."""
    wb = Workbook(write_only=True)
    add_sheet(wb, sheet_title, head, rows)
    return workbook_chunks(wb)


def iter_csv(rows: Iterable[Any]) -> Iterator[bytes]:
    """The patent rows of ``queries.export_rows`` as streamed CSV."""
    return csv_chunks(header(), map(row_values, rows))


def stream_download(
    fmt: str,
    head: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    name: str,
    ascii_name: str,
    sheet_title: str,
) -> Response:
    """``head`` + ``rows`` streamed as ``name.fmt`` (.xlsx or .csv; another format is a 404).

    Shared by the inventory and demand exports; ``ascii_name`` is the fallback file name for
    clients that ignore the UTF-8 ``filename*``.
    """
    if fmt not in EXPORT_TYPES:
        raise NotFoundError("不支持的导出格式")
    chunks = xlsx_chunks(head, rows, sheet_title) if fmt == "xlsx" else csv_chunks(head, rows)
    return send_stream(chunks, EXPORT_TYPES[fmt], f"{name}.{fmt}", f"{ascii_name}.{fmt}")
