"""Chinese patent application numbers (申请号): normalise and validate the check character.

Since 2003: 12 digits (year 4, type 1, serial 7), a dot, and a check character computed as
sum(digit_i * w_i) mod 11 with weights 2,3,4,5,6,7,8,9,2,3,4,5, 10 written X.
Before 2003: 8 digits (year 2, type 1, serial 5) with weights 2–9, same rule.
Type digit: 1 发明, 2 实用新型, 3 外观设计, 8 PCT 发明, 9 PCT 实用新型.
"""

from __future__ import annotations

import re
import unicodedata

from revive.clock import local_today
from revive.inventory.models import PatentType

_WEIGHTS_12 = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_WEIGHTS_8 = (2, 3, 4, 5, 6, 7, 8, 9)
_TYPE_BY_DIGIT = {
    "1": PatentType.INVENTION,
    "2": PatentType.UTILITY,
    "3": PatentType.DESIGN,
    "8": PatentType.INVENTION,
    "9": PatentType.UTILITY,
}
_SHAPE = re.compile(r"^(\d{12}|\d{8})\.?([0-9X])?$")


class ApplicationNoError(ValueError):
    """Raised with a Chinese message users can act on."""


def check_character(digits: str) -> str:
    weights = _WEIGHTS_12 if len(digits) == 12 else _WEIGHTS_8
    total = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return "X" if total == 10 else str(total)


def normalize_application_no(raw: object, *, require_check: bool = True) -> str:
    """Return the canonical form ``DDDDDDDDDDDD.C``; raise ApplicationNoError otherwise."""
    if raw is None:
        raise ApplicationNoError("申请号不能为空")
    text = unicodedata.normalize("NFKC", str(raw)).strip().upper()
    if not text:
        raise ApplicationNoError("申请号不能为空")
    text = re.sub(r"[\s\-_·]", "", text)
    for prefix in ("CN", "ZL"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    match = _SHAPE.match(text)
    if not match:
        raise ApplicationNoError(
            f"申请号格式不正确：{raw}（应为 12 位数字加校验位，如 201710601862.3）"
        )
    digits, given = match.group(1), match.group(2)
    expected = check_character(digits)
    if given is None:
        if require_check:
            raise ApplicationNoError(f"申请号缺少校验位：{raw}（应为 {digits}.{expected}）")
    elif given != expected:
        raise ApplicationNoError(f"申请号校验位错误：{raw}（按规则应为 {digits}.{expected}）")
    type_digit = digits[4] if len(digits) == 12 else digits[2]
    if type_digit not in _TYPE_BY_DIGIT:
        raise ApplicationNoError(f"申请号中的专利类型位无效：{raw}")
    if len(digits) == 12:
        year = int(digits[:4])
    else:
        yy = int(digits[:2])
        year = 1900 + yy if yy >= 85 else 2000 + yy
    if len(digits) == 12 and not (2003 <= year <= local_today().year):
        raise ApplicationNoError(f"申请号中的年份无效：{raw}")
    if len(digits) == 8 and not (1985 <= year <= 2003):
        raise ApplicationNoError(f"申请号中的年份无效：{raw}")
    return f"{digits}.{expected}"


def patent_type_of(application_no: str) -> PatentType:
    digits = application_no.split(".")[0]
    return _TYPE_BY_DIGIT[digits[4] if len(digits) == 12 else digits[2]]


def make_application_no(year: int, type_digit: int, serial: int) -> str:
    """Build a valid number (demo data and tests)."""
    digits = f"{year:04d}{type_digit:d}{serial:07d}"
    return f"{digits}.{check_character(digits)}"
