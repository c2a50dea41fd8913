"""GB/T 4754-2017 国民经济行业分类: its sections (门类 A–T), and the section of a free-text value.

Patents (``industry_code``) and demands (``industry``) carry the classification as text, most
often "C3841 锂离子电池制造", but real postings often give only a section's name (制造业,
信息传输、软件和信息技术服务业) or a 大类 number. The dashboards group by the first character
and the officers filter by section, so ``with_section`` puts the section letter in front of a
value that names one without it: "制造业" is stored as "C 制造业", "3841 锂离子电池制造" as
"C3841 锂离子电池制造". A value that already starts with a section letter, or that names no
section, is kept as written.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

SECTIONS: dict[str, str] = {
    "A": "农、林、牧、渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
}

# Words that name a section, tried in the sections' order (信息传输、软件和信息技术服务业 is I
# before its 技术服务 could make it M; 电力、热力、燃气、及水生产 is D before 水利 is N).
_WORDS: dict[str, tuple[str, ...]] = {
    "A": ("农、林", "农林", "农业", "林业", "畜牧", "牧业", "渔业", "种植业", "养殖业"),
    "B": ("采矿", "矿业", "开采"),
    "C": ("制造",),
    "D": ("电力", "热力", "燃气", "水生产", "供水"),
    "E": ("建筑", "土木工程"),
    "F": ("批发", "零售"),
    "G": ("交通运输", "仓储", "邮政", "物流"),
    "H": ("住宿", "餐饮"),
    "I": ("信息传输", "软件", "信息技术", "互联网", "电信"),
    "J": ("金融", "银行", "保险", "证券"),
    "K": ("房地产",),
    "L": ("租赁", "商务服务"),
    "M": ("科学研究", "技术服务", "研究和试验发展"),
    "N": ("水利", "环境", "公共设施"),
    "O": ("居民服务", "修理"),
    "P": ("教育",),
    "Q": ("卫生", "社会工作", "医疗", "医院"),
    "R": ("文化", "体育", "娱乐"),
    "S": ("公共管理", "社会保障", "社会组织"),
    "T": ("国际组织",),
}

# 大类 (two digits) → section: the first 大类 of each section.
_DIVISIONS = (
    (1, "A"),
    (6, "B"),
    (13, "C"),
    (44, "D"),
    (47, "E"),
    (51, "F"),
    (53, "G"),
    (61, "H"),
    (63, "I"),
    (66, "J"),
    (70, "K"),
    (71, "L"),
    (73, "M"),
    (76, "N"),
    (80, "O"),
    (83, "P"),
    (84, "Q"),
    (86, "R"),
    (90, "S"),
    (97, "T"),
)
_CODED = re.compile(r"^[A-T](?:\d|\s|$)")
_DIGITS = re.compile(r"^(\d{2})\d{0,2}(?!\d)")


def section_of(text: str | None) -> str | None:
    """The section letter ``text`` gives or names, or None."""
    text = (text or "").strip()
    if not text:
        return None
    if _CODED.match(text):
        return text[0]
    digits = _DIGITS.match(text)
    if digits:
        division = int(digits.group(1))
        found = [letter for first, letter in _DIVISIONS if first <= division]
        return found[-1] if found and division <= 97 else None
    for letter, words in _WORDS.items():
        if any(word in text for word in words):
            return letter
    return None


def with_section(text: str | None) -> str | None:
    """``text`` with its section letter in front when it names one without it."""
    if not text or _CODED.match(text.strip()):
        return text
    letter = section_of(text)
    if letter is None:
        return text
    text = text.strip()
    return f"{letter}{text}" if text[0].isdigit() else f"{letter} {text}"


def section_expr(column: Any) -> sa.ColumnElement[str]:
    """SQL: the upper-cased first character of the code, '' for NULL or blank.

    Literals, not bound parameters: the expression appears in SELECT and GROUP BY, and
    PostgreSQL (server-side binding) only matches the two when their SQL text is identical.
    """
    one = sa.literal_column("1")
    blank = sa.literal_column("''")
    return sa.func.upper(sa.func.substr(sa.func.trim(sa.func.coalesce(column, blank)), one, one))
