"""Dashboard tables as .xlsx / .csv downloads (every cell through
``common.spreadsheets.safe_cell``)."""

from __future__ import annotations

import io

from flask import Response

from revive.clock import local_today
from revive.common.downloads import EXPORT_TYPES, attachment
from revive.common.spreadsheets import csv_chunks, write_xlsx
from revive.dashboard.tables import Table

CONTENT_TYPES = EXPORT_TYPES


def table_bytes(table: Table, fmt: str) -> bytes:
    """The table (header, rows, then the total row if any) as file content."""
    if fmt == "xlsx":
        buffer = io.BytesIO()
        write_xlsx(buffer, table.header(fmt), table.export_rows(fmt), sheet_title=table.title)
        return buffer.getvalue()
    return b"".join(csv_chunks(table.header(), table.export_rows()))


def download(table: Table, fmt: str) -> Response:
    name = f"{table.title}-{local_today():%Y%m%d}.{fmt}"
    return Response(
        table_bytes(table, fmt),
        content_type=CONTENT_TYPES[fmt],
        headers={"Content-Disposition": attachment(name, f"dashboard-{table.key}.{fmt}")},
    )
