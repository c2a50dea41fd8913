"""One definition of an institution record (高校/科研院所), shared by the form, the spreadsheet
import and its template. Built from the shared field framework (``common.fields``: the same
header matching, enum synonyms, full-width folding and formula-apostrophe removal as patents
and demands);
``validate_institution`` never touches the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from revive.accounts import regions, uscc
from revive.accounts.models import InstitutionType
from revive.common.fields import (
    Field,
    FieldError,
    HeaderIndex,
    RecordResult,
    _parse_enum,
    clean_text,
    folded,
    parse_fields,
    template_guide,
)
from revive.errors import ValidationFailed

NAME_MAX = 200  # Organization.name
REGION_MAX = 100  # Organization.region


def _parse_name(raw: Any, f: Field) -> str | None:
    text = clean_text(raw)
    if not text:
        return None
    if len(text) > NAME_MAX:
        raise FieldError(f"{f.label}过长：{len(text)} 字，最多 {NAME_MAX} 字")
    return text


def _parse_credit_code(raw: Any, f: Field) -> str | None:
    if not folded(raw):
        return None
    try:
        return uscc.validate(str(raw))
    except ValidationFailed as exc:
        raise FieldError(exc.message) from None


FIELDS: tuple[Field, ...] = (
    Field(
        "name",
        "单位名称",
        _parse_name,
        required=True,
        aliases=(
            "名称",
            "单位",
            "学校名称",
            "高校名称",
            "院校名称",
            "机构名称",
            "单位全称",
            "学校",
            "高校",
            "institution",
        ),
        help="全称，与公章一致；平台按名称和统一社会信用代码识别单位",
    ),
    Field(
        "credit_code",
        "统一社会信用代码",
        _parse_credit_code,
        required=True,
        aliases=("信用代码", "社会信用代码", "统一信用代码", "credit_code", "uscc"),
        help="18 位，含校验位（高校、科研院所一般以 12 开头）；已登记的代码会更新该单位",
    ),
    Field(
        "region",
        "所在地区",
        regions.parse_field,
        required=True,
        max_len=REGION_MAX,
        aliases=("地区", "所在地", "盟市", "所在盟市", "省份", "所在省份", "地市", "region"),
        help="盟市或省，如：内蒙古自治区呼和浩特市（区内单位须为盟市之一，可写「呼市」等简称）",
    ),
    Field(
        "institution_type",
        "单位类型",
        _parse_enum,
        required=True,
        enum=InstitutionType,
        synonyms={
            "大学": "university",
            "学院": "university",
            "高等学校": "university",
            "高等院校": "university",
            "普通高校": "university",
            "院校": "university",
            "科研机构": "institute",
            "研究院所": "institute",
            "研究院": "institute",
            "研究所": "institute",
            "科研单位": "institute",
            "院所": "institute",
        },
        aliases=("类型", "单位类别", "机构类型", "类别", "type", "institution_type"),
        help="高校 或 科研院所",
    ),
)

FIELDS_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
LABELS: dict[str, str] = {f.key: f.label for f in FIELDS}
KEYS: tuple[str, ...] = tuple(f.key for f in FIELDS)

match_header = HeaderIndex(FIELDS).match


# The same fields with nothing required: an import row may leave cells blank (they never clear
# a value); the row spec asks for the required ones once it knows the institution is new.
_PARTIAL: tuple[Field, ...] = tuple(replace(f, required=False) for f in FIELDS)


def validate_institution(raw: Mapping[str, Any], *, partial: bool = False) -> RecordResult:
    """Parse raw values keyed by field key; ``partial``: only keys present are checked and
    blanks are allowed."""
    return parse_fields(_PARTIAL if partial else FIELDS, raw, partial=partial)


def template_rows() -> tuple[str, list[str], list[list[str]]]:
    """The import template: sheet title, header row and the field guide."""
    return "高校科研院所名单", [f.label for f in FIELDS], template_guide(FIELDS)
