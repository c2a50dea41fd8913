"""One definition of the patent record's fields, shared by import, forms, the API and export.

Each field knows its English key (model attribute), the national template's Chinese header,
common header variants, how to parse a raw cell or form value, and the help text shown to
the people filling it in. ``validate_record`` turns raw values into clean model values plus a
list of Chinese error messages; it never touches the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from revive.clock import format_date, local_today
from revive.db import LabeledEnum
from revive.imports.rows import CLEAR_MARKER, CLEAR_MARKERS
from revive.imports.xlsx import safe_cell, unquote
from revive.inventory.appno import ApplicationNoError, normalize_application_no, patent_type_of
from revive.inventory.models import (
    ImplementationStatus,
    PatentType,
    TransferMode,
    Willingness,
)

MIN_DATE = date(1985, 4, 1)  # the Chinese patent system started on 1 April 1985
MAX_TEXT = 10_000


class FieldError(ValueError):
    """A value that cannot be accepted; the message is shown to users as is."""


# ---------------------------------------------------------------------------- parsers


# Control characters other than tab/newline/CR (tab and CR become spaces below): invisible,
# refused by spreadsheet XML, so a value holding one could never be exported as stored.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def clean_text(raw: Any) -> str:
    """Normalise free text: drop control characters, strip, collapse runs of spaces/tabs.

    Chinese punctuation (，；（）) is kept as written: folding it would alter titles and abstracts
    and make every later edit record spurious changes. A leading apostrophe that our own exports
    add to neutralise formulas ('=…, '+86…; ``imports.xlsx.safe_cell``) is removed, so exported
    files re-import unchanged.
    """
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = _CONTROL.sub("", str(raw)).replace("\u3000", " ")
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r" ?\n ?", "\n", text).strip()
    return unquote(text)


def folded(raw: Any) -> str:
    """clean_text plus NFKC (full-width → half-width): for codes, numbers, enums, dates."""
    return unicodedata.normalize("NFKC", clean_text(raw)).strip()


def _parse_text(raw: Any, f: Field) -> str | None:
    text = clean_text(raw)
    if not text:
        return None
    if f.max_len and len(text) > f.max_len:
        raise FieldError(f"{f.label}过长：{len(text)} 字，最多 {f.max_len} 字")
    return text


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def _read_date(raw: Any, f: Field, example: str) -> date | None:
    """A date cell, or text in one of _DATE_PATTERNS (``example`` shows the expected form in
    the message); None when empty. Shared with the demand deadline."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = folded(raw)
    if not text:
        return None
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise FieldError(f"{f.label}不是有效日期：{text}") from None
    raise FieldError(f"{f.label}格式不正确：{text}（应为 {example}）")


def _parse_date(raw: Any, f: Field) -> date | None:
    value = _read_date(raw, f, "2020-05-01")
    if value is not None and not (MIN_DATE <= value <= local_today()):
        raise FieldError(f"{f.label}超出范围：{value.isoformat()}（应在 1985-04-01 至今天之间）")
    return value


def _parse_int(raw: Any, f: Field) -> int | None:
    text = folded(raw)
    if not text:
        return None
    stars = text.count("★")
    if stars and not re.sub(r"[★☆\s]", "", text):
        value = stars
    else:
        m = re.fullmatch(r"(?:TRL)?\s*(\d+)\s*(?:级|星|★)?", text, flags=re.IGNORECASE)
        if not m:
            raise FieldError(f"{f.label}应为 {f.min_value}–{f.max_value} 的整数：{text}")
        value = int(m.group(1))
    if not (f.min_value <= value <= f.max_value):
        raise FieldError(f"{f.label}应在 {f.min_value}–{f.max_value} 之间：{text}")
    return value


def _parse_decimal(raw: Any, f: Field) -> Decimal | None:
    text = folded(raw).replace(",", "").removesuffix("万元").removesuffix("万").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise FieldError(f"{f.label}应为数字（单位：万元）：{folded(raw)}") from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise FieldError(f"{f.label}超出范围：{folded(raw)}")
    return value.quantize(Decimal("0.01"))


_TRUE = {"是", "有", "y", "yes", "true", "1", "√", "✓"}
_FALSE = {"否", "无", "n", "no", "false", "0", "×"}


def _parse_bool(raw: Any, f: Field) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = folded(raw).lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FieldError(f"{f.label}应填“是”或“否”：{folded(raw)}")


def _enum_lookup(enum_cls: type[LabeledEnum], synonyms: Mapping[str, str]) -> dict[str, str]:
    table = {m.value.lower(): m.value for m in enum_cls}
    table.update({m.label: m.value for m in enum_cls})
    table.update(synonyms)
    return table


def _parse_enum(raw: Any, f: Field) -> LabeledEnum | None:
    assert f.enum is not None
    text = folded(raw)
    if not text:
        return None
    key = text if text in f.lookup else text.lower()
    if key not in f.lookup:
        allowed = "、".join(m.label for m in f.enum)
        raise FieldError(f"{f.label}取值无效：{text}（可选：{allowed}）")
    return f.enum(f.lookup[key])


_SPLIT = re.compile(r"[,，、;；/|\s]+")


def _parse_modes(raw: Any, f: Field) -> str | None:
    text = folded(raw)
    if not text:
        return None
    values: list[str] = []
    for part in _SPLIT.split(text):
        if not part:
            continue
        key = part if part in f.lookup else part.lower()
        if key not in f.lookup:
            allowed = "、".join(m.label for m in TransferMode)
            raise FieldError(f"{f.label}包含无效方式：{part}（可选：{allowed}）")
        if f.lookup[key] not in values:
            values.append(f.lookup[key])
    order = [m.value for m in TransferMode]
    return ",".join(sorted(values, key=order.index)) or None


# Lists of names and codes in one cell. Whitespace does not separate (a name may hold a space,
# an IPC code always does); "/" does not either (IPC codes hold one).
_LIST_SPLIT = re.compile(r"[;；,，、\n]+")
NAME_SEPARATOR = "；"
IPC_SEPARATOR = "; "
_IPC = re.compile(r"([A-H])\s*(\d{2})\s*([A-Z])\s*(\d{1,4})\s*/\s*(\d{1,6})")


def _split_list(text: str) -> list[str]:
    return [p.strip() for p in _LIST_SPLIT.split(text) if p.strip()]


def _joined(f: Field, parts: list[str], separator: str) -> str | None:
    text = separator.join(parts)
    if f.max_len and len(text) > f.max_len:
        raise FieldError(f"{f.label}过长：{len(text)} 字，最多 {f.max_len} 字")
    return text or None


def _parse_names(raw: Any, f: Field) -> str | None:
    """An ordered list of names (发明人, 专利权人, 合作企业): the order is kept — the first
    inventor and the first patentee are named first on purpose — and only the separators are
    made canonical (；), so "张伟、王芳" and "张伟; 王芳" are the same value."""
    return _joined(f, _split_list(clean_text(raw)), NAME_SEPARATOR)


def ipc_code(text: str) -> str:
    """One IPC symbol in its canonical spelling ("C22C38/02" → "C22C 38/02"); other text as is."""
    folded_text = unicodedata.normalize("NFKC", text).strip()
    m = _IPC.fullmatch(folded_text.upper())
    return f"{m[1]}{m[2]}{m[3]} {m[4]}/{m[5]}" if m else folded_text


def _ipc_parts(part: str) -> list[str]:
    """A list item, or several IPC symbols written with spaces only between them."""
    upper = unicodedata.normalize("NFKC", part).upper()
    codes = [m.group(0) for m in _IPC.finditer(upper)]
    if len(codes) > 1 and not _IPC.sub("", upper).strip():
        return [ipc_code(c) for c in codes]
    return [ipc_code(part)]


def _parse_ipc(raw: Any, f: Field) -> str | None:
    """One IPC symbol (主分类号), in its canonical spelling."""
    text = clean_text(raw)
    return _joined(f, [ipc_code(text)], "") if text else None


def _parse_ipc_list(raw: Any, f: Field) -> str | None:
    """All IPC symbols (IPC分类号): a set — the main one has its own field — so canonical
    means each symbol spelled canonically, once, in sorted order ("B22F 10/28; C22C 38/02")."""
    parts = [code for item in _split_list(clean_text(raw)) for code in _ipc_parts(item)]
    return _joined(f, sorted(dict.fromkeys(parts)), IPC_SEPARATOR)


def _parse_appno(raw: Any, f: Field) -> str | None:
    if isinstance(raw, float) and not raw.is_integer():
        raw = f"{raw:.1f}"  # a number cell such as 201710601862.3 (Excel drops no digits here)
    if not clean_text(raw):
        return None
    try:
        return normalize_application_no(clean_text(raw))
    except ApplicationNoError as exc:
        raise FieldError(str(exc)) from None


def _parse_email(raw: Any, f: Field) -> str | None:
    text = folded(raw)
    if not text:
        return None
    if len(text) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise FieldError(f"{f.label}格式不正确：{text}")
    return text.lower()


def _parse_phone(raw: Any, f: Field) -> str | None:
    text = folded(raw)
    if not text:
        return None
    if not re.fullmatch(r"[0-9+()\- ]{5,30}(?:转\d{1,6})?", text):
        raise FieldError(f"{f.label}格式不正确：{text}")
    return text


# ---------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    parse: Callable[[Any, Field], Any]
    aliases: tuple[str, ...] = ()
    required: bool = False
    max_len: int | None = None
    enum: type[LabeledEnum] | None = None
    synonyms: Mapping[str, str] = field(default_factory=dict)
    min_value: int = 0
    max_value: int = 0
    help: str = ""
    importable: bool = True  # False: exported for information, ignored on import
    lookup: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.enum is not None and not self.lookup:
            object.__setattr__(self, "lookup", _enum_lookup(self.enum, self.synonyms))

    def parse_value(self, raw: Any) -> Any:
        return self.parse(raw, self)


TRL_HELP = {
    1: "1 级：发现并报告基本原理",
    2: "2 级：提出技术概念和应用设想",
    3: "3 级：完成概念验证（实验室关键功能验证）",
    4: "4 级：实验室环境下部件/原理样机验证",
    5: "5 级：相关环境下部件/子系统验证",
    6: "6 级：相关环境下系统原型演示（中试）",
    7: "7 级：实际使用环境下原型演示",
    8: "8 级：定型，完成试验验证",
    9: "9 级：实际应用，批量生产或成功运行",
}
GRADE_HELP = {
    1: "1★：技术价值有限，转化可能性低",
    2: "2★：有一定价值，需较多后续开发",
    3: "3★：价值中等，有明确应用场景",
    4: "4★：价值较高，技术领先且市场需求明确",
    5: "5★：核心高价值专利，可直接产业化或形成专利组合",
}
WILLINGNESS_HELP = {
    Willingness.WILLING: "愿意：可按市场条件转化，主动推广",
    Willingness.CONDITIONAL: "视条件：视价格、合作方式等条件决定",
    Willingness.NOT_NOW: "暂不：近期不转化（不会被推荐给企业）",
}
IMPLEMENTATION_HELP = {
    ImplementationStatus.NOT_IMPLEMENTED: "未实施：尚未以任何方式实施",
    ImplementationStatus.SELF: "自行实施：本单位自行使用",
    ImplementationStatus.LICENSED: "已许可：已许可他人实施",
    ImplementationStatus.TRANSFERRED: "已转让：专利权已转让",
    ImplementationStatus.EQUITY: "作价入股：已作价投资入股",
    ImplementationStatus.INDUSTRIALIZED: "已产业化：已形成产品并规模销售",
}

FIELDS: tuple[Field, ...] = (
    Field(
        "application_no",
        "申请号",
        _parse_appno,
        required=True,
        aliases=(
            "专利申请号",
            "专利号",
            "申请号/专利号",
            "申请（专利）号",
            "application_no",
            "application number",
            "app_no",
            "patent_no",
        ),
        help="12 位数字加校验位，如 201710601862.3；可带 CN/ZL 前缀，系统自动规范化",
    ),
    Field(
        "title",
        "专利名称",
        _parse_text,
        required=True,
        max_len=500,
        aliases=("名称", "发明名称", "发明创造名称", "专利题名", "title", "patent_title"),
    ),
    Field(
        "patent_type",
        "专利类型",
        _parse_enum,
        enum=PatentType,
        synonyms={
            "发明专利": "invention",
            "实用新型专利": "utility",
            "外观设计专利": "design",
            "外观": "design",
            "新型": "utility",
        },
        aliases=("类型", "专利种类", "patent_type", "type"),
        help="发明/实用新型/外观设计；留空时按申请号第 5 位推断",
    ),
    Field(
        "patentees",
        "专利权人",
        _parse_names,
        max_len=500,
        aliases=(
            "权利人",
            "申请人",
            "申请（专利权）人",
            "专利权人（申请人）",
            "patentees",
            "assignee",
            "applicant",
        ),
    ),
    Field(
        "inventors",
        "发明人",
        _parse_names,
        max_len=500,
        aliases=("发明人（设计人）", "设计人", "发明人姓名", "inventors", "inventor"),
        help="多人用分号、顿号或逗号分隔，按专利证书上的顺序填写（顺序有意义）；"
        "管理员可把本校发明人账号关联到该专利，发明人即可查看和完善",
    ),
    Field(
        "contact_name",
        "联系人",
        _parse_text,
        max_len=100,
        aliases=("联系人姓名", "contact", "contact_name"),
    ),
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
        aliases=("邮箱", "电子邮箱", "email", "contact_email"),
    ),
    Field(
        "college",
        "所属学院",
        _parse_text,
        max_len=200,
        aliases=("学院", "所属单位", "院系", "所属院系", "二级单位", "college", "department"),
        help="须为本校已登记的学院名称",
    ),
    Field(
        "filing_date",
        "申请日",
        _parse_date,
        aliases=("申请日期", "filing_date", "application_date"),
    ),
    Field("grant_date", "授权日", _parse_date, aliases=("授权日期", "授权公告日", "grant_date")),
    Field(
        "legal_status",
        "法律状态",
        _parse_text,
        max_len=50,
        aliases=("专利状态", "legal_status"),
        help="如：有效、审中、失效",
    ),
    Field(
        "ipc_main",
        "主分类号",
        _parse_ipc,
        max_len=50,
        aliases=("IPC主分类号", "IPC主分类", "主IPC", "ipc_main", "ipc"),
    ),
    Field(
        "ipc_all",
        "IPC分类号",
        _parse_ipc_list,
        max_len=500,
        aliases=("IPC", "分类号", "全部分类号", "ipc_all"),
        help="全部分类号，多个用分号或逗号分隔，如 C22C 38/02; B22F 10/28"
        "（系统按规范写法排序、去重）",
    ),
    Field(
        "industry_code",
        "国民经济行业分类",
        _parse_text,
        max_len=100,
        aliases=("行业分类", "国民经济行业", "所属行业", "industry", "industry_code"),
        help="GB/T 4754，如 C3562 半导体器件专用设备制造",
    ),
    Field(
        "emerging_industry",
        "战略性新兴产业分类",
        _parse_text,
        max_len=100,
        aliases=("战略性新兴产业", "战新产业分类", "emerging_industry"),
    ),
    Field(
        "tech_field",
        "技术领域",
        _parse_text,
        max_len=200,
        aliases=("技术主题", "应用领域", "技术主题/应用领域", "tech_field", "field"),
    ),
    Field(
        "abstract",
        "摘要",
        _parse_text,
        max_len=MAX_TEXT,
        aliases=("专利摘要", "摘要内容", "abstract"),
    ),
    Field(
        "problem_solved",
        "所解决的问题",
        _parse_text,
        max_len=MAX_TEXT,
        aliases=("解决的问题", "技术问题", "problem_solved", "problem"),
    ),
    Field(
        "advantages",
        "技术优势及性能指标",
        _parse_text,
        max_len=MAX_TEXT,
        aliases=(
            "本专利对应产品、技术优势、性能指标",
            "技术优势",
            "性能指标",
            "对应产品",
            "advantages",
        ),
        help="写清对应产品、相对现有技术的优势和可量化的性能指标——企业最关心这些",
    ),
    Field(
        "prospects",
        "产业化前景描述",
        _parse_text,
        max_len=MAX_TEXT,
        aliases=("产业化前景", "市场前景", "应用前景", "prospects"),
    ),
    Field(
        "is_funded",
        "是否财政资助",
        _parse_bool,
        aliases=("是否财政资助科研项目形成", "财政资助", "is_funded", "funded"),
        help="是否由财政资助的科研项目形成（是/否）",
    ),
    Field(
        "implementation_status",
        "实施状态",
        _parse_enum,
        enum=ImplementationStatus,
        synonyms={
            "未转化": "not_implemented",
            "许可": "licensed",
            "转让": "transferred",
            "产业化": "industrialized",
        },
        aliases=("实施情况", "转化状态", "implementation_status"),
        help="；".join(IMPLEMENTATION_HELP.values()),
    ),
    Field(
        "transfer_willingness",
        "转化意愿",
        _parse_enum,
        enum=Willingness,
        synonyms={
            "有": "willing",
            "是": "willing",
            "无": "not_now",
            "否": "not_now",
            "暂不转化": "not_now",
            "愿意转化": "willing",
        },
        aliases=("是否愿意转化", "转让意愿", "transfer_willingness", "willingness"),
        help="；".join(WILLINGNESS_HELP.values()),
    ),
    Field(
        "transfer_modes",
        "可接受的转化方式",
        _parse_modes,
        enum=TransferMode,
        synonyms={
            "许可": "license",
            "独占许可": "exclusive",
            "排他许可": "exclusive",
            "独占": "exclusive",
            "入股": "equity",
            "合作": "joint_dev",
            "合作研发": "joint_dev",
        },
        aliases=("转化方式", "意向转化方式", "可接受转化方式", "transfer_modes", "modes"),
        help="可多选，用顿号或逗号分隔：转让、普通许可、独占或排他许可、开放许可、作价入股、合作开发",
    ),
    Field(
        "trl",
        "技术成熟度",
        _parse_int,
        min_value=1,
        max_value=9,
        aliases=("技术成熟度等级", "TRL", "trl", "成熟度"),
        help="；".join(TRL_HELP.values()),
    ),
    Field(
        "value_grade",
        "专利价值分级自评",
        _parse_int,
        min_value=1,
        max_value=5,
        aliases=("价值分级", "专利价值分级", "价值自评", "自评星级", "value_grade", "grade"),
        help="；".join(GRADE_HELP.values()),
    ),
    Field(
        "asking_price",
        "意向价格（万元）",
        _parse_decimal,
        aliases=("意向价格", "意向价格(万元)", "转让价格", "asking_price", "price"),
    ),
    Field(
        "price_public",
        "意向价格公开",
        _parse_bool,
        aliases=("是否公开意向价格", "价格公开", "price_public"),
        help="是：企业在专利库中可看到意向价格；否或留空：显示“面议”",
    ),
    Field(
        "partner_companies",
        "合作企业",
        _parse_names,
        max_len=500,
        aliases=("合作单位", "意向企业", "partner_companies"),
    ),
    # Exported for information; the workflow, not a spreadsheet, changes these.
    Field("status", "入库状态", _parse_text, importable=False, aliases=("状态", "status")),
    Field("updated_at", "更新时间", _parse_text, importable=False, aliases=("updated_at",)),
)

FIELDS_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
IMPORT_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.importable)
EDITABLE_KEYS: tuple[str, ...] = tuple(f.key for f in IMPORT_FIELDS)
# Model attributes set from the record (college is resolved to college_id by the service).
MODEL_KEYS: tuple[str, ...] = tuple(k for k in EDITABLE_KEYS if k != "college")


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().lower()
    text = re.sub(r"[\s*＊:：_\-]", "", text)
    return text.replace("（", "(").replace("）", ")")


class HeaderIndex:
    """Maps spreadsheet headers (Chinese template name, English key or a variant) to Fields.

    Shared by every record spec (patents here, demands in revive.demands.fields).
    """

    def __init__(self, fields: Iterable[Field]) -> None:
        self._index: dict[str, Field] = {}
        for f in fields:
            for name in (f.label, f.key, *f.aliases):
                self._index.setdefault(_header_key(name), f)

    def match(self, header: Any) -> Field | None:
        if header is None:
            return None
        key = _header_key(str(header))
        if key in self._index:
            return self._index[key]
        # "申请号（必填）", "专利名称*" and similar decorations
        return self._index.get(re.sub(r"\((?:必填|选填|可选|万元)\)$", "", key))


@dataclass
class RecordResult:
    values: dict[str, Any]
    errors: list[tuple[str, str]]  # (field key, Chinese message)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_fields(fields: Iterable[Field], raw: Mapping[str, Any], *, partial: bool) -> RecordResult:
    """Parse raw values keyed by field key; ``partial``: only keys present are checked."""
    values: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for f in fields:
        if partial and f.key not in raw:
            continue
        try:
            value = f.parse_value(raw.get(f.key))
        except FieldError as exc:
            errors.append((f.key, str(exc)))
            continue
        if value is None and f.required:
            errors.append((f.key, f"缺少必填项：{f.label}"))
            continue
        values[f.key] = value
    return RecordResult(values, errors)


match_header = HeaderIndex(FIELDS).match


# CLEAR_MARKER in an import row clears the stored value; a blank cell leaves it alone. Only
# the import reads it: anywhere else it is refused as a value, so a stored value can never be
# mistaken for the marker when an export is imported again.


def is_clear_marker(raw: Any) -> bool:
    return isinstance(raw, str) and folded(raw) in CLEAR_MARKERS


def validate_record(raw: Mapping[str, Any], *, partial: bool = False) -> RecordResult:
    """Parse raw values keyed by field key. ``partial``: only keys present are checked."""
    markers = [k for k, v in raw.items() if k in FIELDS_BY_KEY and is_clear_marker(v)]
    if markers:
        raw = {k: v for k, v in raw.items() if k not in markers}
    result = parse_fields(IMPORT_FIELDS, raw, partial=partial)
    result.errors = [(k, m) for k, m in result.errors if k not in markers]
    for key in markers:
        result.errors.append(
            (
                key,
                f"“{CLEAR_MARKER}”是批量导入时清除已有内容的标记，不能作为{FIELDS_BY_KEY[key].label}的内容",
            )
        )
    _cross_checks(result.values, result.errors, partial=partial)
    return result


# Fields that a stored patent cannot be without (the import refuses to clear them).
NOT_CLEARABLE = frozenset({"application_no", "title", "patent_type"})
# ... nor an entered one (CHECK entered_is_graded; the workflow asks for them before 入库).
GRADED_KEYS = ("trl", "value_grade", "transfer_willingness")


def _cross_checks(values: dict[str, Any], errors: list[tuple[str, str]], *, partial: bool) -> None:
    appno = values.get("application_no")
    if appno:
        given = values.get("patent_type")
        if given is None and not (partial and "patent_type" not in values):
            values["patent_type"] = patent_type_of(appno)
    errors.extend((key, message) for _, key, message in conflicts(values))


def conflicts(values: Mapping[str, Any]) -> list[tuple[frozenset[str], str, str]]:
    """Rules between fields: (the fields involved, the field to flag, Chinese message)."""
    found: list[tuple[frozenset[str], str, str]] = []
    appno, given = values.get("application_no"), values.get("patent_type")
    if appno and given is not None:
        implied = patent_type_of(appno)
        if given != implied:
            found.append(
                (
                    frozenset({"application_no", "patent_type"}),
                    "patent_type",
                    f"专利类型「{given.label}」与申请号所示类型「{implied.label}」不符",
                )
            )
    filing, grant = values.get("filing_date"), values.get("grant_date")
    if filing and grant and grant < filing:
        found.append((frozenset({"filing_date", "grant_date"}), "grant_date", "授权日早于申请日"))
    if filing and appno:
        digits = appno.split(".")[0]
        year = int(digits[:4]) if len(digits) == 12 else None
        if year and filing.year != year:
            found.append(
                (
                    frozenset({"filing_date", "application_no"}),
                    "filing_date",
                    f"申请日年份 {filing.year} 与申请号年份 {year} 不符",
                )
            )
    if values.get("transfer_willingness") == Willingness.NOT_NOW and values.get("transfer_modes"):
        found.append(
            (
                frozenset({"transfer_willingness", "transfer_modes"}),
                "transfer_modes",
                "转化意愿为“暂不”时不应填写可接受的转化方式",
            )
        )
    return found


def conflicts_after(stored: Mapping[str, Any], changes: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The rules a partial update would break together with the stored values (an update row
    naming 转化意愿 暂不 while the record keeps its 转化方式), as (field, message); rules
    involving no changed field are not the update's doing and are left out."""
    merged = {**stored, **changes}
    return [(key, msg) for keys, key, msg in conflicts(merged) if keys & changes.keys()]


# Lists and codes: exported in their canonical form whatever the stored spelling.
LIST_KEYS = frozenset(
    k for k, f in FIELDS_BY_KEY.items() if f.parse in (_parse_names, _parse_ipc_list, _parse_ipc)
)


def display_value(key: str, value: Any) -> str:
    """Human (and re-importable) text for a clean value: enum labels, modes, dates, booleans.

    Lists come out in their canonical form (``_parse_names``, ``_parse_ipc_list``; transfer
    modes in the enum's order) whatever order a stored value has, so an export and the
    import's comparison (``canonical``) agree."""
    if value is None:
        return ""
    if isinstance(value, LabeledEnum):
        return value.label
    if key == "transfer_modes":
        stored = {v for v in str(value).split(",") if v}
        return "、".join(m.label for m in TransferMode if m.value in stored)
    if key in LIST_KEYS:
        try:
            return FIELDS_BY_KEY[key].parse_value(value) or ""
        except FieldError:
            return str(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime | date):
        return format_date(value)  # a moment's local day (revive.clock)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def canonical(key: str, value: Any) -> Any:
    """What a stored value becomes when exported and imported again (display → spreadsheet
    cell → parse). Values the import stored are their own canonical form; comparing through
    this makes a record stored otherwise (by hand, by an older rule) compare equal to the
    same data re-imported instead of counting as changed."""
    f = FIELDS_BY_KEY.get(key)
    if value is None or f is None or not f.importable:
        return value
    try:
        return f.parse_value(safe_cell(display_value(key, value)))
    except FieldError:
        return value


def same_value(key: str, stored: Any, new: Any) -> bool:
    """Does an imported or edited ``new`` (a parsed value) equal the ``stored`` one?"""
    if stored == new:
        return True
    return canonical(key, stored) == new


def template_guide(
    fields: Iterable[Field],
    *,
    required: Collection[str] = (),
    allowed: Mapping[str, str] | None = None,
    required_text: Mapping[str, str] | None = None,
) -> list[list[str]]:
    """The import template's field guide, one row per field: 字段, 英文键, 必填, 说明, 可选值,
    也可识别的表头. ``required``: keys required beyond ``Field.required``; ``allowed``: the
    可选值 text of fields whose parser says nothing by itself (shared with demand templates);
    ``required_text``: the 必填 text of fields required only sometimes (e.g. "新登记必填")."""
    rows = []
    for f in fields:
        if allowed and f.key in allowed:
            values = allowed[f.key]
        elif f.enum is not None:
            values = "、".join(m.label for m in f.enum)
        elif f.max_value:
            values = f"{f.min_value}–{f.max_value}"
        elif f.parse is _parse_bool:
            values = "是、否"
        elif f.parse is _parse_date:
            values = "日期，如 2020-05-01"
        else:
            values = ""
        rows.append(
            [
                f.label,
                f.key,
                (required_text or {}).get(f.key)
                or ("是" if f.required or f.key in required else ""),
                f.help,
                values,
                "、".join(a for a in f.aliases if not a.isascii()),
            ]
        )
    return rows
