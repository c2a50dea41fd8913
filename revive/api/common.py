"""Request parsing and response shaping shared by every JSON route (one error shape, one
pagination shape)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from revive.common.fields import clean_text
from revive.errors import ValidationFailed
from revive.web import int_arg

MAX_PER_PAGE = 100
MAX_INT = 2**31 - 1  # ids and versions are PostgreSQL integers


def enum_pair(value: Any) -> tuple[str | None, str | None]:
    """A LabeledEnum as (value, Chinese label); statuses travel as string names."""
    return (value.value, value.label) if value is not None else (None, None)


def json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed("请求体须为 JSON 对象")
    return data


def optional_json_body() -> dict[str, Any]:
    """The JSON object of a route whose body may be left out (no body → {})."""
    data = request.get_json(silent=True)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationFailed("请求体须为 JSON 对象")
    return data


def optional_text(data: dict[str, Any], key: str) -> str | None:
    """A string member (None when absent or null); any other JSON type is a 422."""
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(f"{key} 须为字符串", details={key: "须为字符串"})
    return value


def refuse_clearing(record: dict[str, Any], model: Any, fields_by_key: dict[str, Any]) -> None:
    """422 instead of an integrity error (a 500) when a PATCH blanks a field whose column is
    NOT NULL (e.g. patent_type, visibility): partial validation reads a blank as "clear it"."""
    columns = model.__table__.columns
    blank = sorted(
        key
        for key, value in record.items()
        if key in columns and not columns[key].nullable and (value is None or not clean_text(value))
    )
    if blank:
        labels = "、".join(fields_by_key[k].label for k in blank)
        raise ValidationFailed(f"{labels}不能清空", details={k: "不能清空" for k in blank})


def optional_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{key} 须为整数", details={key: "须为整数"})
    if abs(value) > MAX_INT:  # beyond the integer columns: would fail in the database
        raise ValidationFailed(f"{key} 超出范围", details={key: "超出范围"})
    return value


def requested_page() -> int:
    """``page`` from the query string (1 when missing or not a number)."""
    return int_arg(request.args.get("page"), 1, minimum=1)


def requested_per_page() -> int:
    """``per_page`` from the query string, clamped to 1..MAX_PER_PAGE (default: page size)."""
    per_page = int_arg(request.args.get("per_page"), int(current_app.config["REVIVE_PAGE_SIZE"]))
    return min(MAX_PER_PAGE, max(1, per_page))


def iso(value: Any) -> str | None:
    """A date/datetime as ISO 8601, None as None."""
    return value.isoformat() if value is not None else None


def page_meta(page: Any, **extra: Any) -> dict[str, Any]:
    """The ``_meta`` of a list answer: ``{page, per_page, total_pages, total_items, …extra}``."""
    return {
        "page": page.page,
        "per_page": page.per_page,
        "total_pages": page.pages,
        "total_items": page.total,
        **extra,
    }
