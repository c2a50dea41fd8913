"""One definition of the demand record's fields, shared by the form, the API, import and export.

Built from the same ``Field`` and parsers (``common.fields``) as ``inventory.fields`` (same
header matching, enum synonyms, full-width folding, formula-apostrophe removal), so a demand
spreadsheet and a patent spreadsheet behave alike. ``validate_record`` never touches the database.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from revive.accounts import regions, uscc
from revive.clock import format_date
from revive.common.fields import (
    MAX_TEXT,
    Field,
    FieldError,
    HeaderIndex,
    RecordResult,
    _parse_decimal,
    _parse_email,
    _parse_enum,
    _parse_industry,
    _parse_int,
    _parse_phone,
    _parse_text,
    _read_date,
    folded,
    parse_fields,
    parse_line,
)
from revive.common.links import has_link, link_message
from revive.db import LabeledEnum
from revive.demands.contacts import has_contacts
from revive.demands.models import DemandSource, DemandType, Visibility
from revive.errors import ValidationFailed
from revive.inventory import fields as inv
from revive.inventory.fields import TRL_HELP, _parse_modes
from revive.inventory.models import TransferMode


def _parse_deadline(raw: Any, f: Field) -> date | None:
    """A date (future dates allowed; "not in the past" is a rule of posting, see services)."""
    value = _read_date(raw, f, "2026-12-31")
    # A typed-in year outside 2000–2100 is a slip; a date cell is taken as it is.
    if value is not None and not isinstance(raw, date) and not (2000 <= value.year <= 2100):
        raise FieldError(f"{f.label}超出范围：{folded(raw)}")
    return value


def _parse_credit_code(raw: Any, f: Field) -> str | None:
    if not folded(raw):
        return None
    try:
        return uscc.validate(str(raw))
    except ValidationFailed as exc:
        raise FieldError(exc.message) from None


def _parse_title(raw: Any, f: Field) -> str | None:
    """A one-line title without contact details: it is shown on every list, notice and
    e-mail, where no one hides them (demands.privacy hides them in the texts). No link
    either, whoever posts: universities' push notices and e-mails quote it (common.links)."""
    text = parse_line(raw, f)
    if has_contacts(text):
        raise FieldError(f"{f.label}中不能含电话、邮箱等联系方式，请填在“联系人”栏")
    if has_link(text):
        raise FieldError(link_message(f.label))
    return text


MODE_SYNONYMS = inv.FIELDS_BY_KEY["transfer_modes"].synonyms
# A budget is typed in 万元, a unit easy to take for 元: from 100 亿元 (1,000,000 万元) it is
# refused as a slip, as a contract amount is (revive.deals.services.MAX_AMOUNT_WAN).
BUDGET_MAX_WAN = 1_000_000

FIELDS: tuple[Field, ...] = (
    Field(
        "enterprise_name",
        "企业名称",
        _parse_text,
        max_len=200,
        aliases=("企业", "单位名称", "需求单位", "企业全称", "enterprise", "enterprise_name"),
        help="企业全称；批量导入时必填（企业自己发布时取账号所属企业）",
    ),
    Field(
        "credit_code",
        "统一社会信用代码",
        _parse_credit_code,
        aliases=("信用代码", "社会信用代码", "统一信用代码", "credit_code", "uscc"),
        help="18 位，含校验位；按此识别企业，平台没有的企业会新建（不含账号）",
    ),
    Field(
        "title",
        "需求名称",
        _parse_title,
        required=True,
        max_len=300,
        aliases=("需求标题", "技术需求名称", "名称", "title"),
    ),
    Field(
        "description",
        "需求描述",
        _parse_text,
        required=True,
        max_len=MAX_TEXT,
        aliases=("需求内容", "需求详情", "技术需求描述", "描述", "description"),
        help="写清要解决的问题、现在怎么做、卡在哪里——越具体越容易匹配到合适的专利",
    ),
    Field(
        "target_specs",
        "量化技术指标",
        _parse_text,
        max_len=MAX_TEXT,
        aliases=("技术指标", "量化指标", "性能指标", "target_specs"),
        help="如：锂回收率 ≥ 90%，检测节拍 ≤ 2 秒/件",
    ),
    Field(
        "industry",
        "行业",
        _parse_industry,
        max_len=100,
        aliases=("所属行业", "行业分类", "国民经济行业分类", "industry"),
        help="GB/T 4754，如 C3670 汽车零部件及配件制造",
    ),
    Field(
        "region", "地区", regions.parse_field, max_len=100, aliases=("所在地区", "所在地", "region")
    ),
    Field(
        "demand_type",
        "需求类型",
        _parse_enum,
        enum=DemandType,
        synonyms={"难题攻关": "problem", "技术攻关": "problem", "引进": "acquisition"},
        aliases=("类型", "demand_type"),
        help="、".join(m.label for m in DemandType),
    ),
    Field(
        "cooperation_modes",
        "期望合作方式",
        _parse_modes,
        enum=TransferMode,
        synonyms=MODE_SYNONYMS,
        aliases=("合作方式", "期望转化方式", "cooperation_modes", "modes"),
        help="可多选，用顿号或逗号分隔：" + "、".join(m.label for m in TransferMode),
    ),
    Field(
        "expected_trl",
        "期望技术成熟度",
        _parse_int,
        min_value=1,
        max_value=9,
        aliases=("技术成熟度", "期望成熟度", "TRL", "expected_trl"),
        help="；".join(TRL_HELP.values()),
    ),
    Field(
        "budget",
        "预算（万元）",
        _parse_decimal,
        max_value=BUDGET_MAX_WAN,
        aliases=("预算", "预算(万元)", "经费预算", "budget"),
        help="单位万元，须小于 1,000,000 万元（100 亿元）",
    ),
    Field(
        "deadline",
        "截止日期",
        _parse_deadline,
        aliases=("截止时间", "有效期至", "deadline"),
        help="发布或修改时不能早于今天",
    ),
    Field("contact_name", "联系人", parse_line, max_len=100, aliases=("contact_name", "contact")),
    Field(
        "contact_phone",
        "联系电话",
        _parse_phone,
        aliases=("电话", "手机", "联系方式", "contact_phone", "phone"),
    ),
    Field(
        "contact_email",
        "联系邮箱",
        _parse_email,
        aliases=("邮箱", "电子邮箱", "contact_email", "email"),
    ),
    Field(
        "visibility",
        "公开范围",
        _parse_enum,
        enum=Visibility,
        # Labels as NFKC folds them (full-width brackets → ASCII), which is how cells are read.
        synonyms={
            unicodedata.normalize("NFKC", Visibility.PUBLIC.label): "public",
            "公开": "public",
            "高校可见": "public",
            "仅平台": "platform",
            "不公开": "platform",
        },
        aliases=("公开", "visibility"),
        help="公开：高校用户可以看到（不含联系方式）；仅平台：只有平台和技术经理人可见",
    ),
    Field(
        "source",
        "来源",
        _parse_enum,
        enum=DemandSource,
        synonyms={"自填": "self", "调研": "survey", "活动": "event"},
        aliases=("需求来源", "source"),
        help="、".join(m.label for m in DemandSource) + "；批量导入留空时为“服务机构调研”",
    ),
    # Exported for information; posting and closing, not a spreadsheet, change these.
    Field("status", "状态", _parse_text, importable=False, aliases=("status",)),
    Field("created_at", "发布日期", _parse_text, importable=False, aliases=("created_at",)),
    # The demand's progress, exported for those who may see it (demands.permissions
    # .can_see_progress); counted by the packages above demands (demands.export.DemandProgress).
    Field(
        "progress_suggested",
        "机器推荐数",
        _parse_text,
        importable=False,
        aliases=("机器推荐", "机器候选数"),
        help="匹配引擎给出、需求页列出的强 / 中匹配专利，尚未经技术经理人审核",
    ),
    Field(
        "progress_pushed",
        "已推送专利数",
        _parse_text,
        importable=False,
        aliases=("已推送", "推送专利数"),
        help="技术经理人审核采纳、推送给企业的专利",
    ),
    Field(
        "progress_open",
        "对接中",
        _parse_text,
        importable=False,
        help="推送后尚在进行的对接：已推荐、已接洽、洽谈中",
    ),
    Field("progress_signed", "已签约", _parse_text, importable=False, help="已签约的对接"),
)

FIELDS_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
ENTERPRISE_KEYS = ("enterprise_name", "credit_code")
IMPORT_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.importable)
# What a form or the API may set on a demand (the enterprise comes from the account).
EDITABLE_KEYS: tuple[str, ...] = tuple(f.key for f in IMPORT_FIELDS if f.key not in ENTERPRISE_KEYS)
LABELS: dict[str, str] = {f.key: f.label for f in FIELDS}


match_header = HeaderIndex(FIELDS).match


def validate_record(
    raw: Mapping[str, Any], *, partial: bool = False, keys: tuple[str, ...] = EDITABLE_KEYS
) -> RecordResult:
    """Parse raw values keyed by field key. ``partial``: only keys present are checked."""
    return parse_fields((FIELDS_BY_KEY[k] for k in keys), raw, partial=partial)


def normalize_title(title: str) -> str:
    """The idempotency key's title part: NFKC, no whitespace, lower-case."""
    return "".join(unicodedata.normalize("NFKC", title or "").split()).lower()


def display_value(key: str, value: Any) -> str:
    """Human (and re-importable) text for a clean value."""
    if value is None:
        return ""
    if key == "cooperation_modes":
        return "、".join(TransferMode(v).label for v in str(value).split(",") if v)
    if isinstance(value, LabeledEnum):
        return value.label
    if isinstance(value, datetime):
        return format_date(value)  # a moment's local day (revive.clock)
    return inv.display_value(key, value)


def modes_of(value: str | None) -> list[TransferMode]:
    return [TransferMode(v) for v in (value or "").split(",") if v]
