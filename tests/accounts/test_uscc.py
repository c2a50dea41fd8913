"""统一社会信用代码 validation (GB 32100-2015)."""

from __future__ import annotations

import pytest

from revive.accounts import uscc
from revive.errors import ValidationFailed

# Published codes of real organisations (check characters verified by hand with the weights).
VALID = [
    "91350100M000100Y43",  # the example printed in GB 32100-2015
    "914403001922038216",
    "9144030071526726XG",
    "12100000400000624D",  # 事业单位 (registration authority 1)
]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes_are_returned_canonical(code):
    assert uscc.validate(code) == code


def test_check_character_is_computed_from_first_17():
    assert uscc.check_character("91350100M000100Y4") == "3"
    assert uscc.check_character("91110108MA01ABCDE") == "N"


def test_sum_divisible_by_31_yields_zero():
    # Find a body whose weighted sum is a multiple of 31 and check it maps to "0", not "31".
    body = "9111000010000000"
    for ch in uscc.ALPHABET:
        first17 = body + ch
        total = sum(uscc.VALUES[c] * w for c, w in zip(first17, uscc.WEIGHTS, strict=True))
        if total % 31 == 0:
            assert uscc.check_character(first17) == "0"
            assert uscc.validate(first17 + "0") == first17 + "0"
            return
    pytest.fail("no body with sum ≡ 0 (mod 31) among the tried characters")


@pytest.mark.parametrize(
    "raw",
    ["９１３５０１００Ｍ０００１００Ｙ４３", " 91350100m000100y43 ", "9135 0100 M000 100Y 43"],
)
def test_normalises_full_width_case_and_spaces(raw):
    assert uscc.validate(raw) == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写统一社会信用代码"),
        ("91350100M000100Y4", "应为 18 位，当前为 17 位"),
        ("91350100M000100Y433", "应为 18 位，当前为 19 位"),
        ("91350100M000I00Y43", "第 13 位「I」不是合法字符"),
        ("91350100M000100O43", "第 16 位「O」不是合法字符"),
        ("91350100-00100Y43X", "第 9 位「-」不是合法字符"),
        ("B1350100M000100Y43", "第 1 位「B」不是有效的登记管理部门代码"),
        ("9135A100M000100Y43", "第 3–8 位应为 6 位数字"),
        ("91350100M000100Y44", "第 18 位应为「3」"),
        ("911100001000000001", "第 18 位应为「R」"),
    ],
)
def test_invalid_codes_say_what_is_wrong(raw, message):
    with pytest.raises(ValidationFailed) as excinfo:
        uscc.validate(raw)
    assert message in excinfo.value.message
    assert not uscc.is_valid(raw)
