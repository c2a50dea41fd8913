"""Industry grouping for the dashboards: GB/T 4754-2017 sections (门类 A–T).

Patents (``Patent.industry_code``) and demands (``Demand.industry``) carry the national
economic classification as free text, usually "C3841 锂离子电池制造" (a value naming a section
without its letter is stored with it: common.industry.with_section). The dashboards group by the
section letter, the first character, computed in SQL (``UPPER(SUBSTR(TRIM(x), 1, 1))``) so the
grouping stays one GROUP BY at any size. Finer levels (大类 "C38") would be the first three
characters; the section is what regional reports use and keeps tables short.
"""

from __future__ import annotations

from revive.common.industry import SECTIONS

UNSET_KEY = "none"
UNSET_LABEL = "未填写行业"
OTHER_KEY = "other"
OTHER_LABEL = "未标注门类代码"


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
