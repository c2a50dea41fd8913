"""Export the (filtered) inventory as .xlsx or .csv that re-imports cleanly.

The header row is the Chinese label of every field in ``fields.FIELDS`` order (so the import's
``match_header`` maps each column back), values go through ``fields.display_value`` (the text
the importer parses), and every cell goes through ``imports.xlsx.safe_cell`` so a cell such as
``=HYPERLINK(...)`` is shown as text, never run as a formula. Both formats stream: CSV is a
generator of encoded chunks, XLSX is written by openpyxl's write-only mode to a temporary file.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from revive.imports.xlsx import safe_cell, write_xlsx
from revive.inventory.fields import FIELDS, display_value

CSV_BOM = "\ufeff"  # Excel only detects UTF-8 with a BOM
CSV_CHUNK_ROWS = 500


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


def _safe(values: list[Any]) -> list[Any]:
    return [safe_cell(v) if v else v for v in values]


def iter_csv(rows: Iterable[Any]) -> Iterator[bytes]:
    """UTF-8 CSV with BOM, yielded in chunks of CSV_CHUNK_ROWS rows (constant memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_safe(header()))
    yield (CSV_BOM + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows:
        writer.writerow(_safe(row_values(row)))
        pending += 1
        if pending >= CSV_CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


XLSX_CHUNK = 64 * 1024


def iter_xlsx(rows: Iterable[Any]) -> Iterator[bytes]:
    """The .xlsx bytes in chunks. openpyxl (write-only, constant memory) needs a seekable file,
    so the workbook is written to a temporary file first, then streamed and deleted."""
    with tempfile.TemporaryFile(suffix=".xlsx") as tmp:
        write_xlsx(tmp, header(), (row_values(r) for r in rows), sheet_title="专利盘点")
        tmp.seek(0)
        while chunk := tmp.read(XLSX_CHUNK):
            yield chunk
