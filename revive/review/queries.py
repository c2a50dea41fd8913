"""Read helpers for the review queue and the rejection statistics (no writes, no commits).

The queue is paginated by demand: one grouped SELECT picks the page of demands that have
candidates passing the filters, with their newest/oldest listed (not weak) candidate time
and top score; a second loads those demands' candidates with their patents. Rejection
statistics are grouped COUNTs over decided matches, scoped by
``review.permissions.stats_scope_clause``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from revive.accounts.models import Organization, User
from revive.common.industry import SECTIONS, section_expr, section_of
from revive.db import as_utc, utcnow
from revive.demands.models import Demand, DemandStatus
from revive.errors import NotFoundError
from revive.extensions import db
from revive.inventory.models import Patent
from revive.matching import queries as matching_queries
from revive.matching.models import DemandReading, Match, MatchState
from revive.matching.queries import NeedGroup
from revive.matching.reasons import REJECT_REASONS
from revive.pagination import Page, paginate
from revive.review.permissions import sees_all_universities, stats_scope_clause
from revive.web import int_arg

SORTS = {"newest": "最新候选在前", "strength": "最强匹配在前", "score": "最高相似度在前"}
DEFAULT_SORT = "newest"
MAX_DAYS = 3650
TOP_PATENTS = 20
DECIDED = (MatchState.ACCEPTED, MatchState.REJECTED)


def _days(raw: Any) -> int | None:
    days = int_arg(raw, minimum=1)
    return min(days, MAX_DAYS) if days is not None else None


def _score(raw: Any) -> float | None:
    try:
        value = float(str(raw or "").strip())
    except ValueError:
        return None
    return value if 0 <= value <= 1 and math.isfinite(value) else None


def _args(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    data.update(overrides)
    return {k: v for k, v in data.items() if v not in (None, "") and not (k == "page" and v == 1)}


# ---------------------------------------------------------------------------- queue


def days_since(value: datetime | None) -> int | None:
    if value is None:
        return None
    return max(0, (utcnow() - as_utc(value)).days)


def trl_below(match: Any) -> bool:
    """The patent's TRL is below what the demand expects (today's values, not the run's)."""
    expected, trl = match.demand.expected_trl, match.patent.trl
    return bool(expected and trl is not None and trl < expected)


@dataclass
class QueueFilters:
    industry: str = ""  # the demand's 行业, exact
    university: int | None = None  # the patent's institution id
    min_score: float | None = None  # 0–1
    posted_within: int | None = None  # demand posted within N days
    waiting_over: int | None = None  # candidate proposed more than N days ago
    sort: str = DEFAULT_SORT
    page: int = 1

    def to_args(self, **overrides: Any) -> dict[str, Any]:
        """Query-string arguments (pagination links, form actions, redirects)."""
        data = asdict(self)
        if data["sort"] == DEFAULT_SORT:
            data["sort"] = None
        return _args(data, overrides)

    @property
    def active(self) -> bool:
        return any(
            (
                self.industry,
                self.university,
                self.min_score is not None,
                self.posted_within,
                self.waiting_over,
            )
        )


def parse_queue_filters(args: Mapping[str, Any]) -> QueueFilters:
    """Filters from a query string; malformed values are ignored, not errors."""
    sort = str(args.get("sort", "") or DEFAULT_SORT)
    return QueueFilters(
        industry=str(args.get("industry", "") or "").strip()[:100],
        university=int_arg(args.get("university"), minimum=1),
        min_score=_score(args.get("min_score")),
        posted_within=_days(args.get("posted_within")),
        waiting_over=_days(args.get("waiting_over")),
        sort=sort if sort in SORTS else DEFAULT_SORT,
        page=int_arg(args.get("page"), 1, minimum=1),
    )


@dataclass
class DemandGroup(matching_queries.ReadingFlags):
    """One demand of the queue with its (filtered) candidates, strongest first (rows from
    before strength: by score), and how matching read the demand: ``groups`` by sub-need,
    ``weak`` candidates (below the bar: shown on request), thin / abstaining."""

    demand: Demand
    candidates: list[Match]
    count: int
    top_score: float
    newest_at: datetime
    oldest_at: datetime
    reading: DemandReading | None = None
    groups: list[NeedGroup] = field(default_factory=list)
    weak: list[Match] = field(default_factory=list)
    past: dict[int, str] = field(default_factory=dict)  # matching.queries.past_deals

    @property
    def intents(self) -> int:
        """Candidates an enterprise asked for (申请对接): listed first."""
        return sum(1 for m in self.candidates if m.intent_at is not None)

    @property
    def listed(self) -> int:
        """Candidates shown at once (at or above the bar, or brought in by a person)."""
        return sum(len(g.matches) for g in self.groups)

    @property
    def abstains(self) -> bool:
        """暂无合适专利: no candidate of the demand reached the bar in its latest run."""
        return bool(self.reading and self.reading.is_abstaining)

    @property
    def reasons(self) -> list[str]:
        """The reasons of the candidates shown at once (marked in the demand's text)."""
        out: list[str] = []
        for g in self.groups:
            for m in g.matches:
                out.extend(r for r in m.reasons or () if r not in out)
        return out

    def need_label(self, match: Match) -> str:
        return self.reading.need_label(match.need) if self.reading else ""


def _queue_where(f: QueueFilters, now: datetime | None = None) -> list[sa.ColumnElement[bool]]:
    now = now or utcnow()
    clauses: list[sa.ColumnElement[bool]] = [
        Match.state == MatchState.CANDIDATE,
        Demand.status == DemandStatus.OPEN,
    ]
    if f.industry:
        # A section letter (the filter's choices); an older link's text is read as the
        # section it names, else matched exactly.
        letter = section_of(f.industry)  # "C" itself too
        if letter is not None:
            clauses.append(section_expr(Demand.industry) == letter)
        else:
            clauses.append(Demand.industry == f.industry)
    if f.university:
        clauses.append(Patent.institution_id == f.university)
    if f.min_score is not None:
        clauses.append(Match.score >= f.min_score)
    if f.posted_within:
        clauses.append(Demand.created_at >= now - timedelta(days=f.posted_within))
    if f.waiting_over:
        clauses.append(Match.created_at <= now - timedelta(days=f.waiting_over))
    return clauses


def _joined(*cols: Any) -> sa.Select:
    return (
        sa.select(*cols)
        .select_from(Match)
        .join(Demand, Demand.id == Match.demand_id)
        .join(Patent, Patent.id == Match.patent_id)
    )


def queue_page(f: QueueFilters, per_page: int) -> Page:
    """One page of demands that have candidates passing the filters (``Page`` of DemandGroup)."""
    where = _queue_where(f)
    # A demand's count and waiting time are those of the candidates the queue lists (not
    # weak); a demand with weak candidates only is shown (folded) but not counted as waiting
    # (queue_totals).
    listed = matching_queries.LISTED
    grouped = (
        _joined(
            Match.demand_id.label("demand_id"),
            sa.func.count(sa.case((listed, Match.id))).label("n"),
            sa.func.max(Match.score).label("top"),
            sa.func.max(Match.strength).label("strongest"),
            sa.func.max(sa.case((listed, Match.created_at))).label("newest"),
            sa.func.min(sa.case((listed, Match.created_at))).label("oldest"),
            sa.func.max(sa.case((Match.intent_at.is_not(None), 1), else_=0)).label("intent"),
        )
        .where(*where)
        .group_by(Match.demand_id)
        .subquery()
    )
    if f.sort == "score":
        order: tuple[Any, ...] = (grouped.c.top.desc(), grouped.c.newest.desc())
    elif f.sort == "strength":
        strongest = grouped.c.strongest
        order = (strongest.is_(None), strongest.desc(), grouped.c.top.desc())
    else:
        order = (grouped.c.newest.desc(), grouped.c.top.desc())
    # In every order a demand with an enterprise's 申请对接 waiting comes first: the enterprise
    # asked for that patent itself (a tester's pending intent sat on the second page).
    page = paginate(
        sa.select(grouped).order_by(grouped.c.intent.desc(), *order, grouped.c.demand_id.desc()),
        sa.select(sa.func.count()).select_from(grouped),
        f.page,
        per_page,
        scalars=False,
    )
    rows = page.items
    ids = [r.demand_id for r in rows]
    by_demand: dict[int, list[Match]] = {i: [] for i in ids}
    if ids:
        stmt = (
            _joined(Match)
            .where(*where, Match.demand_id.in_(ids))
            .options(
                contains_eager(Match.demand).joinedload(Demand.enterprise),
                contains_eager(Match.patent).joinedload(Patent.institution),
                contains_eager(Match.patent).joinedload(Patent.college),
            )
            .order_by(
                Match.demand_id,
                # what people brought first: the enterprise's intents, then officers' picks
                Match.intent_at.is_(None),
                Match.added_by_id.is_(None),
                Match.strength.is_(None),
                Match.strength.desc(),
                Match.score.desc(),
                Match.id,
            )
        )
        for m in db.session.scalars(stmt).unique():
            by_demand[m.demand_id].append(m)
    readings = matching_queries.readings_for(ids)
    page.items = []
    for r in rows:
        candidates = by_demand[r.demand_id]
        if not candidates:  # decided between the two SELECTs: drop the empty group
            continue
        reading = readings.get(r.demand_id)
        groups, weak = matching_queries.group_by_need(candidates, reading)
        page.items.append(
            DemandGroup(
                demand=candidates[0].demand,
                candidates=candidates,
                count=r.n,
                top_score=r.top,
                newest_at=r.newest,
                oldest_at=r.oldest,
                reading=reading,
                groups=groups,
                weak=weak,
                past=matching_queries.past_deals(candidates),
            )
        )
    return page


def queue_totals(f: QueueFilters) -> tuple[int, int]:
    """(demands with a candidate the queue lists — waiting for review —, demands with weak
    candidates only), among those passing the filters: the queue's header."""
    listed = matching_queries.LISTED
    per_demand = (
        _joined(
            Match.demand_id.label("demand_id"),
            sa.func.count(sa.case((listed, Match.id))).label("n"),
        )
        .where(*_queue_where(f))
        .group_by(Match.demand_id)
        .subquery()
    )
    waiting, only_weak = db.session.execute(
        sa.select(
            sa.func.count(sa.case((per_demand.c.n > 0, per_demand.c.demand_id))),
            sa.func.count(sa.case((per_demand.c.n == 0, per_demand.c.demand_id))),
        )
    ).one()
    return int(waiting or 0), int(only_weak or 0)


def open_demand(demand_id: int) -> Demand:
    """A demand officers may add candidates to (open); 404 otherwise."""
    demand = db.session.get(Demand, demand_id)
    if demand is None:
        raise NotFoundError("需求不存在")
    if demand.status != DemandStatus.OPEN:
        raise NotFoundError("需求已关闭，不能再添加候选")
    return demand


def pairs_of(demand_id: int, patent_ids: list[int]) -> dict[int, Match]:
    """{patent id: the demand's match with it} among ``patent_ids``."""
    if not patent_ids:
        return {}
    return {
        m.patent_id: m
        for m in db.session.scalars(
            sa.select(Match).where(Match.demand_id == demand_id, Match.patent_id.in_(patent_ids))
        )
    }


def queue_industries() -> list[tuple[str, str]]:
    """(section letter, 门类 name) of the open demands that have candidates: the filter's
    choices. Free text had listed 制造业, C3670 汽车零部件及配件制造 and 汽车零部件 apart."""
    letters = set(
        db.session.scalars(
            _joined(section_expr(Demand.industry))
            .where(
                Match.state == MatchState.CANDIDATE,
                Demand.status == DemandStatus.OPEN,
                Demand.industry.is_not(None),
                Demand.industry != "",
            )
            .distinct()
        )
    )
    return [(letter, name) for letter, name in SECTIONS.items() if letter in letters]


def queue_universities() -> list[tuple[int, str]]:
    """(id, name) of universities whose patents are candidates (the filter's choices)."""
    return [
        (r.id, r.name)
        for r in db.session.execute(
            _joined(Organization.id, Organization.name)
            .join(Organization, Organization.id == Patent.institution_id)
            .where(Match.state == MatchState.CANDIDATE, Demand.status == DemandStatus.OPEN)
            .distinct()
            .order_by(Organization.name)
        )
    ]


def demand_of(match_id: int) -> int | None:
    """The demand a match is for (None: no such match): the queue's anchor after a refusal."""
    return db.session.scalar(sa.select(Match.demand_id).where(Match.id == match_id))


def describe_matches(ids: list[int]) -> dict[int, str]:
    """``{match id: '需求“…” × 专利“…”'}`` for flash messages (missing ids are left out)."""
    if not ids:
        return {}
    rows = db.session.execute(
        _joined(Match.id, Demand.title.label("demand"), Patent.title.label("patent")).where(
            Match.id.in_(ids)
        )
    )
    return {r.id: f"需求“{r.demand}” × 专利“{r.patent}”" for r in rows}


# ---------------------------------------------------------------------------- rejections


@dataclass
class StatsFilters:
    university: int | None = None  # only for roles that see every university
    days: int | None = None  # decided within N days

    def to_args(self, **overrides: Any) -> dict[str, Any]:
        return _args(asdict(self), overrides)

    @property
    def active(self) -> bool:
        return bool(self.university or self.days)


def parse_stats_filters(args: Mapping[str, Any], user: User) -> StatsFilters:
    return StatsFilters(
        university=int_arg(args.get("university"), minimum=1)
        if sees_all_universities(user)
        else None,
        days=_days(args.get("days")),
    )


def _empty_reasons() -> dict[str, int]:
    return dict.fromkeys(REJECT_REASONS, 0)


@dataclass
class RejectionRow:
    """Rejections of one university or one patent: per-reason counts and the denominator."""

    id: int
    name: str
    rejected: int = 0
    decided: int = 0  # accepted + rejected
    reasons: dict[str, int] = field(default_factory=_empty_reasons)
    # patent rows only
    application_no: str = ""
    university: str = ""
    college: str = ""
    value_grade: int | None = None

    def add(self, state: MatchState, reason: str | None, n: int) -> None:
        self.decided += n
        if state == MatchState.REJECTED:
            self.rejected += n
            # Decisions validate the code against REJECT_REASONS; a code from elsewhere counts
            # as "other" so the columns always add up to the total.
            self.reasons["other" if reason not in REJECT_REASONS else reason] += n

    def top_reasons(self) -> list[tuple[str, str, int]]:
        """(code, label, count) of reasons used, most frequent first."""
        used = [(c, REJECT_REASONS[c], n) for c, n in self.reasons.items() if n]
        return sorted(used, key=lambda t: -t[2])


def _stats_where(user: User, f: StatsFilters) -> list[sa.ColumnElement[bool]]:
    clauses = [Match.state.in_(DECIDED), stats_scope_clause(user)]
    if f.university:
        clauses.append(Patent.institution_id == f.university)
    if f.days:
        clauses.append(Match.decided_at >= utcnow() - timedelta(days=f.days))
    return clauses


def _decided_from() -> sa.Select:
    return sa.select().select_from(Match).join(Patent, Patent.id == Match.patent_id)


def rejections_by_university(user: User, f: StatsFilters) -> list[RejectionRow]:
    """Universities with at least one rejection, most rejections first."""
    rows = db.session.execute(
        _decided_from()
        .add_columns(
            Patent.institution_id,
            Organization.name,
            Match.state,
            Match.reason_code,
            sa.func.count(),
        )
        .join(Organization, Organization.id == Patent.institution_id)
        .where(*_stats_where(user, f))
        .group_by(Patent.institution_id, Organization.name, Match.state, Match.reason_code)
    ).all()
    out: dict[int, RejectionRow] = {}
    for org_id, name, state, reason, n in rows:
        out.setdefault(org_id, RejectionRow(org_id, name)).add(state, reason, n)
    return sorted(
        (r for r in out.values() if r.rejected), key=lambda r: (-r.rejected, r.name, r.id)
    )


def rejections_by_patent(
    user: User, f: StatsFilters, limit: int | None = TOP_PATENTS
) -> list[RejectionRow]:
    """Patents with the most rejections (``limit`` None: every patent with one), with their
    per-reason counts and the number of decisions."""
    top = (
        _decided_from()
        .add_columns(Patent.id)
        .where(*_stats_where(user, f), Match.state == MatchState.REJECTED)
        .group_by(Patent.id)
        .order_by(sa.func.count().desc(), Patent.id)
    )
    if limit is not None:
        top = top.limit(limit)
    ids = list(db.session.scalars(top))
    if not ids:
        return []
    out: dict[int, RejectionRow] = {}
    patents = db.session.scalars(
        sa.select(Patent)
        .where(Patent.id.in_(ids))
        .options(joinedload(Patent.institution), joinedload(Patent.college))
    )
    for p in patents:
        out[p.id] = RejectionRow(
            p.id,
            p.title,
            application_no=p.application_no,
            university=p.institution.name,
            college=p.college.name if p.college else "",
            value_grade=p.value_grade,
        )
    rows = db.session.execute(
        _decided_from()
        .add_columns(Patent.id, Match.state, Match.reason_code, sa.func.count())
        .where(*_stats_where(user, f), Patent.id.in_(ids))
        .group_by(Patent.id, Match.state, Match.reason_code)
    )
    for pid, state, reason, n in rows:
        out[pid].add(state, reason, n)
    return sorted(out.values(), key=lambda r: (-r.rejected, r.id))


def reason_totals(rows: list[RejectionRow]) -> RejectionRow:
    """The sum of ``rows`` (the tables' total line)."""
    total = RejectionRow(0, "合计")
    for r in rows:
        total.rejected += r.rejected
        total.decided += r.decided
        for code, n in r.reasons.items():
            total.reasons[code] += n
    return total


def patent_feedback(patent_id: int) -> RejectionRow:
    """Decisions on one patent's matches: rejected / decided and the reasons."""
    row = RejectionRow(patent_id, "")
    for state, reason, n in db.session.execute(
        sa.select(Match.state, Match.reason_code, sa.func.count())
        .where(Match.patent_id == patent_id, Match.state.in_(DECIDED))
        .group_by(Match.state, Match.reason_code)
    ):
        row.add(state, reason, n)
    return row
