"""The conversion funnel 盘点 → 入库 → 推送 → 评价 → 对接 → 签约: definitions and SQL.

This module is the one place the funnel is defined. Every figure counts *patents* (a patent
with two contracts counts once in 签约; the contract pages count contracts). The steps:

=========  ====================================================================  ==========
step       a patent counts when …                                                base step
=========  ====================================================================  ==========
盘点        it has a record in scope, whatever its entry status (drafts included:  —
           盘点 is the act of recording every patent)
入库        its entry status is 已入库                                            盘点
推送        it is 已入库 and ≥ 1 deal exists (an officer accepted a match for it)  入库
评价        it is 已入库 and ≥ 1 enterprise submitted an evaluation (市场评价)       入库
对接        it is 已入库 and ≥ 1 of its deals reached 已接洽: stage is 已接洽 /       推送
           洽谈中 / 已签约, or the stage history (DealEvent) shows it reached one
           of those before ending 未成交, or a contract was recorded on it
签约        it is 已入库 and ≥ 1 of its deals has a contract                        对接
=========  ====================================================================  ==========

The steps are in the order of the platform's pipeline: an enterprise may evaluate a patent once
it was pushed to it (a deal) or it was invited to (evaluations.permissions), so 评价 follows
推送; a trial read the funnel's 评价 before 推送 as the wrong way round. The base of 评价 is 入库,
not 推送, all the same: an invited enterprise evaluates a patent never pushed, so 评价 / 推送
could exceed 100% and mean nothing; and 对接 narrows 推送, not 评价 (a deal is contacted
whether or not its enterprise evaluated). Every chart and table states each step's base.

Each rate names its denominator (``format_rate``): against the *base step* and against 盘点.
Requiring 已入库 in every later step keeps the funnel nested (a patent reopened after a deal
drops out of all steps after 盘点 until it is entered again), so no rate exceeds 100%.

SQL: one statement per grouping. Evaluations and deals are first reduced to one row per
patent (``GROUP BY patent_id``) and LEFT JOINed to patents, then each step is a
``COUNT(CASE WHEN … THEN patents.id END)``. That is a hash join against small aggregates on
PostgreSQL, not a sub-plan per patent, and the statement count does not grow with the data.
Indexes used: evaluations.patent_id, deals.patent_id, deal_events.deal_id, contracts.deal_id
(unique), patents (institution_id, status) / (institution_id, college_id).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from revive.accounts.models import College, Organization, OrgKind
from revive.common.industry import section_expr
from revive.dashboard import cache, industry
from revive.deals.models import Contract, Deal, DealEvent, Stage
from revive.evaluations.models import Evaluation
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent
from revive.templating import format_rate

# Deal stages that mean the two sides have been in touch (已接洽 or later, except 未成交).
CONTACTED_STAGES: tuple[Stage, ...] = (Stage.CONTACTED, Stage.NEGOTIATING, Stage.SIGNED)
NO_COLLEGE_LABEL = "未指定学院"


@dataclass(frozen=True)
class Step:
    key: str
    label: str  # 盘点
    count_label: str  # 盘点数
    definition: str
    base: str | None  # key of the step this one narrows (its rate's denominator)


STEPS: tuple[Step, ...] = (
    Step(
        "inventoried", "盘点", "盘点数", "范围内全部专利记录（含草稿、退回、不入库等各状态）", None
    ),
    Step("entered", "入库", "入库数", "入库状态为「已入库」的专利", "inventoried"),
    Step(
        "pushed",
        "推送",
        "推送数",
        "已入库且至少被推送过 1 次（技术经理人采纳匹配并推送给企业和高校）",
        "entered",
    ),
    Step(
        "evaluated",
        "评价",
        "评价数",
        "已入库且至少有 1 家企业提交了市场评价（企业评价推送给它或邀请它评价的专利；"
        "受邀评价不必经过推送，故比较基数为入库数）",
        "entered",
    ),
    Step(
        "contacted",
        "对接",
        "对接数",
        "已入库且至少有 1 次对接到达「已接洽」：当前阶段为已接洽、洽谈中或已签约，"
        "或阶段记录显示曾到达已接洽后未成交，或已登记合同",
        "pushed",
    ),
    Step(
        "signed",
        "签约",
        "签约数",
        "已入库且至少有 1 份已登记的合同（多份合同只计 1 件专利）",
        "contacted",
    ),
)
STEP_BY_KEY = {s.key: s for s in STEPS}


def rate_name(step: Step) -> str:
    """'入库率（入库数 / 盘点数）'."""
    base = STEP_BY_KEY[step.base] if step.base else None
    return f"{step.label}率（{step.count_label} / {base.count_label}）" if base else ""


def axis_label(step: Step) -> str:
    """'推送（/ 入库数）': the step with the denominator of its rate, as the charts name it."""
    base = STEP_BY_KEY[step.base] if step.base else None
    return f"{step.label}（/ {base.count_label}）" if base else step.label


@dataclass(frozen=True)
class Counts:
    """The six step counts of one unit (a scope, a university, a college, an industry)."""

    inventoried: int = 0
    entered: int = 0
    evaluated: int = 0
    pushed: int = 0
    contacted: int = 0
    signed: int = 0

    def get(self, key: str) -> int:
        return int(getattr(self, key))

    def base_of(self, step: Step) -> int | None:
        return self.get(step.base) if step.base else None

    def rate(self, key: str) -> str:
        """Rate of step ``key`` against its base step, with the denominator."""
        step = STEP_BY_KEY[key]
        base = self.base_of(step)
        return format_rate(self.get(key), base) if base is not None else ""

    def __add__(self, other: Counts) -> Counts:
        return Counts(**{k: self.get(k) + other.get(k) for k in KEYS})

    def to_dict(self) -> dict[str, Any]:
        """Steps with counts and both rates ({numerator, denominator, value, display})."""
        out = []
        for step in STEPS:
            n = self.get(step.key)
            base = self.base_of(step)
            out.append(
                {
                    "key": step.key,
                    "label": step.label,
                    "count_label": step.count_label,
                    "definition": step.definition,
                    "count": n,
                    "base": step.base,
                    "rate_of_base": rate_dict(n, base) if base is not None else None,
                    "rate_of_inventoried": rate_dict(n, self.inventoried),
                }
            )
        return {"steps": out}


# The fields in their stored order (the SQL's columns, the cache's lists): kept as they were
# when 推送 moved before 评价 in STEPS, so cached figures read back the same.
KEYS = tuple(f.name for f in dataclasses.fields(Counts))


def rate_dict(numerator: int, denominator: int) -> dict[str, Any]:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "value": round(numerator / denominator, 4) if denominator else None,
        "display": format_rate(numerator, denominator),
    }


@dataclass(frozen=True)
class Line:
    """One row of a breakdown: a university, a college or an industry section."""

    key: str  # id as text, an industry section key, or "none"
    name: str
    counts: Counts
    id: int | None = None


# ---------------------------------------------------------------------------- SQL


def _per_patent_subqueries() -> tuple[Any, Any]:
    """(evaluated patents, per-patent deal flags), each one row per patent."""
    evaluated = (
        sa.select(Evaluation.patent_id.label("patent_id"))
        .group_by(Evaluation.patent_id)
        .subquery("dash_evaluated")
    )
    reached = (
        sa.select(DealEvent.deal_id.label("deal_id"))
        .where(DealEvent.to_stage.in_(CONTACTED_STAGES))
        .group_by(DealEvent.deal_id)
        .subquery("dash_reached")
    )
    has_contract = Contract.id.is_not(None)
    contacted = sa.or_(
        Deal.stage.in_(CONTACTED_STAGES), reached.c.deal_id.is_not(None), has_contract
    )
    deals = (
        sa.select(
            Deal.patent_id.label("patent_id"),
            sa.func.max(sa.case((contacted, 1), else_=0)).label("contacted"),
            sa.func.max(sa.case((has_contract, 1), else_=0)).label("signed"),
        )
        .select_from(Deal)
        .outerjoin(Contract, Contract.deal_id == Deal.id)
        .outerjoin(reached, reached.c.deal_id == Deal.id)
        .group_by(Deal.patent_id)
        .subquery("dash_deals")
    )
    return evaluated, deals


def _count_columns(evaluated: Any, deals: Any) -> list[Any]:
    entered = Patent.status == EntryStatus.ENTERED

    def count_if(condition: Any) -> Any:
        # COUNT(CASE …) is an integer on every backend (SUM(CASE …) is Decimal on PostgreSQL).
        return sa.func.count(sa.case((condition, Patent.id)))

    return [
        sa.func.count(Patent.id),
        count_if(entered),
        count_if(sa.and_(entered, evaluated.c.patent_id.is_not(None))),
        count_if(sa.and_(entered, deals.c.patent_id.is_not(None))),
        count_if(sa.and_(entered, deals.c.contacted == 1)),
        count_if(sa.and_(entered, deals.c.signed == 1)),
    ]


def _grouped(scope: sa.ColumnElement[bool], group: Any | None) -> dict[Any, Counts]:
    evaluated, deals = _per_patent_subqueries()
    columns = _count_columns(evaluated, deals)
    head = [group] if group is not None else []
    stmt = (
        sa.select(*head, *columns)
        .select_from(Patent)
        .outerjoin(evaluated, evaluated.c.patent_id == Patent.id)
        .outerjoin(deals, deals.c.patent_id == Patent.id)
        .where(scope)
    )
    if group is not None:
        stmt = stmt.group_by(group)
        return {row[0]: Counts(*map(int, row[1:])) for row in db.session.execute(stmt)}
    row = db.session.execute(stmt).one()
    return {None: Counts(*map(int, row))}


def is_everything(scope: sa.ColumnElement[bool]) -> bool:
    """The scope of the regional views: every patent (``sa.true()``)."""
    return isinstance(scope, sa.sql.elements.True_)


def _encode_grouped(figures: dict[Any, Counts]) -> list[list[Any]]:
    return [[key, [c.get(k) for k in KEYS]] for key, c in figures.items()]


def _decode_grouped(payload: list[list[Any]]) -> dict[Any, Counts]:
    return {key: Counts(*values) for key, values in payload}


def _covered(figures: dict[Any, Counts]) -> int:
    return sum(c.inventoried for c in figures.values())


def _aggregate(scope: sa.ColumnElement[bool], group: Any | None) -> cache.Aggregate:
    return cache.Aggregate(
        lambda: _grouped(scope, group), _encode_grouped, _decode_grouped, _covered
    )


def _register(key: str, group: Any | None) -> None:
    cache.register(key, _aggregate(sa.true(), group))


def _register_university(key: str, group: Any | None) -> None:
    def factory(arg: str) -> cache.Aggregate:
        return _aggregate(Patent.institution_id == int(arg.removeprefix("u")), group)

    cache.register_family(key, factory)


# The platform-wide funnels (regional views) are cached, and those of a university (its own
# view, or a regional view narrowed to it) when it is large; see revive.dashboard.cache.
_register("funnel", None)
_register("funnel-by-university", Patent.institution_id)
_INDUSTRY = section_expr(Patent.industry_code)
_register("funnel-by-industry", _INDUSTRY)
_register_university("funnel", None)
_register_university("funnel-by-college", Patent.college_id)
_register_university("funnel-by-industry", _INDUSTRY)


def _figures(
    scope: sa.ColumnElement[bool], key: str, group: Any | None, university_id: int | None
) -> dict[Any, Counts]:
    """Grouped counts of ``scope``; from the cache for every patent or, with
    ``university_id`` (the scope is exactly that university's patents), for that university."""
    if is_everything(scope):
        return cache.cached(key)
    if university_id is not None:
        return cache.cached(f"{key}:u{university_id}")
    return _grouped(scope, group)


def funnel_counts(scope: sa.ColumnElement[bool], university_id: int | None = None) -> Counts:
    """The six step counts for every patent matching ``scope`` (one statement). Pass
    ``university_id`` only when ``scope`` is exactly that university's patents."""
    return _figures(scope, "funnel", None, university_id).get(None, Counts())


def by_university(scope: sa.ColumnElement[bool], only: int | None = None) -> list[Line]:
    """Every university (zero rows included: who has not started), largest first; ``only``
    keeps one university (a regional view narrowed to it)."""
    figures = _figures(scope, "funnel-by-university", Patent.institution_id, None)
    orgs_stmt = sa.select(Organization.id, Organization.name)
    if only is not None:
        orgs_stmt = orgs_stmt.where(Organization.id == only)
    else:
        orgs_stmt = orgs_stmt.where(
            sa.or_(Organization.kind == OrgKind.UNIVERSITY, Organization.id.in_(list(figures)))
        )
    orgs = db.session.execute(orgs_stmt).all()
    return _sorted([Line(str(oid), name, figures.get(oid, Counts()), oid) for oid, name in orgs])


def by_college(
    scope: sa.ColumnElement[bool], university_id: int, *, whole_university: bool = False
) -> list[Line]:
    """Every college of the university (zero rows included), then patents without a college.
    ``whole_university``: ``scope`` is exactly the university's patents (cacheable)."""
    cached_as = university_id if whole_university else None
    figures = _figures(scope, "funnel-by-college", Patent.college_id, cached_as)
    colleges = db.session.execute(
        sa.select(College.id, College.name).where(College.institution_id == university_id)
    ).all()
    lines = [Line(str(cid), name, figures.pop(cid, Counts()), cid) for cid, name in colleges]
    if None in figures:
        lines.append(Line("none", NO_COLLEGE_LABEL, figures.pop(None)))
    return _sorted(lines)


def by_industry(scope: sa.ColumnElement[bool], university_id: int | None = None) -> list[Line]:
    """GB/T 4754 sections (门类) that occur in scope, in code order; blanks and codeless last.
    ``university_id``: ``scope`` is exactly that university's patents (cacheable)."""
    figures = _figures(scope, "funnel-by-industry", _INDUSTRY, university_id)
    merged: dict[str, Counts] = {}
    for first, counts in figures.items():
        key = industry.section_key(first)
        merged[key] = merged.get(key, Counts()) + counts
    return [
        Line(key, industry.section_label(key), merged[key])
        for key in sorted(merged, key=industry.section_order)
    ]


def _sorted(lines: list[Line]) -> list[Line]:
    return sorted(lines, key=lambda r: (-r.counts.inventoried, -r.counts.entered, r.name))


def total_of(lines: list[Line]) -> Counts:
    total = Counts()
    for line in lines:
        total = total + line.counts
    return total
