"""Dashboard figures about deals, contracts, demands and officers (read-only, GROUP BY in SQL).

Definitions (shown on the pages next to the figures):

- **Contracts** are counted per contract (one patent may have several), by the month of
  ``signed_on``; amounts are 万元 (``Contract.amount_wan``), summed in SQL.
- **Overdue response**: a deal still open (已推荐 / 已接洽 / 洽谈中) whose university has not
  answered (``responded_at`` is empty) and whose ``response_due_at`` has passed. Its
  denominator is every open deal awaiting the university's answer.
- **Unmet need**: an open demand with no accepted match and no candidate officers review
  (``revive.matching.queries.unmet_clause``, the rule of the enterprise's 暂无合适专利): it
  never got a match, every match it got was rejected, or it has only weak candidates (below
  the bar). Denominator: open demands.
- **Officer workload** (per officer): match decisions in the last 30 days (accepted /
  rejected), open deals they pushed, overdue university responses on those deals, and
  contracts on their deals. Undecided candidates are not assigned to anyone, so the queue is
  one platform figure (candidates on open demands), not a per-officer column.

Indexes these queries rely on (PostgreSQL, ~1M patents): contracts.signed_on, contracts.deal_id
(unique); deals (university_id, responded_at), deals.stage, deals.enterprise_id,
deals.demand_id; matches (demand_id, state, score); demands (status, …), demands
(enterprise_id, status). Not yet present and worth adding when the tables grow: deals
(officer_id, stage), deals (response_due_at) WHERE responded_at IS NULL (partial), matches
(decided_by_id, decided_at).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from revive.accounts.models import College, Organization, OrgKind, Role, User
from revive.clock import local_day_start, local_today
from revive.common.industry import section_expr
from revive.dashboard import industry
from revive.dashboard.funnel import NO_COLLEGE_LABEL
from revive.db import as_utc, elapsed, utcnow
from revive.deals.models import Contract, ContractKind, Deal, Stage, UniversityResponse
from revive.deals.queries import awaiting_clause, overdue_clause  # the deals' own rule
from revive.deals.workflow import OPEN_STAGES
from revive.demands.models import Demand, DemandStatus
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent, StatusChange
from revive.licensing.models import ApplicationStatus, LicenceApplication
from revive.matching.models import Match, MatchState
from revive.matching.queries import WEAK, suggestion_counts
from revive.matching.queries import unmet_clause as _matching_unmet_clause
from revive.pagination import Page, paginate

WORKLOAD_DAYS = 30
ZERO = Decimal("0.00")
ALL_UNITS = "合计"


def money(value: Any) -> Decimal:
    """A sum of 万元 as shown and exported: two decimals, 0.00 for nothing (not 0)."""
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _rows_page(stmt: sa.Select, count_stmt: sa.Select, page: int | None, per_page: int) -> Page:
    """One page of ``stmt``'s rows (counted with ``count_stmt``, page clamped); page=None:
    every row, for exports (no count needed)."""
    if page is None:
        rows = db.session.execute(stmt).all()
        return Page(rows, len(rows), 1, 0)
    return paginate(stmt, count_stmt, page, per_page, scalars=False)


# ---------------------------------------------------------------------------- contracts


@dataclass(frozen=True)
class MonthFigure:
    month: str  # "2024-03"
    count: int
    amount: Decimal


@dataclass(frozen=True)
class KindFigure:
    key: str
    label: str
    count: int
    amount: Decimal


@dataclass
class ContractFigures:
    months: list[MonthFigure] = field(default_factory=list)
    kinds: list[KindFigure] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(k.count for k in self.kinds)

    @property
    def amount(self) -> Decimal:
        return sum((k.amount for k in self.kinds), ZERO)

    def count_of(self, kind: ContractKind) -> int:
        return next((k.count for k in self.kinds if k.key == kind.value), 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "amount_wan": str(self.amount),
            "by_month": [
                {"month": m.month, "count": m.count, "amount_wan": str(m.amount)}
                for m in self.months
            ],
            "by_kind": [
                {"key": k.key, "label": k.label, "count": k.count, "amount_wan": str(k.amount)}
                for k in self.kinds
            ],
        }


def _month_range(first: tuple[int, int], last: tuple[int, int]) -> Iterator[tuple[int, int]]:
    y, m = first
    while (y, m) <= last:
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def contract_figures(
    deal_scope: sa.ColumnElement[bool], today: date | None = None
) -> ContractFigures:
    """Contracts per month (every month from the first contract to this month, zeros
    included) and per kind (every kind, zeros included). Two statements."""
    year = sa.extract("year", Contract.signed_on)
    month = sa.extract("month", Contract.signed_on)
    base = (
        sa.select().select_from(Contract).join(Deal, Deal.id == Contract.deal_id).where(deal_scope)
    )
    per_month = {
        (int(y), int(m)): (int(n), money(total))
        for y, m, n, total in db.session.execute(
            base.add_columns(
                year, month, sa.func.count(Contract.id), sa.func.sum(Contract.amount_wan)
            ).group_by(year, month)
        )
    }
    per_kind = {
        kind: (int(n), money(total))
        for kind, n, total in db.session.execute(
            base.add_columns(
                Contract.kind, sa.func.count(Contract.id), sa.func.sum(Contract.amount_wan)
            ).group_by(Contract.kind)
        )
    }
    figures = ContractFigures(
        kinds=[KindFigure(k.value, k.label, *per_kind.get(k, (0, ZERO))) for k in ContractKind]
    )
    if per_month:
        today = today or local_today()
        last = max(max(per_month), (today.year, today.month))
        figures.months = [
            MonthFigure(f"{y:04d}-{m:02d}", *per_month.get((y, m), (0, ZERO)))
            for y, m in _month_range(min(per_month), last)
        ]
    return figures


def open_licences_in_both(deal_scope: sa.ColumnElement[bool]) -> int:
    """Open licences recorded twice: signed open-licence applications (licensing, the
    enterprise applied under a declaration) whose enterprise also has a 开放许可 contract on
    the same patent registered on a deal of ``deal_scope``. The two records are separate (an
    application creates no deal contract, nor the reverse), so the two 已签订 figures of the
    contracts page add up to the open licences signed only after taking these off. One
    statement."""
    both = (
        sa.select(Deal.id)
        .join(Contract, Contract.deal_id == Deal.id)
        .where(
            deal_scope,
            Contract.kind == ContractKind.OPEN_LICENSE,
            Deal.patent_id == LicenceApplication.patent_id,
            Deal.enterprise_id == LicenceApplication.enterprise_id,
        )
    )
    return int(
        db.session.scalar(
            sa.select(sa.func.count(LicenceApplication.id)).where(
                LicenceApplication.status == ApplicationStatus.SIGNED, both.exists()
            )
        )
        or 0
    )


# ---------------------------------------------------------------------------- month by month

MONTHS_SHOWN = 12


@dataclass(frozen=True)
class MonthProgress:
    """One calendar month (local time) of the programme's progress in a scope."""

    month: str  # "2025-03"
    entered: int = 0  # patents entered into the pool (学校审核通过), from the status log
    abandoned: int = 0  # patents the university marked 建议放弃
    demands: int | None = None  # demands posted; None where demands are not counted (a unit's view)
    pushed: int = 0  # deals pushed to the universities
    answered: int = 0  # university answers given
    contracts: int = 0  # contracts signed (registered on deals, by signing date)
    amount: Decimal = ZERO  # their amount, 万元


@dataclass(frozen=True)
class MonthlyProgress:
    months: list[MonthProgress]  # oldest first, the current month last (up to today)
    total: MonthProgress  # the months added up
    first_day: date
    today: date

    @property
    def with_demands(self) -> bool:
        return self.total.demands is not None


def month_starts(today: date, n: int = MONTHS_SHOWN) -> list[date]:
    """The first days of the ``n`` months ending with today's, then of the month after: the
    n + 1 boundaries of the months."""
    first = today.year * 12 + today.month - 1 - (n - 1)  # months since year 0, 0-based
    return [date(i // 12, i % 12 + 1, 1) for i in range(first, first + n + 1)]


def _month_of(column: Any, bounds: list[Any]) -> Any:
    """Which month ``column`` falls in (0: the oldest), for values inside the bounds."""
    return sa.case(*((column < b, i) for i, b in enumerate(bounds[1:]))).label("m")


def _in_months(column: Any, bounds: list[Any]) -> sa.ColumnElement[bool]:
    return sa.and_(column >= bounds[0], column < bounds[-1])


def _per_month(inner: sa.Select, *aggregates: Callable[[Any], Any]) -> dict[int, list[Any]]:
    """``aggregates`` (functions of the inner columns) grouped by the inner select's month
    ``m``. Grouped outside a subquery, not by the CASE itself: PostgreSQL binds each copy of
    the CASE's parameters apart and would not see the GROUP BY as the selected expression."""
    sub = inner.subquery("months")
    stmt = sa.select(sub.c.m, *(a(sub.c) for a in aggregates)).group_by(sub.c.m)
    return {int(m): list(rest) for m, *rest in db.session.execute(stmt)}


def _patents_moved_to(status: EntryStatus) -> Callable[[Any], Any]:
    """Distinct patents of the inner status changes that moved to ``status``."""
    return lambda c: sa.func.count(sa.distinct(sa.case((c.to_status == status, c.patent_id))))


def monthly_progress(
    patent_scope: sa.ColumnElement[bool],
    deal_scope: sa.ColumnElement[bool],
    with_demands: bool,
    today: date | None = None,
    n: int = MONTHS_SHOWN,
) -> MonthlyProgress:
    """Per month of the last ``n`` (local calendar months, the current one up to today):
    patents entered and marked 建议放弃 (status changes on patents of ``patent_scope``;
    a patent counts once a month, again in a later month if it is entered again after
    撤回重审), demands posted (only ``with_demands``: demands belong to no university),
    deals pushed and answered and contracts signed with their amount (deals of
    ``deal_scope``). Five statements (four without demands), whatever the data.

    Indexed: patent_status_changes (to_status, created_at), deals (pushed_at), (responded_at)."""
    today = today or local_today()
    days = month_starts(today, n)
    moments = [local_day_start(d) for d in days]
    status = _per_month(
        sa.select(_month_of(StatusChange.created_at, moments), StatusChange.patent_id)
        .add_columns(StatusChange.to_status)
        .join(Patent, Patent.id == StatusChange.patent_id)
        .where(
            _in_months(StatusChange.created_at, moments),
            StatusChange.to_status.in_((EntryStatus.ENTERED, EntryStatus.ABANDON)),
            patent_scope,
        ),
        _patents_moved_to(EntryStatus.ENTERED),
        _patents_moved_to(EntryStatus.ABANDON),
    )
    demands: dict[int, list[Any]] = {}
    if with_demands:
        demands = _per_month(
            sa.select(_month_of(Demand.created_at, moments), Demand.id).where(
                _in_months(Demand.created_at, moments)
            ),
            lambda c: sa.func.count(c.id),
        )
    pushed, answered = (
        _per_month(
            sa.select(_month_of(column, moments), Deal.id).where(
                _in_months(column, moments), deal_scope
            ),
            lambda c: sa.func.count(c.id),
        )
        for column in (Deal.pushed_at, Deal.responded_at)
    )
    contracts = _per_month(
        sa.select(_month_of(Contract.signed_on, days), Contract.id, Contract.amount_wan)
        .join(Deal, Deal.id == Contract.deal_id)
        .where(_in_months(Contract.signed_on, days), deal_scope),
        lambda c: sa.func.count(c.id),
        lambda c: sa.func.sum(c.amount_wan),
    )
    months = [
        MonthProgress(
            f"{d:%Y-%m}",
            *(int(v) for v in status.get(i, [0, 0])),
            demands=int(demands.get(i, [0])[0]) if with_demands else None,
            pushed=int(pushed.get(i, [0])[0]),
            answered=int(answered.get(i, [0])[0]),
            contracts=int(contracts.get(i, [0, 0])[0]),
            amount=money(contracts.get(i, [0, 0])[1]),
        )
        for i, d in enumerate(days[:-1])
    ]
    total = MonthProgress(
        "合计",
        sum(m.entered for m in months),
        sum(m.abandoned for m in months),
        sum(m.demands or 0 for m in months) if with_demands else None,
        sum(m.pushed for m in months),
        sum(m.answered for m in months),
        sum(m.contracts for m in months),
        sum((m.amount for m in months), ZERO),
    )
    return MonthlyProgress(months, total, days[0], today)


# ---------------------------------------------------------------------------- overdue responses


@dataclass(frozen=True)
class OverdueDeal:
    id: int
    patent_id: int
    patent_title: str
    university: str
    college: str | None
    enterprise: str
    demand_id: int
    demand_title: str
    officer: str | None
    stage: Stage
    pushed_at: datetime
    due_at: datetime
    days_overdue: int  # whole days past the due time (0: less than a day)


@dataclass(frozen=True)
class UnitResponses:
    """How one university (or college) answered the deals pushed to it: what is still awaited
    (and overdue), what was answered on time or late and how fast, and what ended unanswered."""

    id: int | None  # None: the patents without a college
    name: str
    pushed: int = 0  # every deal pushed to it
    awaiting: int = 0  # open, not answered
    overdue: int = 0  # of them past the due time
    answered: int = 0  # responded_at is set
    on_time: int = 0  # of them answered by the due time, and before any lapsed one (lapsed_at)
    ended_unanswered: int = 0  # 未成交 after the deadline passed without an answer
    median_days: Decimal | None = None  # pushed → answered, days (one decimal); None: none

    @property
    def late(self) -> int:
        """Answered after the due time."""
        return self.answered - self.on_time


@dataclass(frozen=True)
class OverdueFigures:
    units: list[UnitResponses]  # every university (or college) of the scope, zeros included
    total: UnitResponses  # the whole scope (its median over every answer, not of medians)
    unit: str  # "高校" | "学院"

    @property
    def awaiting(self) -> int:
        """Open deals the university has not answered (the overdue rate's denominator)."""
        return self.total.awaiting

    @property
    def overdue(self) -> int:
        return self.total.overdue

    @property
    def by_unit(self) -> list[tuple[str, int]]:
        """(name, overdue) of the units with overdue deals, largest first (the chart)."""
        rows = [(u.name, u.overdue) for u in self.units if u.overdue]
        return sorted(rows, key=lambda r: (-r[1], r[0]))


def overdue_counts(
    deal_scope: sa.ColumnElement[bool], now: datetime | None = None
) -> tuple[int, int]:
    """(awaiting, overdue): open deals the university has not answered, and how many of them
    are past their due time. One statement."""
    now = now or utcnow()
    awaiting, overdue = db.session.execute(
        sa.select(
            sa.func.count(Deal.id),
            sa.func.count(sa.case((Deal.response_due_at < now, Deal.id))),
        ).where(deal_scope, awaiting_clause())
    ).one()
    return int(awaiting), int(overdue)


def _median_days(durations: list[float]) -> Decimal | None:
    return Decimal(statistics.median(durations)).quantize(Decimal("0.1")) if durations else None


def _days(pushed_at: datetime, responded_at: datetime) -> float:
    """Pushed → answered in days (an answer stamped before the push counts as 0)."""
    return max(0.0, (as_utc(responded_at) - as_utc(pushed_at)).total_seconds()) / 86400


def _median_rows(answered: sa.Select, unit: Any | None) -> Iterator[tuple[Any, datetime, datetime]]:
    """The answered deals of ``answered`` (a select of the unit, FROM and WHERE) that a median
    of their times to answer needs: the middle one, or the middle two, of each ``unit`` (None:
    of them all), ranked in SQL by the exact time between push and answer (db.elapsed; ties
    by id). At most two rows per unit reach Python, however many deals were answered; their
    times are then taken exactly as before (``_days``), so the median is the same number
    ``statistics.median`` gives over all of them: the mean of the two middle values of the
    sorted times, or the middle one (``_days`` orders as ``elapsed`` does)."""
    over: dict[str, Any] = {"partition_by": unit} if unit is not None else {}
    ranked = answered.add_columns(
        Deal.pushed_at.label("pushed_at"),
        Deal.responded_at.label("responded_at"),
        sa.func.row_number()
        .over(order_by=(elapsed(Deal.responded_at, Deal.pushed_at), Deal.id), **over)
        .label("position"),
        sa.func.count().over(**over).label("answered"),
    ).subquery()
    c = ranked.c
    # the 1-based middle positions p of n: 2p = n + 1 when n is odd; 2p = n or n + 2 when even
    middle = (c.position * 2).between(c.answered, c.answered + 2)
    stmt = sa.select(ranked.c[0], c.pushed_at, c.responded_at).where(middle)
    yield from db.session.execute(stmt)


def _medians(rows: Iterable[tuple[Any, datetime, datetime]]) -> dict[Any, Decimal | None]:
    middles: dict[Any, list[float]] = {}
    for unit_id, pushed_at, responded_at in rows:
        middles.setdefault(unit_id, []).append(_days(pushed_at, responded_at))
    return {unit_id: _median_days(days) for unit_id, days in middles.items()}


def _response_units(
    by_college: bool, found: set[int | None], university_id: int | None, college_id: int | None
) -> list[tuple[int | None, str]]:
    """The units a response table lists: every university (regional), or every college of
    ``university_id`` (only ``college_id`` when given), plus any unit that has deals
    (``found``) and 未分学院 when deals sit on patents without a college."""
    ids = [i for i in found if i is not None]
    if by_college:
        listed: sa.ColumnElement[bool] = sa.false()
        if college_id is not None:
            listed = College.id == college_id
        elif university_id is not None:
            listed = College.institution_id == university_id
        stmt = sa.select(College.id, College.name).where(sa.or_(listed, College.id.in_(ids)))
    else:
        stmt = sa.select(Organization.id, Organization.name).where(
            sa.or_(Organization.kind == OrgKind.UNIVERSITY, Organization.id.in_(ids))
        )
    units: list[tuple[int | None, str]] = [(i, n) for i, n in db.session.execute(stmt)]
    if None in found:
        units.append((None, NO_COLLEGE_LABEL))
    return units


def overdue_figures(
    deal_scope: sa.ColumnElement[bool],
    by_college: bool,
    now: datetime | None = None,
    *,
    university_id: int | None = None,
    college_id: int | None = None,
) -> OverdueFigures:
    """Per university (regional) or per college (a university's own view): deals awaiting an
    answer and overdue, answered on time or late, the median time to answer, and deals that
    ended (未成交) unanswered. Every university — or every college of ``university_id`` (just
    ``college_id`` for a college admin) — is listed, zeros included, so "nothing overdue" shows.

    Four statements: counts grouped by unit, the middle answered deal(s) of each unit and of
    the whole scope (ranked in SQL by their time to answer: SQLite has no percentile; at most
    two rows per unit, whatever the number of answered deals), and the unit names."""
    now = now or utcnow()
    unit_col = Patent.college_id if by_college else Deal.university_id
    answered = Deal.responded_at.is_not(None)

    def counted(*when: sa.ColumnElement[bool]) -> Any:
        return sa.func.count(sa.case((sa.and_(*when), Deal.id)))

    base = sa.select(unit_col).select_from(Deal)
    if by_college:
        base = base.join(Patent, Patent.id == Deal.patent_id)
    base = base.where(deal_scope)
    counts = {
        unit_id: [int(n) for n in rest]
        for unit_id, *rest in db.session.execute(
            base.add_columns(
                sa.func.count(Deal.id),
                counted(awaiting_clause()),
                counted(overdue_clause(now)),
                counted(answered),
                # on time: by the deadline, and before any deadline that lapsed and was
                # extended (deals.lapsed_at)
                counted(
                    answered,
                    Deal.responded_at <= Deal.response_due_at,
                    sa.or_(Deal.lapsed_at.is_(None), Deal.responded_at <= Deal.lapsed_at),
                ),
                # ended unanswered after the deadline passed: a deal its enterprise closed (or
                # the patent's sale ended) an hour after the push is not the university's
                # silence (a code review)
                counted(
                    Deal.responded_at.is_(None),
                    Deal.stage == Stage.FAILED,
                    Deal.stage_changed_at > Deal.response_due_at,
                ),
            ).group_by(unit_col)
        )
    }
    medians = _medians(_median_rows(base.where(answered), unit_col))
    overall = _medians((None, p, r) for _, p, r in _median_rows(base.where(answered), None))

    units = [
        UnitResponses(
            unit_id,
            name,
            *counts.get(unit_id, [0] * 6),
            median_days=medians.get(unit_id),
        )
        for unit_id, name in _response_units(by_college, set(counts), university_id, college_id)
    ]
    units.sort(key=lambda u: (-u.overdue, u.pushed == 0, u.id is None, u.name))
    sums = [sum(row[i] for row in counts.values()) for i in range(6)]
    total = UnitResponses(None, ALL_UNITS, *sums, median_days=overall.get(None))
    return OverdueFigures(units, total, "学院" if by_college else "高校")


def _with_parties(stmt: sa.Select, uni: Any, ent: Any) -> sa.Select:
    """A select over deals joined to their patent, university (``uni``), enterprise (``ent``)
    and officer (outer): what the deal lists name."""
    return (
        stmt.join(Patent, Patent.id == Deal.patent_id)
        .join(uni, uni.id == Deal.university_id)
        .join(ent, ent.id == Deal.enterprise_id)
        .outerjoin(User, User.id == Deal.officer_id)
    )


@dataclass(frozen=True)
class ContractRow:
    """One registered contract, as the contracts list shows and exports it."""

    deal_id: int
    patent_id: int
    patent_title: str
    application_no: str
    university: str
    enterprise: str
    kind: ContractKind
    license_scope: Any
    license_until: date | None
    amount_wan: Decimal
    signed_on: date
    record_no: str | None
    parties: str
    officer: str | None


def contract_rows(
    deal_scope: sa.ColumnElement[bool], page: int | None = 1, per_page: int = 50
) -> tuple[list[ContractRow], Page]:
    """Every contract of the deals in scope, latest signed first; page=None lists all (the
    export). Regulators track 备案号 and licence kinds per contract: the tables only gave
    totals by month and kind (a tester)."""
    uni = aliased(Organization)
    ent = aliased(Organization)
    stmt = (
        sa.select(
            Deal.id,
            Patent.id,
            Patent.title,
            Patent.application_no,
            uni.name,
            ent.name,
            Contract.kind,
            Contract.license_scope,
            Contract.license_until,
            Contract.amount_wan,
            Contract.signed_on,
            Contract.record_no,
            Contract.parties,
            User.name,
        )
        .select_from(Contract)
        .join(Deal, Deal.id == Contract.deal_id)
    )
    stmt = (
        _with_parties(stmt, uni, ent)
        .where(deal_scope)
        .order_by(Contract.signed_on.desc(), Contract.id.desc())
    )
    count = sa.select(sa.func.count(Contract.id)).join(Deal, Deal.id == Contract.deal_id)
    info = _rows_page(stmt, count.where(deal_scope), page, per_page)
    return [ContractRow(*row) for row in info.items], info


def overdue_deals(
    deal_scope: sa.ColumnElement[bool],
    page: int | None = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> tuple[list[OverdueDeal], Page]:
    """Overdue deals, longest overdue first; page=None lists all (exports)."""
    now = now or utcnow()
    where = sa.and_(deal_scope, overdue_clause(now))
    uni = aliased(Organization)
    ent = aliased(Organization)
    stmt = sa.select(
        Deal.id,
        Patent.id,
        Patent.title,
        uni.name,
        College.name,
        ent.name,
        Demand.id,
        Demand.title,
        User.name,
        Deal.stage,
        Deal.pushed_at,
        Deal.response_due_at,
    ).select_from(Deal)
    stmt = (
        _with_parties(stmt, uni, ent)
        .outerjoin(College, College.id == Patent.college_id)
        .join(Demand, Demand.id == Deal.demand_id)
        .where(where)
        .order_by(Deal.response_due_at, Deal.id)
    )
    info = _rows_page(stmt, sa.select(sa.func.count(Deal.id)).where(where), page, per_page)
    items = []
    for row in info.items:
        due = as_utc(row[11])
        items.append(OverdueDeal(*row[:10], as_utc(row[10]), due, (as_utc(now) - due).days))
    info.items = items
    return items, info


# ---------------------------------------------------------------------------- unmet need


@dataclass(frozen=True)
class UnmetDemand:
    id: int
    title: str
    enterprise: str
    industry: str | None
    created_at: datetime
    deadline: date | None
    rejected: int  # matches rejected so far
    weak: int = 0  # weak candidates (below the bar), not reviewed

    @property
    def reason(self) -> str:
        if self.rejected:
            more = f"，另有较弱候选 {self.weak} 条" if self.weak else ""
            return f"匹配结果均被否决（{self.rejected} 条）{more}"
        if self.weak:
            return f"没有达到推荐门槛的匹配（较弱候选 {self.weak} 条）"
        return "尚无匹配结果"


@dataclass(frozen=True)
class UnmetFigures:
    open_demands: int
    unmet: int
    never_matched: int
    all_rejected: int
    by_industry: list[tuple[str, str, int]]  # (section key, label, unmet count)
    below_bar: int = 0  # none rejected, only weak candidates (the demand abstained)


def open_clause() -> sa.ColumnElement[bool]:
    return Demand.status == DemandStatus.OPEN


def unmet_clause() -> sa.ColumnElement[bool]:
    """An open demand without an accepted match or a candidate officers review (the regional
    picture too)."""
    return _unmet_clause()


def _unmet_clause() -> sa.ColumnElement[bool]:
    return _matching_unmet_clause()


def _weak_per_demand() -> Any:
    return (
        sa.select(Match.demand_id.label("demand_id"), sa.func.count(Match.id).label("weak"))
        .where(WEAK)
        .group_by(Match.demand_id)
        .subquery("dash_weak")
    )


def _rejected_per_demand() -> Any:
    return (
        sa.select(Match.demand_id.label("demand_id"), sa.func.count(Match.id).label("rejected"))
        .where(Match.state == MatchState.REJECTED)
        .group_by(Match.demand_id)
        .subquery("dash_rejected")
    )


def unmet_counts() -> tuple[int, int]:
    """(open demands, unmet ones): unmet_figures' two headline numbers in one statement,
    without its breakdowns (an officer's 今日待办 reads them on every home page)."""
    open_demands, unmet = db.session.execute(
        sa.select(
            sa.func.count(Demand.id),
            sa.func.count(sa.case((_unmet_clause(), Demand.id))),
        ).where(Demand.status == DemandStatus.OPEN)
    ).one()
    return int(open_demands), int(unmet)


def unmet_figures() -> UnmetFigures:
    """Open demands, unmet ones (never matched / all rejected), unmet per industry section."""
    rejected, weak = _rejected_per_demand(), _weak_per_demand()
    open_demands = db.session.scalar(
        sa.select(sa.func.count(Demand.id)).where(Demand.status == DemandStatus.OPEN)
    )
    none_rejected = rejected.c.demand_id.is_(None)
    unmet, never, below_bar = db.session.execute(
        sa.select(
            sa.func.count(Demand.id),
            sa.func.count(sa.case((sa.and_(none_rejected, weak.c.demand_id.is_(None)), Demand.id))),
            sa.func.count(
                sa.case((sa.and_(none_rejected, weak.c.demand_id.is_not(None)), Demand.id))
            ),
        )
        .select_from(Demand)
        .outerjoin(rejected, rejected.c.demand_id == Demand.id)
        .outerjoin(weak, weak.c.demand_id == Demand.id)
        .where(_unmet_clause())
    ).one()
    section = section_expr(Demand.industry)
    merged: dict[str, int] = {}
    for first, n in db.session.execute(
        sa.select(section, sa.func.count(Demand.id)).where(_unmet_clause()).group_by(section)
    ):
        key = industry.section_key(first)
        merged[key] = merged.get(key, 0) + int(n)
    return UnmetFigures(
        int(open_demands or 0),
        int(unmet),
        int(never),
        int(unmet) - int(never) - int(below_bar),
        [
            (k, industry.section_label(k), merged[k])
            for k in sorted(merged, key=industry.section_order)
        ],
        below_bar=int(below_bar),
    )


def unmet_demands(page: int | None = 1, per_page: int = 50) -> tuple[list[UnmetDemand], Page]:
    """Unmet open demands, oldest first; page=None lists all (exports)."""
    rejected, weak = _rejected_per_demand(), _weak_per_demand()
    stmt = (
        sa.select(
            Demand.id,
            Demand.title,
            Organization.name,
            Demand.industry,
            Demand.created_at,
            Demand.deadline,
            sa.func.coalesce(rejected.c.rejected, 0),
            sa.func.coalesce(weak.c.weak, 0),
        )
        .join(Organization, Organization.id == Demand.enterprise_id)
        .outerjoin(rejected, rejected.c.demand_id == Demand.id)
        .outerjoin(weak, weak.c.demand_id == Demand.id)
        .where(_unmet_clause())
        .order_by(Demand.created_at, Demand.id)
    )
    count = sa.select(sa.func.count(Demand.id)).where(_unmet_clause())
    info = _rows_page(stmt, count, page, per_page)
    info.items = [
        UnmetDemand(i, t, e, ind, as_utc(c), d, int(r), int(w))
        for i, t, e, ind, c, d, r, w in info.items
    ]
    return info.items, info


# ---------------------------------------------------------------------------- officer workload


@dataclass(frozen=True)
class OfficerLoad:
    id: int
    name: str
    role: Role
    accepted_30d: int = 0
    rejected_30d: int = 0
    open_deals: int = 0
    overdue: int = 0
    contracts: int = 0
    amount: Decimal = ZERO

    @property
    def decisions_30d(self) -> int:
        return self.accepted_30d + self.rejected_30d


@dataclass(frozen=True)
class WorkloadFigures:
    officers: list[OfficerLoad]
    undecided: int  # candidates on open demands the review queue lists (not the weak ones)
    demands_waiting: int  # open demands with at least one of them
    since: datetime
    weak: int = 0  # weak machine candidates besides them (below the bar, shown on request)


def workload(now: datetime | None = None) -> WorkloadFigures:
    """Per officer (every officer account, plus anyone else who decided or pushed): three
    GROUP BY statements and one list of users, whatever the number of matches and deals."""
    now = now or utcnow()
    since = now - timedelta(days=WORKLOAD_DAYS)
    decisions = {
        uid: (int(a), int(r))
        for uid, a, r in db.session.execute(
            sa.select(
                Match.decided_by_id,
                sa.func.count(sa.case((Match.state == MatchState.ACCEPTED, Match.id))),
                sa.func.count(sa.case((Match.state == MatchState.REJECTED, Match.id))),
            )
            .where(Match.decided_by_id.is_not(None), Match.decided_at >= since)
            .group_by(Match.decided_by_id)
        )
    }
    deals = {
        uid: (int(o), int(late), int(c), money(amount))
        for uid, o, late, c, amount in db.session.execute(
            sa.select(
                Deal.officer_id,
                sa.func.count(sa.case((Deal.stage.in_(OPEN_STAGES), Deal.id))),
                sa.func.count(sa.case((overdue_clause(now), Deal.id))),
                sa.func.count(Contract.id),
                sa.func.sum(Contract.amount_wan),
            )
            .select_from(Deal)
            .outerjoin(Contract, Contract.deal_id == Deal.id)
            .where(Deal.officer_id.is_not(None))
            .group_by(Deal.officer_id)
        )
    }
    ids = set(decisions) | set(deals)
    users = db.session.execute(
        sa.select(User.id, User.name, User.role).where(
            sa.or_(User.role == Role.OFFICER, User.id.in_(ids))
        )
    ).all()
    officers = [
        OfficerLoad(uid, name, role, *decisions.get(uid, (0, 0)), *deals.get(uid, (0, 0, 0, ZERO)))
        for uid, name, role in users
    ]
    officers.sort(key=lambda o: (-o.open_deals, -o.decisions_30d, -o.overdue, o.name))
    listed = sa.not_(WEAK)
    undecided, waiting, weak = db.session.execute(
        sa.select(
            sa.func.count(sa.case((listed, Match.id))),
            sa.func.count(sa.distinct(sa.case((listed, Match.demand_id)))),
            sa.func.count(sa.case((WEAK, Match.id))),
        )
        .join(Demand, Demand.id == Match.demand_id)
        .where(Match.state == MatchState.CANDIDATE, Demand.status == DemandStatus.OPEN)
    ).one()
    return WorkloadFigures(officers, int(undecided), int(waiting), since, int(weak))


# ---------------------------------------------------------------------------- enterprise view


@dataclass(frozen=True)
class DemandLine:
    id: int
    title: str
    status: DemandStatus
    created_at: datetime
    pushed: int
    stages: dict[Stage, int]
    suggested: int  # machine suggestions its demand page lists (not yet reviewed)


@dataclass(frozen=True)
class EnterpriseDeal:
    id: int
    demand_id: int
    demand_title: str
    patent_title: str
    university: str
    stage: Stage
    pushed_at: datetime
    response: UniversityResponse | None
    contract_kind: ContractKind | None
    amount: Decimal | None


@dataclass
class EnterpriseFigures:
    demands: list[DemandLine]
    by_stage: dict[Stage, int]

    @property
    def open_demands(self) -> int:
        return sum(1 for d in self.demands if d.status == DemandStatus.OPEN)

    @property
    def pushed(self) -> int:
        return sum(self.by_stage.values())

    @property
    def suggested(self) -> int:
        return sum(d.suggested for d in self.demands)

    @property
    def suggested_open(self) -> int:
        """Machine suggestions on the demands still open (征集中)."""
        return sum(d.suggested for d in self.demands if d.status == DemandStatus.OPEN)

    @property
    def signed(self) -> int:
        return self.by_stage.get(Stage.SIGNED, 0)


def enterprise_figures(enterprise_id: int) -> EnterpriseFigures:
    """The enterprise's demands with pushed matches (deals) per stage (one GROUP BY) and the
    machine suggestions each demand's page lists (one more query)."""
    stage_cols = [sa.func.count(sa.case((Deal.stage == s, Deal.id))) for s in Stage]
    stmt = (
        sa.select(
            Demand.id,
            Demand.title,
            Demand.status,
            Demand.created_at,
            sa.func.count(Deal.id),
            *stage_cols,
        )
        .outerjoin(Deal, Deal.demand_id == Demand.id)
        .where(Demand.enterprise_id == enterprise_id)
        .group_by(Demand.id, Demand.title, Demand.status, Demand.created_at)
        .order_by(Demand.created_at.desc(), Demand.id.desc())
    )
    rows = db.session.execute(stmt).all()
    suggested = suggestion_counts(enterprise_id)
    demands = []
    totals = dict.fromkeys(Stage, 0)
    for row in rows:
        stages = {s: int(n) for s, n in zip(Stage, row[5:], strict=True)}
        for s, n in stages.items():
            totals[s] += n
        line = DemandLine(*row[:3], as_utc(row[3]), int(row[4]), stages, suggested.get(row[0], 0))
        demands.append(line)
    return EnterpriseFigures(demands, totals)


def enterprise_deals(
    enterprise_id: int, page: int | None = 1, per_page: int = 50
) -> tuple[list[EnterpriseDeal], Page]:
    """Deals pushed to the enterprise, newest first; page=None lists all (exports)."""
    where = Deal.enterprise_id == enterprise_id
    stmt = (
        sa.select(
            Deal.id,
            Demand.id,
            Demand.title,
            Patent.title,
            Organization.name,
            Deal.stage,
            Deal.pushed_at,
            Deal.response,
            Contract.kind,
            Contract.amount_wan,
        )
        .select_from(Deal)
        .join(Demand, Demand.id == Deal.demand_id)
        .join(Patent, Patent.id == Deal.patent_id)
        .join(Organization, Organization.id == Deal.university_id)
        .outerjoin(Contract, Contract.deal_id == Deal.id)
        .where(where)
        .order_by(Deal.pushed_at.desc(), Deal.id.desc())
    )
    info = _rows_page(stmt, sa.select(sa.func.count(Deal.id)).where(where), page, per_page)
    info.items = [
        EnterpriseDeal(*row[:6], as_utc(row[6]), row[7], row[8], row[9]) for row in info.items
    ]
    return info.items, info
