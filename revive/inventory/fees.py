"""Maintenance cost of a granted patent: its next annual fee (年费), when it is due, and what
the institution's fee reduction (费减) takes off. Keeping idle patents costs universities real
money; the decision to keep or let one lapse (建议放弃) needs this figure.

The fee table is data, not code: ``resources/annual_fees.json`` (the CNIPA 专利收费标准 年费
rows, with its source and the date it was checked), or the file REVIVE_ANNUAL_FEE_TABLE names
when the standard changes. The reduction rules come from the same file (财税〔2016〕78号:
85% for a patent owned by one person or unit, 70% for joint owners, on the annual fees of the
first 10 years from grant); how much an institution claims is its own setting
(``FeeSetting``: 0, 70 or 85; REVIVE_FEE_REDUCTION_DEFAULT until a school admin sets it).

The next fee of a patent, on a given day:

- only a granted patent in force pays annual fees (授权日 set; 法律状态 empty or 有效);
- patent year n runs from the (n−1)th anniversary of 申请日 to the day before the nth; the fee
  for year n+1 is due by the nth anniversary (the fee of the grant year was paid with the
  registration), so the next fee is that of the year after the current one, due on the next
  anniversary — one fee per patent in any twelve months, which makes the sum over patents a
  yearly cost;
- none after the last year of the term (20 years invention, 10 utility model, 15 design — 10
  for a design filed before 2021-06-01).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context

from revive import clock
from revive.accounts.models import College
from revive.extensions import db
from revive.inventory.models import (
    EntryStatus,
    FeeSetting,
    ImplementationStatus,
    Patent,
    PatentType,
)

DEFAULT_TABLE = Path(__file__).parent / "resources" / "annual_fees.json"
# 法律状态 values under which a granted patent is in force (the field is free text).
IN_FORCE = frozenset({"", "有效", "授权", "专利权维持", "维持"})
_PATENTEE_SPLIT = ("；", ";", "、", ",", "，")


class FeeTableError(ValueError):
    """The fee table file is missing or malformed (a configuration error, said in Chinese)."""


@dataclass(frozen=True)
class TypeFees:
    label: str
    term_years: int
    fees: tuple[tuple[int, int, int], ...]  # (first year, last year, yuan per year)
    shorter_term: tuple[date, int] | None = None  # filed before this date: this many years

    def term(self, filing: date) -> int:
        if self.shorter_term is not None and filing < self.shorter_term[0]:
            return self.shorter_term[1]
        return self.term_years

    def terms(self) -> list[tuple[date | None, date | None, int]]:
        """(filed from, filed before, years) for every filing date (None: open end): what
        ``term`` says, as ranges a query can use."""
        if self.shorter_term is None:
            return [(None, None, self.term_years)]
        cut, years = self.shorter_term
        return [(None, cut, years), (cut, None, self.term_years)]

    def fee(self, year: int) -> int | None:
        for first, last, yuan in self.fees:
            if first <= year <= last:
                return yuan
        return None


@dataclass(frozen=True)
class FeeTable:
    types: dict[PatentType, TypeFees]
    single_pct: int
    joint_pct: int
    years_from_grant: int
    choices: tuple[int, ...]
    source: str
    reduction_source: str
    checked: str
    path: str

    def rows(self) -> list[tuple[str, str, int]]:
        """(type, years, yuan) for the page that shows the table."""
        return [
            (fees.label, f"第 {a} 年" if a == b else f"第 {a}–{b} 年", yuan)
            for fees in self.types.values()
            for a, b, yuan in fees.fees
        ]


def _load(path: Path) -> FeeTable:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        types = {}
        for key, spec in data["types"].items():
            shorter = spec.get("term_years_if_filed_before")
            types[PatentType(key)] = TypeFees(
                label=spec["label"],
                term_years=int(spec["term_years"]),
                fees=tuple((int(a), int(b), int(y)) for a, b, y in spec["fees"]),
                shorter_term=(
                    (date.fromisoformat(shorter["date"]), int(shorter["years"]))
                    if shorter
                    else None
                ),
            )
        reduction = data["reduction"]
        table = FeeTable(
            types=types,
            single_pct=int(reduction["single_pct"]),
            joint_pct=int(reduction["joint_pct"]),
            years_from_grant=int(reduction["years_from_grant"]),
            choices=tuple(int(c) for c in reduction["choices"]),
            source=str(data["source"]),
            reduction_source=str(reduction["source"]),
            checked=str(data["checked"]),
            path=str(path),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FeeTableError(f"年费标准文件无法读取：{path}（{exc}）") from None
    missing = set(PatentType) - set(types)
    if missing:
        raise FeeTableError(f"年费标准文件缺少专利类型：{', '.join(sorted(missing))}（{path}）")
    return table


@lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> FeeTable:
    return _load(Path(path))


def load_table(path: str | Path | None = None) -> FeeTable:
    """The fee table: ``path``, else REVIVE_ANNUAL_FEE_TABLE, else the packaged file (re-read
    when the file changes)."""
    if path is None:
        configured = (
            current_app.config.get("REVIVE_ANNUAL_FEE_TABLE") if has_app_context() else None
        )
        path = configured or DEFAULT_TABLE
    path = Path(path)
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise FeeTableError(f"年费标准文件不存在：{path}（{exc.strerror}）") from None
    return _cached(str(path), mtime)


# ---------------------------------------------------------------------------- the computation


def add_years(start: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February → 28 February in a common year."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def patent_year(filing: date, on: date) -> int:
    """The patent year ``on`` falls in: 1 from 申请日 to the day before its first anniversary."""
    years = on.year - filing.year
    if add_years(filing, years) > on:
        years -= 1
    return years + 1


def in_force(legal_status: str | None) -> bool:
    return (legal_status or "").strip() in IN_FORCE


def joint_owners(patentees: str | None) -> bool:
    text = patentees or ""
    for sep in _PATENTEE_SPLIT:
        text = text.replace(sep, "；")
    return len([n for n in text.split("；") if n.strip()]) > 1


@dataclass(frozen=True)
class NextFee:
    year: int  # the patent year the fee is for
    due: date  # pay by this day (the anniversary of 申请日 that starts that year)
    full: int  # yuan, the table's fee
    reduction_pct: int  # 0, 70 or 85
    amount: Decimal  # yuan payable after the reduction

    @property
    def label(self) -> str:
        cut = f"，费减 {self.reduction_pct}%" if self.reduction_pct else ""
        return f"第 {self.year} 年年费 {self.amount:,.0f} 元（标准 {self.full:,} 元{cut}）"


def next_fee(
    *,
    patent_type: PatentType,
    filing_date: date | None,
    grant_date: date | None,
    legal_status: str | None,
    patentees: str | None,
    reduction_pct: int,
    today: date,
    table: FeeTable,
) -> NextFee | None:
    """The next annual fee of one patent on ``today`` (None: not granted, not in force, or in
    the last year of its term)."""
    if filing_date is None or grant_date is None or not in_force(legal_status):
        return None
    fees = table.types[patent_type]
    current = patent_year(filing_date, today)
    year = current + 1
    if year > fees.term(filing_date):
        return None
    full = fees.fee(year)
    if full is None:
        return None
    pct = 0
    if reduction_pct and year < patent_year(filing_date, grant_date) + table.years_from_grant:
        pct = min(reduction_pct, table.joint_pct) if joint_owners(patentees) else reduction_pct
    amount = (Decimal(full) * (100 - pct) / 100).quantize(Decimal("0.01"))
    return NextFee(year, add_years(filing_date, current), full, pct, amount)


# ---------------------------------------------------------------------------- the term


def term_end(
    patent_type: PatentType | None, filing_date: date | None, table: FeeTable | None = None
) -> date | None:
    """The day the patent's term is over (届满): the anniversary of 申请日 after its last year
    (20 years invention, 10 utility model, 15 design — 10 filed before 2021-06-01). None
    without a 申请日."""
    if filing_date is None or patent_type is None:
        return None
    fees = (table or load_table()).types.get(patent_type)
    return None if fees is None else add_years(filing_date, fees.term(filing_date))


def expired_on(patent: Any, today: date | None = None) -> date | None:
    """The day the patent's term ended, when it has ended by ``today`` (Beijing); else None.
    A user found a utility model filed in 2014 shown as 有效, matched 强, pushed and licensed:
    法律状态 is what the university typed, the term is arithmetic."""
    end = term_end(patent.patent_type, patent.filing_date)
    return end if end is not None and end <= (today or china_today()) else None


def in_term_clause(today: date | None = None, table: FeeTable | None = None) -> Any:
    """SQL: the patent's term has not ended on ``today`` (``expired_on`` is None); a patent
    without 申请日 counts as in term."""
    today = today or china_today()
    table = table or load_table()
    parts: list[Any] = [Patent.filing_date.is_(None)]
    for ptype, fees in table.types.items():
        for start, cut, years in fees.terms():
            clause = [Patent.patent_type == ptype, Patent.filing_date > add_years(today, -years)]
            if start is not None:
                clause.append(Patent.filing_date >= start)
            if cut is not None:
                clause.append(Patent.filing_date < cut)
            parts.append(sa.and_(*clause))
    return sa.or_(*parts)


def next_fee_of(patent: Any, reduction_pct: int, today: date, table: FeeTable) -> NextFee | None:
    """``next_fee`` for a Patent (or a row with the same attributes)."""
    return next_fee(
        patent_type=patent.patent_type,
        filing_date=patent.filing_date,
        grant_date=patent.grant_date,
        legal_status=patent.legal_status,
        patentees=patent.patentees,
        reduction_pct=reduction_pct,
        today=today,
        table=table,
    )


# ---------------------------------------------------------------------------- the setting


@dataclass(frozen=True)
class Reduction:
    pct: int
    is_default: bool  # no setting stored: the configured default applies


def reduction_for(institution_id: int) -> Reduction:
    pct = db.session.scalar(
        sa.select(FeeSetting.reduction_pct).where(FeeSetting.institution_id == institution_id)
    )
    if pct is None:
        return Reduction(int(current_app.config.get("REVIVE_FEE_REDUCTION_DEFAULT", 85)), True)
    return Reduction(int(pct), False)


def reductions() -> tuple[dict[int, int], int]:
    """Every stored setting (institution id → %) and the default for the others."""
    rows = db.session.execute(sa.select(FeeSetting.institution_id, FeeSetting.reduction_pct))
    stored = {institution_id: pct for institution_id, pct in rows}
    return stored, int(current_app.config.get("REVIVE_FEE_REDUCTION_DEFAULT", 85))


def china_today() -> date:
    """Today in local (Beijing) time, as revive.clock counts it."""
    return clock.local_today()


def fee_lookup(today: date | None = None) -> Callable[[Any], NextFee | None]:
    """next_fee for many rows of any institution (the list page): the table and every
    institution's setting are read once."""
    today = today or china_today()
    table = load_table()
    stored, default = reductions()

    def fee_of(row: Any) -> NextFee | None:
        return next_fee_of(row, stored.get(row.institution_id, default), today, table)

    return fee_of


@dataclass(frozen=True)
class PatentFee:
    """What the detail page says about a patent's maintenance cost."""

    next: NextFee | None
    reason: str  # why there is no next fee (empty when there is one)
    reduction: Reduction


def patent_fee(patent: Any, today: date | None = None) -> PatentFee:
    today = today or china_today()
    reduction = reduction_for(patent.institution_id)
    table = load_table()
    fee = next_fee_of(patent, reduction.pct, today, table)
    reason = ""
    if fee is None:
        if patent.grant_date is None or patent.filing_date is None:
            reason = "尚未授权（或未填写申请日/授权日）：授权后才缴纳年费"
        elif "审中" in (patent.legal_status or ""):
            # an application under examination pays no annual fee yet (a tester read 「不再」)
            reason = f"法律状态为「{patent.legal_status}」：授权后才缴纳年费"
        elif not in_force(patent.legal_status):
            reason = f"法律状态为「{patent.legal_status}」：不再缴纳年费"
        elif (ended := expired_on(patent, today)) is not None:
            reason = f"保护期已于 {ended.isoformat()} 届满，不再缴纳年费"
        else:
            reason = "已进入保护期的最后一年，不再缴纳年费"
    return PatentFee(fee, reason, reduction)


# ---------------------------------------------------------------------------- idle inventory


@dataclass
class CostLine:
    """One college's (or the whole scope's) idle patents and their next-year fees."""

    name: str
    idle: int = 0
    idle_cost: Decimal = Decimal(0)
    abandon: int = 0
    abandon_cost: Decimal = Decimal(0)

    def add(self, amount: Decimal, abandon: bool) -> None:
        self.idle += 1
        self.idle_cost += amount
        if abandon:
            self.abandon += 1
            self.abandon_cost += amount


@dataclass
class IdleCost:
    """The yearly cost of keeping an inventory's idle patents, and what 建议放弃 saves.

    Idle: granted (授权日 set), in force (法律状态 empty or 有效), not implemented (实施状态
    未实施 or not filled in) — nobody uses it, yet its annual fee falls due. Each such patent
    has exactly one fee due in the next twelve months (``next_fee``), so the sum is the yearly
    cost; ``abandon`` counts the idle patents with the decision 建议放弃, whose fee is saved
    when they are let lapse."""

    total: CostLine
    colleges: list[CostLine]
    reduction_note: str


NO_COLLEGE = "未指定学院"


def idle_cost(scope: sa.ColumnElement[bool], today: date | None = None) -> IdleCost:
    """``IdleCost`` of the patents ``scope`` (a WHERE clause on Patent) selects."""
    today = today or china_today()
    table = load_table()
    stored, default = reductions()
    rows = db.session.execute(
        sa.select(
            Patent.patent_type,
            Patent.filing_date,
            Patent.grant_date,
            Patent.legal_status,
            Patent.patentees,
            Patent.institution_id,
            Patent.status,
            College.name.label("college_name"),
        )
        .outerjoin(College, College.id == Patent.college_id)
        .where(
            scope,
            Patent.grant_date.is_not(None),
            sa.or_(
                Patent.implementation_status.is_(None),
                Patent.implementation_status == ImplementationStatus.NOT_IMPLEMENTED,
            ),
        )
        .execution_options(yield_per=2000)
    )
    total = CostLine("合计")
    by_college: dict[str, CostLine] = {}
    pcts: set[int] = set()
    for row in rows:
        pct = stored.get(row.institution_id, default)
        fee = next_fee_of(row, pct, today, table)
        if fee is None:
            continue
        pcts.add(pct)
        abandon = row.status == EntryStatus.ABANDON
        total.add(fee.amount, abandon)
        name = row.college_name or NO_COLLEGE
        by_college.setdefault(name, CostLine(name)).add(fee.amount, abandon)
    colleges = sorted(by_college.values(), key=lambda c: (-c.idle_cost, c.name))
    if not pcts:
        note = ""
    elif pcts == {0}:
        note = "未计费减"
    else:
        shown = "、".join(f"{p}%" for p in sorted(pcts, reverse=True) if p)
        note = (
            f"已按费减 {shown} 计（共有专利按 {table.joint_pct}%，"
            f"限授权起 {table.years_from_grant} 年内的年费）"
        )
    return IdleCost(total, colleges, note)
