import pytest

from revive.inventory.appno import (
    ApplicationNoError,
    check_character,
    make_application_no,
    normalize_application_no,
    patent_type_of,
)
from revive.inventory.models import PatentType


@pytest.mark.parametrize(
    "raw",
    [
        "201710601862.3",
        "CN201710601862.3",
        "ZL 2017 1 0601862.3",
        "ＣＮ２０１７１０６０１８６２．３",
        "2017-1-0601862.3",
    ],
)
def test_normalizes_common_spellings_to_canonical(raw):
    assert normalize_application_no(raw) == "201710601862.3"


def test_check_character_ten_is_written_x():
    # find a serial whose check character is X and make sure it round-trips
    for serial in range(1, 200):
        number = make_application_no(2020, 1, serial)
        if number.endswith("X"):
            assert normalize_application_no(number.lower()) == number
            break
    else:  # pragma: no cover
        pytest.fail("no X check character in range")


def test_pre_2003_eight_digit_numbers_use_weights_two_to_nine():
    digits = "98123456"
    assert normalize_application_no(f"{digits}.{check_character(digits)}").startswith(digits)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("201710601862.4", "校验位错误"),
        ("2017106018", "格式不正确"),
        ("", "不能为空"),
        ("201710601862", "缺少校验位"),
        (f"201750601862.{check_character('201750601862')}", "类型位无效"),
        (f"209910601862.{check_character('209910601862')}", "年份无效"),
    ],
)
def test_rejects_bad_numbers_with_chinese_reason(raw, message):
    with pytest.raises(ApplicationNoError, match=message):
        normalize_application_no(raw)


def test_type_digit_gives_patent_type():
    assert patent_type_of(make_application_no(2018, 2, 5)) == PatentType.UTILITY
    assert patent_type_of(make_application_no(2018, 8, 5)) == PatentType.INVENTION
    assert patent_type_of(make_application_no(2018, 3, 5)) == PatentType.DESIGN
