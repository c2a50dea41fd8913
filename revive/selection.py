"""Lists of ids a request sends (ticked rows, API id arrays): one parser with one cap, used by
every service that acts on a selection, so no form or API call can make a request work
through an unbounded list."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from revive.errors import ValidationFailed

MAX_SELECTION = 500  # rows one request may act on (a page of the review queue is ≤ 100)
MAX_ID = 2**31 - 1  # ids are PostgreSQL integers


def selected_ids(
    raw: Any,
    *,
    limit: int = MAX_SELECTION,
    empty: str = "请先勾选要处理的记录",
    noun: str = "编号",
) -> list[int]:
    """Positive integer ids from a form list or a JSON array, de-duplicated, order kept.

    The length is checked before any element is looked at, so an oversized list costs
    nothing. Strings of ASCII digits (form values) and JSON integers are accepted; booleans,
    floats, '²' and anything beyond the integer columns are refused with the value shown.
    """
    if isinstance(raw, str | bytes | dict) or not isinstance(raw, Iterable):
        raise ValidationFailed(f"{noun}须为整数列表", details={"ids": "须为整数列表"})
    values = list(raw) if not isinstance(raw, list) else raw
    if len(values) > limit * 2:  # duplicates allowed, but not without bound
        raise ValidationFailed(f"一次最多处理 {limit} 条", details={"ids": f"最多 {limit} 条"})
    ids = list(dict.fromkeys(_one_id(v, noun) for v in values))
    if not ids:
        raise ValidationFailed(empty, details={"ids": "不能为空"})
    if len(ids) > limit:
        raise ValidationFailed(f"一次最多处理 {limit} 条", details={"ids": f"最多 {limit} 条"})
    return ids


def _one_id(value: Any, noun: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip()) if len(value.strip()) <= 10 else 0
    else:
        number = 0
    if not 0 < number <= MAX_ID:
        shown = str(value).strip()[:20]
        message = f"无效的{noun}：{shown}"
        raise ValidationFailed(message, details={"ids": message})
    return number
