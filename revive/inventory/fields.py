"""One definition of the patent record's fields, shared by import, forms, the API and export.

Each field knows its English key (model attribute), the national template's Chinese header,
common header variants, how to parse a raw cell or form value, and the help text shown to
the people filling it in. ``validate_record`` turns raw values into clean model values plus a
list of Chinese error messages; it never touches the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from revive.clock import format_date
from revive.common.fields import (
    CLEAR_MARKER,
    MAX_TEXT,
    Field,
    FieldError,
    HeaderIndex,
    RecordResult,
    _joined,
    _parse_bool,
    _parse_date,
    _parse_decimal,
    _parse_email,
    _parse_enum,
    _parse_industry,
    _parse_int,
    _parse_names,
    _parse_phone,
    _parse_text,
    _split_list,
    clean_text,
    folded,
    is_clear_marker,
    parse_fields,
    parse_line,
)
from revive.common.spreadsheets import safe_cell
from revive.db import LabeledEnum
from revive.inventory.appno import ApplicationNoError, normalize_application_no, patent_type_of
from revive.inventory.models import (
    ImplementationStatus,
    PatentType,
    TransferMode,
    Willingness,
)

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


# IPC codes: one symbol, or a set of them in one cell.
IPC_SEPARATOR = "; "
_IPC = re.compile(r"([A-H])\s*(\d{2})\s*([A-Z])\s*(\d{1,4})\s*/\s*(\d{1,6})")


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


# What offices type for "nothing to say" in a status cell: stored as blank, not as a status (a
# tester's 「—」 put 31 patents outside both 有效 and 未填写).
_PLACEHOLDERS = frozenset({"—", "——", "-", "--", "－", "/", "／", "\\", "无", "空", "n/a", "na"})


def _parse_legal_status(raw: Any, f: Field) -> str | None:
    text = _parse_text(raw, f)
    return None if text is None or text.strip().lower() in _PLACEHOLDERS else text


# 意向价格 typed as a word, not a figure: no price asked (the pool then shows 面议, as for a
# blank). A tester's 100 rows of 「面议」 were refused.
_NO_PRICE = frozenset({"面议", "议价", "协商", "价格面议", "另议", "待定"})


def _parse_asking_price(raw: Any, f: Field) -> Any:
    if isinstance(raw, str) and clean_text(raw) in _NO_PRICE:
        return None
    return _parse_decimal(raw, f)


def _parse_appno(raw: Any, f: Field) -> str | None:
    if isinstance(raw, float) and not raw.is_integer():
        raw = f"{raw:.1f}"  # a number cell such as 201710601862.3 (Excel drops no digits here)
    elif isinstance(raw, float | int) and not isinstance(raw, bool) and len(str(int(raw))) == 12:
        # 201412717435.0 in a number cell reads back as 201412717435: Excel dropped the check
        # digit 0, the only one a number loses; given back only where 0 is the right one
        # (a tester's 8 such rows were refused as lacking the check digit)
        candidate = f"{int(raw)}.0"
        try:
            return normalize_application_no(candidate)
        except ApplicationNoError:
            pass
    if not clean_text(raw):
        return None
    try:
        return normalize_application_no(clean_text(raw))
    except ApplicationNoError as exc:
        raise FieldError(str(exc)) from None


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
    Willingness.NOT_NOW: (
        "暂不：近期不转化（不会被机器推荐给企业需求；入库后企业仍可在专利库中看到并申请对接）"
    ),
}
IMPLEMENTATION_HELP = {
    ImplementationStatus.NOT_IMPLEMENTED: "未实施：尚未以任何方式实施",
    ImplementationStatus.SELF: "自行实施：本单位自行使用",
    ImplementationStatus.LICENSED: "已许可：已许可他人实施",
    ImplementationStatus.TRANSFERRED: "已转让：专利权已转让（移出成果池，撤回开放许可声明）",
    ImplementationStatus.EQUITY: "作价入股：已作价投资入股（移出成果池，撤回开放许可声明）",
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
        parse_line,
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
            "申请（专利）人",
            "专利申请人",
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
    # Exported for information (the regulator's export spans universities); the import is
    # always for one university, chosen at upload, so the column is recognised and ignored.
    Field(
        "institution",
        "所属高校（单位）",
        _parse_text,
        importable=False,
        aliases=("所属高校", "高校", "高校名称", "institution"),
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
        _parse_legal_status,
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
        _parse_industry,
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
            # what offices also type (a tester's 14 rows of 「视情况」 were refused)
            "视情况": "conditional",
            "看情况": "conditional",
            "有条件": "conditional",
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
        _parse_asking_price,
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
    # The local day the patent last entered the pool (学校审核通过（入库）; kept when it left
    # the pool since: 入库状态 says where it is now).
    Field(
        "entered_at", "入库日期", _parse_text, importable=False, aliases=("入库时间", "entered_at")
    ),
    Field("updated_at", "更新时间", _parse_text, importable=False, aliases=("updated_at",)),
)

FIELDS_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
IMPORT_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.importable)
EDITABLE_KEYS: tuple[str, ...] = tuple(f.key for f in IMPORT_FIELDS)
# Model attributes set from the record (college is resolved to college_id by the service).
MODEL_KEYS: tuple[str, ...] = tuple(k for k in EDITABLE_KEYS if k != "college")


match_header = HeaderIndex(FIELDS).match


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
