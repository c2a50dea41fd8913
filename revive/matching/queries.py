"""Read helpers for matching pages and the API (no writes, no commits)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from revive import engine
from revive.accounts.models import User
from revive.demands.models import Demand, DemandStatus
from revive.errors import NotFoundError
from revive.extensions import db
from revive.inventory.models import Patent
from revive.inventory.public import public_clause
from revive.matching import holds
from revive.matching import strength as matching_strength
from revive.matching.models import (
    DemandReading,
    IndexBuild,
    Match,
    MatchRun,
    MatchSource,
    MatchState,
    MatchTier,
    RunStatus,
    StrengthModelVersion,
)
from revive.matching.permissions import is_staff, owns_demand

_STATE_ORDER = sa.case(
    {MatchState.ACCEPTED: 0, MatchState.CANDIDATE: 1, MatchState.REJECTED: 2},
    value=Match.state,
    else_=3,
)
# Accepted first (pushed), then candidates by strength (rows from before strength: by score);
# rejected last (staff only).
_BY_STRENGTH = (
    _STATE_ORDER,
    Match.strength.is_(None),
    Match.strength.desc(),
    Match.score.desc(),
)


def matches_for_demand(user: User, demand: Demand) -> list[Match]:
    """Staff: every match of the demand; the owning enterprise: pushed (accepted) ones."""
    stmt = (
        sa.select(Match)
        .where(Match.demand_id == demand.id)
        .options(
            joinedload(Match.patent).joinedload(Patent.institution),
            joinedload(Match.patent).joinedload(Patent.college),
        )
        .order_by(*_BY_STRENGTH, Match.id)
    )
    if not is_staff(user):
        if not owns_demand(user, demand):
            return []
        stmt = stmt.where(Match.state == MatchState.ACCEPTED)
    return list(db.session.scalars(stmt))


def latest_run_for_demand(demand_id: int) -> MatchRun | None:
    return db.session.scalar(
        sa.select(MatchRun)
        .where(MatchRun.demand_id == demand_id)
        .order_by(MatchRun.id.desc())
        .limit(1)
    )


def active_build_in_progress() -> IndexBuild | None:
    return db.session.scalar(
        sa.select(IndexBuild)
        .where(IndexBuild.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)))
        .order_by(IndexBuild.id.desc())
        .limit(1)
    )


def recent_builds(limit: int = 10) -> list[IndexBuild]:
    return list(
        db.session.scalars(sa.select(IndexBuild).order_by(IndexBuild.id.desc()).limit(limit))
    )


def recent_runs(limit: int = 20) -> list[MatchRun]:
    return list(
        db.session.scalars(
            sa.select(MatchRun)
            .options(joinedload(MatchRun.demand))
            .order_by(MatchRun.id.desc())
            .limit(limit)
        )
    )


def count_matches_by_state() -> dict[str, int]:
    rows = db.session.execute(sa.select(Match.state, sa.func.count()).group_by(Match.state))
    return {state.value: n for state, n in rows}


def get_run_for(user: User, run_id: int) -> MatchRun:
    """Staff: any run; an enterprise: runs of its own demands; 404 otherwise."""
    run = db.session.get(MatchRun, run_id)
    if run is not None and (
        is_staff(user) or (run.demand is not None and owns_demand(user, run.demand))
    ):
        return run
    raise NotFoundError("匹配任务不存在或您无权查看")


def get_build_for(user: User, build_id: int) -> IndexBuild:
    build = db.session.get(IndexBuild, build_id)
    if build is None or not is_staff(user):
        raise NotFoundError("索引构建记录不存在或您无权查看")
    return build


def get_match_for(user: User, match_id: int) -> Match:
    """Staff: any match; the owning enterprise: an accepted match of its demand; 404 otherwise."""
    match = db.session.get(Match, match_id)
    if match is not None:
        if is_staff(user):
            return match
        if match.state == MatchState.ACCEPTED and owns_demand(user, match.demand):
            return match
    raise NotFoundError("匹配结果不存在或您无权查看")


@dataclass
class StrengthOverview:
    """The engine page's strength section: the model in use, what its word rates learned and
    the latest refits."""

    model: Any  # engine.StrengthModel in use
    active: StrengthModelVersion | None  # None: the shipped judged-set model
    bar: float
    strong: float
    refits: list[StrengthModelVersion]
    learned: LearnedWords | None = None  # None: a model without word rates
    associations: LearnedAssociations | None = None  # None: a model without associations


@dataclass
class LearnedWord:
    word: str
    relevant: int  # judged or decided pairs sharing the word that were relevant
    seen: int  # judged or decided pairs sharing it

    @property
    def rate(self) -> float:
        return self.relevant / self.seen


@dataclass
class LearnedWords:
    """The shared words whose pairs were most and least often relevant (at least
    ``min_pairs`` pairs each), out of ``words`` counted over ``pairs`` word occurrences;
    ``base``: the share relevant over all of them."""

    fruitful: list[LearnedWord]
    barren: list[LearnedWord]
    words: int
    pairs: int
    base: float
    min_pairs: int


LEARNED_MIN_PAIRS = 20  # a rate from fewer pairs is mostly smoothing


def learned_words(model: Any, n: int = 8) -> LearnedWords | None:
    """What the model's word rates (engine.WordRates) learned, for people to check."""
    rates = getattr(model, "rates", None)
    if rates is None or not rates.counts:
        return None
    often = [LearnedWord(w, r, s) for w, (r, s) in rates.counts.items() if s >= LEARNED_MIN_PAIRS]
    order = sorted(often, key=lambda x: (-rates.value([x.word]), -x.seen, x.word))
    pairs = sum(s for _, s in rates.counts.values())
    return LearnedWords(
        order[:n], order[n:][::-1][:n], len(rates.counts), pairs, rates.base, LEARNED_MIN_PAIRS
    )


@dataclass
class LearnedAssociation:
    """A demand word and the patent words the model learned go with it (``Associations``):
    ``postings`` demands using it had a relevant patent (``accepted`` of them by officers'
    accepted pairs, the rest judged); each associate with the demands behind it."""

    word: str
    postings: int
    accepted: int
    associates: list[tuple[str, int]]


@dataclass
class LearnedAssociations:
    """The demand words whose best associate most demands stand behind (``common``) and, for
    a refit that counted officers' accepted pairs, those the accepted pairs added most demands
    to (``decided``); ``words``: demand words listed with an associate (filler left out);
    ``accepted_demands``: demands whose accepted patents were counted."""

    common: list[LearnedAssociation]
    decided: list[LearnedAssociation]
    words: int
    accepted_demands: int


def learned_associations(model: Any, n: int = 8, per_word: int = 5) -> LearnedAssociations | None:
    """What the model's associations learned, for people to check: demand words that are not
    filler, each with its associates (not the word itself) by the demands behind them, then
    lift; the words listed first are those whose best associate most demands stand behind
    (电梯 → 轿厢 17), not merely the most used (生产, 设备: common words with weak associates)."""
    table = getattr(model, "associations", None)
    if table is None or not table.pairs:
        return None
    from revive.engine.reasons import filler

    accepted = table.accepted.demands if table.accepted is not None else ()
    by_accepted: dict[str, int] = {}
    for words, patents in accepted:
        if patents:
            for u in words:
                by_accepted[u] = by_accepted.get(u, 0) + 1
    skip = filler()
    shown: dict[str, list[tuple[str, int]]] = {}
    for u in table.pairs:
        if len(u) < 2 or u in skip:
            continue
        pairs = table.pairs[u]
        best = sorted(
            ((v, lift) for v, lift in table.associates(u) if v != u),
            key=lambda x: (-pairs[x[0]][0], -x[1], x[0]),
        )
        if best:
            shown[u] = [(v, pairs[v][0]) for v, _ in best[:per_word]]

    def item(u: str) -> LearnedAssociation:
        return LearnedAssociation(u, table.postings[u], by_accepted.get(u, 0), shown[u])

    common = sorted(shown, key=lambda u: (-shown[u][0][1], -table.postings[u], u))[:n]
    decided = sorted((u for u in shown if by_accepted.get(u)), key=lambda u: (-by_accepted[u], u))
    return LearnedAssociations(
        [item(u) for u in common],
        [item(u) for u in decided[:n]],
        len(shown),
        sum(1 for _, patents in accepted if patents),
    )


def strength_overview(limit: int = 10) -> StrengthOverview:
    model = matching_strength.active_strength_model()
    bar, strong = matching_strength.thresholds(model)
    refits = list(
        db.session.scalars(
            sa.select(StrengthModelVersion)
            .options(joinedload(StrengthModelVersion.requested_by))
            .order_by(StrengthModelVersion.id.desc())
            .limit(limit)
        )
    )
    return StrengthOverview(
        model,
        matching_strength.active_strength_row(),
        bar,
        strong,
        refits,
        learned_words(model),
        learned_associations(model),
    )


# ---------------------------------------------------------------------------- proposals


@dataclass
class NeedGroup:
    """The proposals answering one sub-need (index into the reading's needs)."""

    index: int
    label: str
    matches: list[Match]


class ReadingFlags:
    """How matching read a demand, for the pages that list its proposals: ``reading`` is the
    demand's DemandReading, or None before its first run."""

    reading: DemandReading | None

    @property
    def is_thin(self) -> bool:
        return bool(self.reading and self.reading.is_thin)

    @property
    def is_multi(self) -> bool:
        return bool(self.reading and self.reading.is_multi)

    @property
    def is_short(self) -> bool:
        """Thin, or few content words: its strengths are read on the short postings' measure
        (engine/reliability.py)."""
        return read_as_short(self.reading)

    def elsewhere(self, match: Match) -> set[str]:
        """The match's reasons that its sub-need does not say (DemandReading.elsewhere)."""
        return self.reading.elsewhere(match.need, match.reasons) if self.reading else set()


@dataclass
class DemandProposals(ReadingFlags):
    """A demand's proposals as people are shown them, with how matching read the demand.

    ``matches``: every match asked for, accepted → candidates by strength → rejected.
    ``groups``: the undecided candidates that are shown at once, by sub-need (one group,
    label "", for a single-need posting) — the latest run's ranking; ``weak``: undecided
    candidates below the bar (弱), shown only on request; ``decided``: accepted and rejected
    pairs, shown apart with the rank they were decided at (a re-run ranks the others 1…n
    without them: a tester saw ranks 1–20 twice after re-matching a demand).
    ``abstains``: no candidate reached the bar and nothing was accepted —
    暂无合适专利. ``is_thin``: too little technical detail (ask the enterprise for more).
    """

    demand: Demand
    reading: DemandReading | None
    matches: list[Match]
    groups: list[NeedGroup]
    weak: list[Match]
    bar: float
    strong: float
    past: dict[int, str] = field(default_factory=dict)  # past_deals
    decided: list[Match] = field(default_factory=list)

    @property
    def ranked(self) -> int:
        """How many candidates hold a place in the latest ranking (the "共 n")."""
        return sum(1 for m in self.matches if m.rank and m.state == MatchState.CANDIDATE)

    @property
    def abstains(self) -> bool:
        accepted = any(m.state == MatchState.ACCEPTED for m in self.matches)
        return bool(self.reading and self.reading.is_abstaining and not accepted)

    def need_label(self, match: Match) -> str:
        return self.reading.need_label(match.need) if self.reading else ""


def is_weak(match: Match) -> bool:
    """An undecided machine candidate below the bar (rows from before strength are never
    weak; a pair a person brought — an intent, an officer's pick — is always shown)."""
    return (
        match.state == MatchState.CANDIDATE
        and match.tier == MatchTier.WEAK
        and match.source == MatchSource.MACHINE
        and match.intent_at is None
    )


# ``is_weak`` as SQL (its tier test NULL-safe, so the clause can be negated): for counting
# what is shown without loading the matches.
WEAK = sa.and_(
    Match.state == MatchState.CANDIDATE,
    Match.tier.is_not(None),
    Match.tier == MatchTier.WEAK,
    Match.source == MatchSource.MACHINE,
    Match.intent_at.is_(None),
)


# A candidate officers review at once: undecided and not weak (the queue's listed ones, the
# enterprise page's 审核中).
LISTED = sa.and_(Match.state == MatchState.CANDIDATE, ~WEAK)


def unmet_clause() -> sa.ColumnElement[bool]:
    """未满足需求 / 暂无合适专利, one rule for the dashboard and the enterprise's demand
    page (revive.pool.status.DemandOverview.unmet): an open demand with no accepted match and
    no candidate officers review — never matched, every candidate declined, or only weak
    candidates (below the bar: the demand abstained)."""
    live = sa.exists().where(
        Match.demand_id == Demand.id, sa.or_(Match.state == MatchState.ACCEPTED, LISTED)
    )
    return sa.and_(Demand.status == DemandStatus.OPEN, ~live)


def pending_counts() -> tuple[int, int]:
    """(candidates the review queue lists, weak candidates it folds) on open demands: the
    queue's 待审核, as the engine page reports it."""
    listed, weak = db.session.execute(
        sa.select(
            sa.func.count(sa.case((LISTED, Match.id))),
            sa.func.count(sa.case((WEAK, Match.id))),
        )
        .join(Demand, Demand.id == Match.demand_id)
        .where(Match.state == MatchState.CANDIDATE, Demand.status == DemandStatus.OPEN)
    ).one()
    return int(listed or 0), int(weak or 0)


def need_group(need: int | None, n_needs: int) -> int:
    """The group a match of sub-need ``need`` is shown in, for a reading of ``n_needs``
    sub-needs: its own for a multi-need posting, else the first (one group)."""
    return need if n_needs > 1 and need is not None and 0 <= need < n_needs else 0


def group_by_need(
    matches: list[Match], reading: DemandReading | None
) -> tuple[list[NeedGroup], list[Match]]:
    """(shown matches by sub-need, in the order given; weak candidates)."""
    needs = (reading.needs if reading else None) or [{"label": "", "text": ""}]
    multi = len(needs) > 1
    groups = [NeedGroup(i, n.get("label", "") if multi else "", []) for i, n in enumerate(needs)]
    weak: list[Match] = []
    for m in matches:
        if is_weak(m):
            weak.append(m)
        else:
            groups[need_group(m.need, len(groups))].matches.append(m)
    return groups, weak


# The enterprise's own demand page lists at most this many machine suggestions per sub-need
# (revive.pool.status); the dashboard counts them the same way (suggestion_counts).
SUGGESTIONS_PER_NEED = 10
# What the demand page may list as 机器推荐: listed machine candidates (undecided, not weak)
# of patents still in the pool (a query joining Patent).
SUGGESTABLE = (LISTED, Match.source == MatchSource.MACHINE, public_clause())


def suggestion_counts(enterprise_id: int) -> dict[int, int]:
    """{demand id: machine suggestions its demand page lists} for an enterprise's demands:
    undecided machine candidates that are not weak, for patents still in the pool (入库), at
    most SUGGESTIONS_PER_NEED per sub-need — the rules of ``revive.pool.status``, in two
    queries whatever the number of demands (a demand with none is left out)."""
    own = sa.select(Demand.id).where(Demand.enterprise_id == enterprise_id)
    rows = db.session.execute(
        sa.select(Match.demand_id, Match.need)
        .join(Patent, Patent.id == Match.patent_id)
        .where(Match.demand_id.in_(own), *SUGGESTABLE)
    ).all()
    if not rows:
        return {}
    n_needs = {
        demand_id: len(needs or ()) or 1
        for demand_id, needs in db.session.execute(
            sa.select(DemandReading.demand_id, DemandReading.needs).where(
                DemandReading.demand_id.in_(own)
            )
        )
    }
    per_need = Counter((d, need_group(need, n_needs.get(d, 1))) for d, need in rows)
    counts: Counter[int] = Counter()
    for (demand_id, _), n in per_need.items():
        counts[demand_id] += min(n, SUGGESTIONS_PER_NEED)
    return dict(counts)


def suggested_ids(demand_ids: list[int]) -> set[int]:
    """Ids of the matches the demands' own pages list as machine suggestions (机器推荐):
    undecided machine candidates that are not weak, for patents still in the pool, the first
    SUGGESTIONS_PER_NEED of each sub-need by strength — the rules of ``revive.pool.status``,
    in two queries (a weak candidate, or one below the page's cut, is not among them)."""
    if not demand_ids:
        return set()
    rows = db.session.execute(
        sa.select(Match.id, Match.demand_id, Match.need)
        .join(Patent, Patent.id == Match.patent_id)
        .where(Match.demand_id.in_(demand_ids), *SUGGESTABLE)
        .order_by(*_BY_STRENGTH, Match.id)
    ).all()
    readings = readings_for(sorted({d for _, d, _ in rows}))
    n_needs = {d: len(r.needs or ()) or 1 for d, r in readings.items()}
    listed: Counter[tuple[int, int]] = Counter()
    found: set[int] = set()
    for match_id, demand_id, need in rows:
        group = (demand_id, need_group(need, n_needs.get(demand_id, 1)))
        if listed[group] < SUGGESTIONS_PER_NEED:
            listed[group] += 1
            found.add(match_id)
    return found


def readings_for(demand_ids: list[int]) -> dict[int, DemandReading]:
    if not demand_ids:
        return {}
    return {
        r.demand_id: r
        for r in db.session.scalars(
            sa.select(DemandReading).where(DemandReading.demand_id.in_(demand_ids))
        )
    }


def short_demands(demand_ids: list[int]) -> set[int]:
    """The demands among ``demand_ids`` whose strengths are read on the short postings'
    measure (ReadingFlags.is_short): every page showing one of their candidates' strength
    passes it, so the match page and the patent page show the figure the demand's list shows
    (an SME trial saw 约 50% on the list and 实测约 62% on the match page)."""
    return {demand_id for demand_id, r in readings_for(demand_ids).items() if read_as_short(r)}


def read_as_short(reading: DemandReading | None) -> bool:
    """Is a demand read as short (thin, or few content words): the engine's rule on its
    stored reading; False before its first run."""
    return bool(reading and engine.reliability.is_short(reading.content_words, reading.is_thin))


def demand_proposals(
    demand: Demand, states: tuple[MatchState, ...] | None = None
) -> DemandProposals:
    """A demand's proposals (``states``: only those; None: all) with their strength, tier,
    sub-need and reasons, grouped as shown, and the demand's reading (thin, abstaining).
    No permission check: callers decide who sees which states (proposals_for_demand below;
    the enterprise's own view of its demand, issue 14, builds on this)."""
    stmt = (
        sa.select(Match)
        .where(Match.demand_id == demand.id)
        .options(
            joinedload(Match.patent).joinedload(Patent.institution),
            joinedload(Match.patent).joinedload(Patent.college),
        )
        .order_by(*_BY_STRENGTH, Match.id)
    )
    if states is not None:
        stmt = stmt.where(Match.state.in_(states))
    matches = list(db.session.scalars(stmt))
    reading = db.session.get(DemandReading, demand.id)
    undecided = [m for m in matches if m.state == MatchState.CANDIDATE]
    groups, weak = group_by_need(undecided, reading)
    bar, strong = matching_strength.thresholds()
    decided = [m for m in matches if m.state != MatchState.CANDIDATE]
    return DemandProposals(
        demand, reading, matches, groups, weak, bar, strong, past_deals(matches), decided
    )


def past_deals(matches: list[Match]) -> dict[int, str]:
    """{match id: "曾对接未成交（2026-03-01：价格未谈拢）"} for the undecided candidates whose
    enterprise already had a deal on the patent that ended without a contract: proposed
    again (the reason may have gone), marked so the officer knows (holds.failed_deals)."""
    open_ = [m for m in matches if m.state == MatchState.CANDIDATE]
    if not open_:
        return {}
    failed = holds.failed_deals({m.patent_id for m in open_})
    out: dict[int, str] = {}
    for m in open_:
        found = failed.get((m.patent_id, m.demand.enterprise_id))
        if found is not None:
            out[m.id] = found.text
    return out


def proposals_for_demand(user: User, demand: Demand) -> DemandProposals:
    """Staff: every match of the demand; the owning enterprise: pushed (accepted) ones."""
    if is_staff(user):
        return demand_proposals(demand)
    if owns_demand(user, demand):
        return demand_proposals(demand, (MatchState.ACCEPTED,))
    return demand_proposals(demand, ())


def ranked_count(demand_id: int) -> int:
    """How many of the demand's undecided candidates hold a place in its latest ranking
    (``Match.rank``): the denominator of "第 4 名" (a decided pair shows the rank it was
    decided at, 审核时第 n 名, without one)."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count(Match.id)).where(
                Match.demand_id == demand_id,
                Match.rank.is_not(None),
                Match.state == MatchState.CANDIDATE,
            )
        )
        or 0
    )


def need_label_of(match: Match) -> str:
    """The label of the sub-need a match answers ("" for a single-need posting)."""
    reading = db.session.get(DemandReading, match.demand_id)
    return reading.need_label(match.need) if reading is not None and reading.is_multi else ""
