"""Reading exported workbooks, and the direct download to compare a job's file with."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_xlsx(data: bytes | Path) -> tuple[list[str], list[list[Any]]]:
    """(sheet titles, rows of the first sheet) as openpyxl reads them."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    wb = load_workbook(source, read_only=True)
    try:
        rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        return wb.sheetnames, rows
    finally:
        wb.close()


def direct_xlsx(client, app, url: str) -> bytes:
    """What the export link gives when the rows stay under the threshold (streamed)."""
    before = app.config["REVIVE_EXPORT_DIRECT_MAX_ROWS"]
    app.config["REVIVE_EXPORT_DIRECT_MAX_ROWS"] = 10**9
    try:
        response = client.get(url)
    finally:
        app.config["REVIVE_EXPORT_DIRECT_MAX_ROWS"] = before
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == XLSX_MIME
    return response.data


def run_worker(job_id: int) -> None:
    """What a worker does with the job's message. The task runs in an app context (and so a
    database session) of its own, as in a worker: this test's session is then expired so that
    it reads what the task wrote."""
    from revive.extensions import db
    from workers import tasks

    tasks.build_export(job_id)
    db.session.expire_all()


def download(client, job_id: int):
    """GET the job's download, read and closed (the file it streams is closed with it)."""
    response = client.get(f"/exports/{job_id}/download")
    response.get_data()
    response.close()
    return response
