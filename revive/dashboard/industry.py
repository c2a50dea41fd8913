"""Industry grouping for the dashboards: GB/T 4754-2017 sections (门类 A–T).

Patents (``Patent.industry_code``) and demands (``Demand.industry``) carry the national
economic classification as free text, usually "C3841 锂离子电池制造". The dashboards group by the
section letter, the first character, computed in SQL (``UPPER(SUBSTR(TRIM(x), 1, 1))``) so the
grouping stays one GROUP BY at any size. Finer levels (大类 "C38") would be the first three
characters; the section is what regional reports use and keeps tables short.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

# GB/T 4754-2017 国民经济行业分类, 门类.
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
UNSET_KEY = "none"
UNSET_LABEL = "未填写行业"
OTHER_KEY = "other"
OTHER_LABEL = "未标注门类代码"


def section_expr(column: Any) -> sa.ColumnElement[str]:
    """SQL: the upper-cased first character of the code, '' for NULL or blank.

    Literals, not bound parameters: the expression appears in SELECT and GROUP BY, and
    PostgreSQL (server-side binding) only matches the two when their SQL text is identical.
    """
    one = sa.literal_column("1")
    blank = sa.literal_column("''")
    return sa.func.upper(sa.func.substr(sa.func.trim(sa.func.coalesce(column, blank)), one, one))


def section_key(first_char: str | None) -> str:
    """Map the SQL group key to a section letter, ``none`` (blank) or ``other`` (no code)."""
    if not first_char:
        return UNSET_KEY
    return first_char if first_char in SECTIONS else OTHER_KEY


def section_label(key: str) -> str:
    if key == UNSET_KEY:
        return UNSET_LABEL
    if key == OTHER_KEY:
        return OTHER_LABEL
    return f"{key} {SECTIONS[key]}"


def section_order(key: str) -> tuple[int, str]:
    """Sections in code order, then 'no code', then 'blank'."""
    return (0 if key in SECTIONS else 1 if key == OTHER_KEY else 2, key)
