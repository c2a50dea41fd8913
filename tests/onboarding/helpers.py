"""Institution spreadsheets and valid 统一社会信用代码 for onboarding tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from revive.accounts import uscc
from tests.imports.helpers import csv_bytes

HEADER = ["单位名称", "统一社会信用代码", "所在地区", "单位类型"]


def code(n: int, *, authority: str = "12") -> str:
    """A valid code: a 事业单位 (12…) in 内蒙古 (150000) with organisation code n."""
    first17 = f"{authority}150000{n:09d}"
    return first17 + uscc.check_character(first17)


def row(n: int, name: str | None = None, region: str = "内蒙古自治区呼和浩特市", kind="高校"):
    return [name or f"北疆第{n}大学", code(n), region, kind]


def institutions_csv(rows: Sequence[Sequence[Any]], header: Sequence[str] = HEADER) -> bytes:
    return csv_bytes(rows, header)
