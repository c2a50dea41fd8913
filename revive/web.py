"""Small request-side helpers shared by the views of every domain (downloads: common.downloads)."""

from __future__ import annotations

from typing import Any

from revive.errors import ValidationFailed

MAX_INT_DIGITS = 9  # fits a PostgreSQL integer; longer digit strings are no id, page or version


def int_arg(raw: Any, default: int | None = None, *, minimum: int | None = None) -> int | None:
    """A non-negative integer from a query-string/form value; ``default`` when it is missing,
    not ASCII digits ('²' is a digit to str.isdigit), too long, or below ``minimum``."""
    text = str(raw if raw is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_INT_DIGITS:
        return default
    value = int(text)
    return default if minimum is not None and value < minimum else value


def version_arg(raw: Any) -> int | None:
    """The record version a form was loaded at (its hidden ``version`` field), for the
    stale-form check: None when the form carries none (a new record). A value that is no
    version (not digits, too long) is refused rather than read as "do not check", which
    would let a tampered or broken form overwrite someone else's change."""
    if raw is None or not str(raw).strip():
        return None
    value = int_arg(raw)
    if value is None:
        raise ValidationFailed("页面的版本号无效，请刷新页面后重试（您的修改未保存）")
    return value


def external_url(endpoint: str, **values: Any) -> str:
    """The full address of a page, for a link sent to someone (an invitation, a password
    reset): REVIVE_BASE_URL when set (behind a proxy the request's own host may be an internal
    name such as http://web:8000), else the request's host, else the path alone."""
    from flask import current_app, has_request_context, request

    path = site_path(endpoint, **values)
    base = str(current_app.config.get("REVIVE_BASE_URL") or "").rstrip("/")
    if not base and has_request_context():
        base = request.host_url.rstrip("/")
    return f"{base}{path}"


def site_path(endpoint: str, **values: Any) -> str:
    """A page's path from the site's root: never the request's script root, which a forged
    SCRIPT_NAME header could make //evil.example (url_for puts it first)."""
    from flask import current_app

    return current_app.url_map.bind("").build(endpoint, values)
