"""The GB/T 4754 section of a free-text industry value, and the letter put in front of it."""

from __future__ import annotations

import pytest

from revive.common.industry import section_of, with_section


@pytest.mark.parametrize(
    ("text", "section", "stored"),
    [
        ("制造业", "C", "C 制造业"),
        ("信息传输、软件和信息技术服务业", "I", "I 信息传输、软件和信息技术服务业"),  # not M
        ("科学研究和技术服务业", "M", "M 科学研究和技术服务业"),
        ("电力、热力、燃气、及水生产和供应业", "D", "D 电力、热力、燃气、及水生产和供应业"),
        ("水利、环境和公共设施管理业", "N", "N 水利、环境和公共设施管理业"),
        ("农、林、牧、渔业", "A", "A 农、林、牧、渔业"),
        ("3841 锂离子电池制造", "C", "C3841 锂离子电池制造"),  # a 大类 number
        ("6510", "I", "I6510"),
        ("C3841 锂离子电池制造", "C", "C3841 锂离子电池制造"),  # coded already: as written
        ("E", "E", "E"),
        ("LED照明", None, "LED照明"),  # a Latin word is no code
        ("它既有真丝的光泽", None, "它既有真丝的光泽"),  # names no section
        ("99 其他", None, "99 其他"),
        ("", None, ""),
    ],
)
def test_a_value_names_its_section(text, section, stored):
    assert section_of(text) == section
    assert with_section(text) == stored


def test_the_fields_store_the_letter_unless_it_would_not_fit():
    from revive.demands.fields import FIELDS_BY_KEY

    industry = FIELDS_BY_KEY["industry"]
    assert industry.parse_value("制造业") == "C 制造业"
    long = "制造" * 50  # 100 characters: the letter would make it 102
    assert industry.parse_value(long) == long
