"""统一社会信用代码 (unified social credit code, GB 32100-2015): normalise and validate.

Layout of the 18 characters:
  1     registration authority (1 机构编制, 5 民政, 9 工商/市场监管, Y 其他, …)
  2     organisation category within that authority (e.g. 91 = enterprise)
  3–8   administrative division code (6 digits, GB/T 2260)
  9–17  organisation code (GB 11714)
  18    check character

Every character comes from a 31-character alphabet (digits and capitals without I, O, Z, S, V);
the check character is ``31 - (Σ value_i × weight_i mod 31)`` over the first 17 characters,
with 31 written as 0.
"""

from __future__ import annotations

import unicodedata

from revive.errors import ValidationFailed

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 32100-2015 table 1: 1 机构编制, 2 外交, 3 司法行政, 4 文化, 5 民政, 6 旅游, 7 宗教,
# 8 工会, 9 工商, A 中央军委改革和编制办公室, N 农业, Y 其他.
REGISTRATION_AUTHORITIES = frozenset("123456789ANY")
LENGTH = 18
LABEL = "统一社会信用代码"


def normalize(raw: str | None) -> str:
    """Full-width → half-width (NFKC), drop whitespace, upper-case."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(text.split()).upper()


def check_character(first17: str) -> str:
    """The 18th character for the given first 17 (which must be in ALPHABET)."""
    total = sum(VALUES[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate(raw: str | None) -> str:
    """Return the canonical code, or raise ValidationFailed saying what is wrong."""
    code = normalize(raw)
    if not code:
        raise ValidationFailed(f"请填写{LABEL}")
    if len(code) != LENGTH:
        raise ValidationFailed(f"{LABEL}应为 18 位，当前为 {len(code)} 位")
    for pos, ch in enumerate(code, start=1):
        if ch not in VALUES:
            raise ValidationFailed(
                f"{LABEL}第 {pos} 位「{ch}」不是合法字符"
                "（只能是数字和除 I、O、Z、S、V 以外的大写字母）"
            )
    if code[0] not in REGISTRATION_AUTHORITIES:
        raise ValidationFailed(f"{LABEL}第 1 位「{code[0]}」不是有效的登记管理部门代码")
    if not code[2:8].isdigit():
        raise ValidationFailed(f"{LABEL}第 3–8 位应为 6 位数字的行政区划代码")
    expected = check_character(code[:17])
    if code[17] != expected:
        raise ValidationFailed(
            f"{LABEL}校验位错误：按前 17 位计算，第 18 位应为「{expected}」，请核对是否抄错"
        )
    return code


def is_valid(raw: str | None) -> bool:
    try:
        validate(raw)
    except ValidationFailed:
        return False
    return True
