"""Dashboard tables as .xlsx / .csv downloads (every cell through ``imports.xlsx.safe_cell``)."""

from __future__ import annotations

import csv
import io

from flask import Response

from revive.clock import local_today
from revive.dashboard.tables import Table
from revive.imports.xlsx import XLSX_MIMETYPE, safe_cell, write_xlsx
from revive.web import attachment

CONTENT_TYPES = {
    "xlsx": XLSX_MIMETYPE,
    "csv": "text/csv; charset=utf-8",
}
CSV_BOM = "\ufeff"  # Excel opens UTF-8 CSV with Chinese text correctly only with a BOM


def table_bytes(table: Table, fmt: str) -> bytes:
    """The table (header, rows, then the total row if any) as file content."""
    if fmt == "xlsx":
        buffer = io.BytesIO()
        write_xlsx(buffer, table.header(), table.export_rows(), sheet_title=table.title)
        return buffer.getvalue()
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in table.header()])
    for row in table.export_rows():
        writer.writerow([safe_cell(v) for v in row])
    return (CSV_BOM + text.getvalue()).encode("utf-8")


def download(table: Table, fmt: str) -> Response:
    name = f"{table.title}-{local_today():%Y%m%d}.{fmt}"
    return Response(
        table_bytes(table, fmt),
        content_type=CONTENT_TYPES[fmt],
        headers={"Content-Disposition": attachment(name, f"dashboard-{table.key}.{fmt}")},
    )
