"""Small request-side helpers shared by the views of every domain (downloads: common.downloads)."""

from __future__ import annotations

from typing import Any

MAX_INT_DIGITS = 9  # fits a PostgreSQL integer; longer digit strings are no id, page or version


def int_arg(raw: Any, default: int | None = None, *, minimum: int | None = None) -> int | None:
    """A non-negative integer from a query-string/form value; ``default`` when it is missing,
    not ASCII digits ('²' is a digit to str.isdigit), too long, or below ``minimum``."""
    text = str(raw if raw is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_INT_DIGITS:
        return default
    value = int(text)
    return default if minimum is not None and value < minimum else value
