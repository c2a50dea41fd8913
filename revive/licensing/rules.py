"""Open-licence rules (专利开放许可): pure checks, no database, no request.

``validate(raw, patent)`` parses a submitted declaration (form strings or JSON values) and
returns the parsed ``Terms`` together with EVERY violated rule as ``(field, message)`` — not
just the first — so the form can show each message next to its field and the API can return
them all in one 422.

Rules (docs/domain.md, "Open licensing rules worth encoding"; 专利法第五十条, 专利开放许可实施
相关规定):

- the fee mode matches the amounts given: 一次性付费 → a lump sum and nothing else; 提成 → one
  royalty rate (net sales OR profit) and no fixed fee; 入门费+提成 → an entry fee and one rate;
- amounts are ≥ 0; a fixed fee (lump sum / entry fee) ≤ MAX_FIXED_FEE_WAN; a royalty ≤
  MAX_ROYALTY_SALES_PCT of net sales or ≤ MAX_ROYALTY_PROFIT_PCT of profit;
- the licence period is at least MIN_PERIOD_YEARS (calendar arithmetic, see ``add_years``);
- a co-owned patent (several patentees) needs every co-owner's consent;
- no exclusive or sole licence in force; not in the annual-fee grace period;
- a pledged patent needs the pledgee's consent;
- utility models and designs need a 专利权评价报告 number;
- the patent is entered in the pool (已入库), valid, and has no active declaration yet;
- the patent is still the university's: not assigned (已转让) nor contributed as equity
  (作价入股) — by its 实施状态 or by a signed 转让 / 作价入股 contract on one of its deals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from revive.inventory.legal import LAPSED_WORDS
from revive.inventory.models import EntryStatus, PatentType
from revive.licensing.display import amount
from revive.licensing.models import FeeMode

Error = tuple[str, str]  # (field key, Chinese message)

# The guidance says these caps apply "generally" (一般不超过): they are policy values, not law,
# so they live here, in one place, to be changed when the guidance changes.
MAX_FIXED_FEE_WAN = Decimal("2000")  # 一次性付费 / 入门费上限（万元）
MAX_ROYALTY_SALES_PCT = Decimal("20")  # 按净销售额提成上限（%）
MAX_ROYALTY_PROFIT_PCT = Decimal("40")  # 按利润提成上限（%）
MIN_PERIOD_YEARS = 1  # 许可期限下限（年）

MAX_REPORT_NO_LEN = 100  # OpenLicenceDeclaration.evaluation_report_no is String(100)
MAX_TERMS_LEN = 2000
# Patentees are one text field; co-owners are separated by any of these.
PATENTEE_SEPARATORS = re.compile(r"[；;、,，]")
# A legal status containing any of these is not a valid granted patent (审中 = not yet granted).
# lapsed (inventory.legal), or not granted yet: an open licence needs a granted patent
NOT_VALID_LEGAL_STATUS = (*LAPSED_WORDS, "审中")
NEEDS_EVALUATION_REPORT = frozenset({PatentType.UTILITY, PatentType.DESIGN})

AMOUNT_KEYS = ("lump_sum_wan", "entry_fee_wan", "royalty_sales_pct", "royalty_profit_pct")
FLAG_KEYS = (
    "co_owners_consent",
    "exclusive_licence_in_force",
    "in_fee_grace_period",
    "pledged",
    "pledgee_consent",
)
TEXT_KEYS = ("evaluation_report_no", "terms")
FIELD_KEYS = ("fee_mode", *AMOUNT_KEYS, "start_date", "end_date", *FLAG_KEYS, *TEXT_KEYS)

LABELS = {
    "patent": "专利",
    "fee_mode": "付费方式",
    "lump_sum_wan": "一次性费用（万元）",
    "entry_fee_wan": "入门费（万元）",
    "royalty": "提成比例",
    "royalty_sales_pct": "净销售额提成比例（%）",
    "royalty_profit_pct": "利润提成比例（%）",
    "start_date": "许可起始日",
    "end_date": "许可终止日",
    "co_owners_consent": "全体共有人同意",
    "exclusive_licence_in_force": "存在有效的独占或排他许可",
    "in_fee_grace_period": "处于年费滞纳期",
    "pledged": "专利已质押",
    "pledgee_consent": "质权人同意",
    "evaluation_report_no": "专利权评价报告编号",
    "terms": "其他许可条件",
}

_TRUE = frozenset({"1", "true", "on", "yes", "y", "是", "有"})
_FALSE = frozenset({"", "0", "false", "off", "no", "n", "否", "无"})


@dataclass(frozen=True)
class PatentFacts:
    """What the rules need to know about the patent (read by the service, not here)."""

    patent_type: PatentType
    patentees: str | None
    status: EntryStatus
    has_active_declaration: bool = False
    legal_status: str | None = None
    # Why the right is no longer the university's (e.g. "已转让（合同签订于 2025-06-01）"),
    # None while it still is.
    rights_gone: str | None = None
    # A sole or exclusive licence recorded on the platform and in force today, e.g.
    # "2026-03-01 与某某公司签订独占许可合同，许可期限至 2029-02-28"; None when there is none.
    exclusive_licence: str | None = None


@dataclass(frozen=True)
class Terms:
    """A parsed declaration; None where the value was absent or could not be parsed."""

    fee_mode: FeeMode | None = None
    lump_sum_wan: Decimal | None = None
    entry_fee_wan: Decimal | None = None
    royalty_sales_pct: Decimal | None = None
    royalty_profit_pct: Decimal | None = None
    start_date: date | None = None
    end_date: date | None = None
    co_owners_consent: bool = False
    exclusive_licence_in_force: bool = False
    in_fee_grace_period: bool = False
    pledged: bool = False
    pledgee_consent: bool = False
    evaluation_report_no: str | None = None
    terms: str | None = None

    def values(self) -> dict[str, Any]:
        """Column values for an OpenLicenceDeclaration."""
        return {key: getattr(self, key) for key in FIELD_KEYS}


# ---------------------------------------------------------------------------- small helpers


# The years an open licence's dates may name (patents exist in China since 1985; a period
# runs at most a patent's 20 years past today's declarations)
FIRST_YEAR, LAST_YEAR = 1985, 2100


def add_years(start: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 Feb → 28 Feb when the target year has none.

    民法典第二百零二条: when the due month has no corresponding day, the period ends on the last
    day of that month. So 2024-02-29 + 1 year = 2025-02-28, and a period is measured in
    calendar years, never as 365 days (2023-03-01 → 2024-02-29 is 365 days but not a year).
    """
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February into a common year
        return start.replace(year=start.year + years, day=28)


def patentee_names(patentees: str | None) -> list[str]:
    """Distinct patentee names in their order: '甲大学；乙公司' → ['甲大学', '乙公司']."""
    names = (n.strip() for n in PATENTEE_SEPARATORS.split(patentees or ""))
    return list(dict.fromkeys(n for n in names if n))


# ---------------------------------------------------------------------------- parsing


def _parse_fee_mode(raw: Any, errors: list[Error]) -> FeeMode | None:
    text = str(raw).strip() if raw is not None else ""
    if not text:
        errors.append(("fee_mode", "请选择付费方式（一次性付费、提成或入门费+提成）"))
        return None
    for mode in FeeMode:
        if text in (mode.value, mode.label):
            return mode
    errors.append(("fee_mode", f"付费方式无效：{text}（可选：一次性付费、提成、入门费+提成）"))
    return None


def _parse_decimal(key: str, raw: Any, errors: list[Error]) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    label = LABELS[key]
    if isinstance(raw, bool):
        errors.append((key, f"{label}须为数字"))
        return None
    text = str(raw).strip().replace(",", "").replace("，", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors.append((key, f"{label}须为数字：{text}"))
        return None
    if not value.is_finite():
        errors.append((key, f"{label}须为数字：{text}"))
        return None
    if value.normalize().as_tuple().exponent < -2:
        errors.append((key, f"{label}最多保留两位小数：{text}"))
        return None
    return value


def _parse_date(key: str, raw: Any, errors: list[Error]) -> date | None:
    if isinstance(raw, date):
        return raw
    text = str(raw).strip() if raw is not None else ""
    if not text:
        errors.append((key, f"请填写{LABELS[key]}"))
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):  # the form is right, the day is not
            errors.append((key, f"{LABELS[key]}不存在：{text}（请核对月份和日期）"))
        else:
            errors.append((key, f"{LABELS[key]}格式应为 YYYY-MM-DD：{text}"))
        return None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:  # 9999-12-31 plus a year answered 500
        errors.append((key, f"{LABELS[key]}须在 {FIRST_YEAR}–{LAST_YEAR} 年之间：{text}"))
        return None
    return day


def _parse_bool(key: str, raw: Any, errors: list[Error]) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw is None:
        return False
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    errors.append((key, f"{LABELS[key]}须为“是”或“否”：{raw}"))
    return False


def _parse_text(key: str, raw: Any, limit: int, errors: list[Error]) -> str | None:
    text = str(raw).strip() if raw is not None else ""
    if len(text) > limit:
        errors.append((key, f"{LABELS[key]}最多 {limit} 字（当前 {len(text)} 字）"))
        return None
    return text or None


def parse_terms(raw: Mapping[str, Any]) -> tuple[Terms, list[Error]]:
    """Parse submitted values (strings from a form, or JSON values); errors for bad formats."""
    errors: list[Error] = []
    values: dict[str, Any] = {"fee_mode": _parse_fee_mode(raw.get("fee_mode"), errors)}
    for key in AMOUNT_KEYS:
        values[key] = _parse_decimal(key, raw.get(key), errors)
    for key in ("start_date", "end_date"):
        values[key] = _parse_date(key, raw.get(key), errors)
    for key in FLAG_KEYS:
        values[key] = _parse_bool(key, raw.get(key), errors)
    values["evaluation_report_no"] = _parse_text(
        "evaluation_report_no", raw.get("evaluation_report_no"), MAX_REPORT_NO_LEN, errors
    )
    values["terms"] = _parse_text("terms", raw.get("terms"), MAX_TERMS_LEN, errors)
    return Terms(**values), errors


# ---------------------------------------------------------------------------- rules


def _check_fee_mode(t: Terms) -> list[Error]:
    """The amounts given fit the chosen fee mode."""
    errors: list[Error] = []
    mode = t.fee_mode
    if mode is None:
        return errors
    rates = [k for k in ("royalty_sales_pct", "royalty_profit_pct") if getattr(t, k) is not None]
    if mode == FeeMode.LUMP_SUM:
        if t.lump_sum_wan is None:
            errors.append(("lump_sum_wan", "一次性付费须填写一次性费用（万元）"))
        if t.entry_fee_wan is not None:
            errors.append(("entry_fee_wan", "一次性付费不另收入门费，请清空入门费"))
        for key in rates:
            errors.append((key, "一次性付费不能同时约定提成，请清空提成比例"))
        return errors
    if t.lump_sum_wan is not None:
        errors.append(("lump_sum_wan", f"「{mode.label}」方式不收一次性费用，请清空一次性费用"))
    if mode == FeeMode.ROYALTY and t.entry_fee_wan is not None:
        errors.append(
            ("entry_fee_wan", "「提成」方式不收入门费；如需收取入门费，请选择「入门费+提成」")
        )
    if mode == FeeMode.ENTRY_PLUS_ROYALTY and t.entry_fee_wan is None:
        errors.append(("entry_fee_wan", "「入门费+提成」方式须填写入门费（万元）"))
    if not rates:
        errors.append(("royalty", f"「{mode.label}」方式须填写净销售额提成比例或利润提成比例"))
    elif len(rates) > 1:
        errors.append(("royalty", "净销售额提成与利润提成只能择一填写，请清空其中一项"))
    return errors


_AMOUNT_NAMES = {
    "lump_sum_wan": "一次性费用",
    "entry_fee_wan": "入门费",
    "royalty_sales_pct": "按净销售额提成",
    "royalty_profit_pct": "按利润提成",
}


def _check_amounts(t: Terms) -> list[Error]:
    """Amounts are ≥ 0 and within the caps."""
    errors: list[Error] = []
    caps = {
        "lump_sum_wan": (MAX_FIXED_FEE_WAN, " 万元"),
        "entry_fee_wan": (MAX_FIXED_FEE_WAN, " 万元"),
        "royalty_sales_pct": (MAX_ROYALTY_SALES_PCT, "%"),
        "royalty_profit_pct": (MAX_ROYALTY_PROFIT_PCT, "%"),
    }
    for key, (cap, unit) in caps.items():
        value, name = getattr(t, key), _AMOUNT_NAMES[key]
        if value is None:
            continue
        if value < 0:
            errors.append((key, f"{name}不能为负数"))
        elif value > cap:
            written = f"{amount(value)}{unit}"
            if len(written) > 24:  # 1e308 printed in full helps nobody
                written = "数值过大"
            errors.append((key, f"{name}一般不超过 {amount(cap)}{unit}（填写：{written}）"))
    return errors


def _check_period(t: Terms) -> list[Error]:
    if t.start_date is None or t.end_date is None:
        return []
    # both days count, as contracts write a term: 2026-12-07 至 2027-12-06 is one year (a
    # tester's was refused as shorter)
    earliest = add_years(t.start_date, MIN_PERIOD_YEARS) - timedelta(days=1)
    if t.end_date < earliest:
        return [
            (
                "end_date",
                f"许可期限不少于 {MIN_PERIOD_YEARS} 年：起始日为 {t.start_date.isoformat()} 时，"
                f"终止日不得早于 {earliest.isoformat()}",
            )
        ]
    return []


def _check_encumbrances(t: Terms, patent: PatentFacts) -> list[Error]:
    """Consents, competing licences, fee status, evaluation report."""
    errors: list[Error] = []
    owners = patentee_names(patent.patentees)
    if len(owners) > 1 and not t.co_owners_consent:
        errors.append(
            (
                "co_owners_consent",
                f"该专利为共有专利（{'、'.join(owners)}），须经全体共有人同意方可声明开放许可",
            )
        )
    if t.exclusive_licence_in_force:
        errors.append(
            (
                "exclusive_licence_in_force",
                "专利存在尚在有效期内的独占或排他许可，不能声明开放许可",
            )
        )
    if t.in_fee_grace_period:
        errors.append(
            ("in_fee_grace_period", "专利处于年费滞纳期，补缴年费及滞纳金后方可声明开放许可")
        )
    if t.pledged and not t.pledgee_consent:
        errors.append(("pledgee_consent", "专利已质押，须取得质权人同意方可声明开放许可"))
    if patent.patent_type in NEEDS_EVALUATION_REPORT and not t.evaluation_report_no:
        errors.append(
            (
                "evaluation_report_no",
                f"{patent.patent_type.label}专利声明开放许可须提供专利权评价报告编号",
            )
        )
    return errors


def check_patent(patent: PatentFacts) -> list[Error]:
    """Rules about the patent itself (what the form warns about before anything is typed)."""
    errors: list[Error] = []
    if patent.status != EntryStatus.ENTERED:
        errors.append(
            (
                "patent",
                f"只有已入库的专利可以声明开放许可（当前入库状态：{patent.status.label}）",
            )
        )
    legal = (patent.legal_status or "").strip()
    if legal and any(word in legal for word in NOT_VALID_LEGAL_STATUS):
        errors.append(("patent", f"专利法律状态为「{legal}」，只有有效专利可以声明开放许可"))
    if patent.rights_gone:
        errors.append(
            (
                "patent",
                f"该专利{patent.rights_gone}，专利权已不属于本单位，不能声明开放许可",
            )
        )
    if patent.has_active_declaration:
        errors.append(("patent", "该专利已有生效的开放许可声明，如需变更请先撤回原声明"))
    if patent.exclusive_licence:
        errors.append(
            (
                "exclusive_licence_in_force",
                f"该专利已于{patent.exclusive_licence}，期间不能声明开放许可",
            )
        )
    return errors


def check(terms: Terms, patent: PatentFacts) -> list[Error]:
    """Every rule violated by ``terms`` on ``patent`` (empty list: the declaration is valid)."""
    return [
        *check_patent(patent),
        *_check_fee_mode(terms),
        *_check_amounts(terms),
        *_check_period(terms),
        *_check_encumbrances(terms, patent),
    ]


def validate(raw: Mapping[str, Any], patent: PatentFacts) -> tuple[Terms, list[Error]]:
    """Parse and check; a field that failed to parse gets no second, derived message."""
    terms, errors = parse_terms(raw)
    unparsable = {key for key, _ in errors}
    if unparsable & {"royalty_sales_pct", "royalty_profit_pct"}:
        unparsable.add("royalty")  # "fill in one rate" would only repeat the format error
    errors += [e for e in check(terms, patent) if e[0] not in unparsable]
    return terms, errors
