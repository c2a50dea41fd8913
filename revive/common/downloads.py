"""Download responses shared by the views of every domain: a .xlsx built in memory, a streamed
.xlsx/.csv export, and the Content-Disposition that names the file (UTF-8 with an ASCII
fallback)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any
from urllib.parse import quote

from flask import Response, send_file, stream_with_context

from revive.common.spreadsheets import (
    CSV_MIMETYPE,
    XLSX_MIMETYPE,
    csv_chunks,
    write_xlsx,
    xlsx_chunks,
)
from revive.errors import NotFoundError

EXPORT_TYPES = {"xlsx": XLSX_MIMETYPE, "csv": CSV_MIMETYPE}


def send_xlsx(write: Callable[[IO[bytes]], None], download_name: str) -> Response:
    """A .xlsx download built in memory by ``write(stream)``."""
    buffer = io.BytesIO()
    write(buffer)
    buffer.seek(0)
    response = send_file(
        buffer, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=download_name
    )
    # werkzeug's fallback for clients that ignore filename* keeps the ASCII characters of the
    # name only: a Chinese name became "-20261206.xlsx"
    response.headers["Content-Disposition"] = attachment(
        download_name, ascii_fallback(download_name)
    )
    return response


def ascii_fallback(name: str) -> str:
    """A plain-ASCII file name for ``name`` (clients that ignore ``filename*``): its ASCII
    letters, digits and -_. kept, led by "revive-" when little of the name is left."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    kept = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-_. ")
    if not re.search(r"[A-Za-z]", kept):
        kept = f"revive-{kept}" if kept else "revive-download"
    return f"{kept}.{ext}" if ext else kept


def send_table(
    header: Sequence[Any],
    rows: Iterable[Iterable[Any]],
    download_name: str,
    *,
    sheet_title: str = "Sheet1",
) -> Response:
    """One sheet (bold header, formula-safe cells) as a .xlsx download."""
    return send_xlsx(
        lambda stream: write_xlsx(stream, header, rows, sheet_title=sheet_title), download_name
    )


def attachment(name: str, ascii_name: str) -> str:
    """Content-Disposition for a download called ``name`` (UTF-8, RFC 5987), with
    ``ascii_name`` for clients that ignore ``filename*``."""
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def send_stream(chunks: Iterable[bytes], content_type: str, name: str, ascii_name: str) -> Response:
    """A download streamed chunk by chunk (inside the request context: lazy queries work)."""
    return Response(
        stream_with_context(chunks),
        content_type=content_type,
        headers={"Content-Disposition": attachment(name, ascii_name)},
    )


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

    Every cell is neutralised (``spreadsheets.safe_cell``); ``ascii_name`` is the fallback file
    name for clients that ignore the UTF-8 ``filename*``.
    """
    if fmt not in EXPORT_TYPES:
        raise NotFoundError("不支持的导出格式")
    chunks = xlsx_chunks(head, rows, sheet_title) if fmt == "xlsx" else csv_chunks(head, rows)
    return send_stream(chunks, EXPORT_TYPES[fmt], f"{name}.{fmt}", f"{ascii_name}.{fmt}")
