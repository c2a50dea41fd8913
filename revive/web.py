"""Small request-side helpers shared by the views of every domain."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any
from urllib.parse import quote

from flask import Response, send_file, stream_with_context

from revive.imports.xlsx import XLSX_MIMETYPE, write_xlsx

MAX_INT_DIGITS = 9  # fits a PostgreSQL integer; longer digit strings are no id, page or version


def int_arg(raw: Any, default: int | None = None, *, minimum: int | None = None) -> int | None:
    """A non-negative integer from a query-string/form value; ``default`` when it is missing,
    not ASCII digits ('²' is a digit to str.isdigit), too long, or below ``minimum``."""
    text = str(raw if raw is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_INT_DIGITS:
        return default
    value = int(text)
    return default if minimum is not None and value < minimum else value


def send_xlsx(write: Callable[[IO[bytes]], None], download_name: str) -> Response:
    """A .xlsx download built in memory by ``write(stream)``."""
    buffer = io.BytesIO()
    write(buffer)
    buffer.seek(0)
    return send_file(
        buffer, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=download_name
    )


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
