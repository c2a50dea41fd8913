"""The enterprise's view of one of its demands (read only): what the machine suggests, what is
under review, what was pushed (with the officer's note), how many were declined, its own
intents, and — when nothing fits — what it can do next.

What the enterprise is shown, and what it is not:

- suggestions: the engine's undecided proposals of 强 / 中 strength, for patents still in the
  pool, labelled 机器推荐，尚未经技术经理人审核, with their public fields, strength in words and
  reasons; grouped by sub-need; the weak ones (弱, below the bar) only on request, folded, as
  for officers — what a demand that abstains (暂无合适专利) can still look at;
- under review: a count of the undecided candidates officers see at once (weak machine
  proposals excluded); pushed: its deals; declined: a count only — never the reason code or
  the officer's comment (internal);
- unmet (暂无合适专利): it is open and was matched, nothing is pushed and nothing is
  under review — every candidate was declined, or the demand abstained (no candidate reached
  the bar); the dashboard's 未满足需求 counts it by the same rule;
- closed: who closed it, when and why; no suggestions and no "under review" — only the record
  of what was pushed, declined and asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from revive.accounts.models import User
from revive.deals.models import Deal
from revive.deals.queries import deals_of_demand
from revive.demands import permissions as demand_permissions
from revive.demands import queries as demand_queries
from revive.demands.models import Demand, DemandStatus
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent, TransferMode
from revive.inventory.public import PublicPatent, is_public, public_clause
from revive.matching import jobs
from revive.matching import queries as matching_queries
from revive.matching import strength as matching_strength
from revive.matching.models import (
    DemandReading,
    Match,
    MatchRun,
    MatchSource,
    MatchState,
)
from revive.pagination import Page, paginate
from revive.pool.queries import public_views


@dataclass
class Suggestion:
    match: Match
    patent: PublicPatent


@dataclass
class SuggestionGroup:
    index: int
    label: str
    items: list[Suggestion] = field(default_factory=list)


@dataclass
class IntentRow:
    match: Match
    patent: PublicPatent | None  # None: the patent has left the pool since
    title: str
    deal_id: int | None

    STATUS = {
        "pushed": "已推送",
        "declined": "未采纳",
        "reviewing": "审核中",
        "closed": "需求已关闭，不再审核",
    }

    @property
    def status_code(self) -> str:
        if self.match.state == MatchState.ACCEPTED:
            return "pushed"
        if self.match.state == MatchState.REJECTED:
            return "declined"
        if self.match.demand.status != DemandStatus.OPEN:  # officers no longer see it
            return "closed"
        return "reviewing"

    @property
    def status(self) -> str:
        return self.STATUS[self.status_code]


@dataclass
class PushedRow:
    """A patent an officer pushed to the demand: the accepted match and the deal it became
    (the note, the stage); a match accepted without the push (data from before the deal
    pipeline) has no deal."""

    match: Match
    deal: Deal | None

    @property
    def note(self) -> str | None:
        return self.deal.note if self.deal is not None else None

    @property
    def withdrawn(self) -> bool:
        """The school took the patent out of the pool after the push (撤回重审): the deal stays,
        but cannot be signed until it is entered again (an integrator saw it listed as pushed
        with no word of it)."""
        return self.match.patent.status != EntryStatus.ENTERED


# Cooperation modes the 放宽条件 hint suggests adding, most widely accepted by patents first.
WIDENING_MODES = (
    TransferMode.LICENSE,
    TransferMode.JOINT_DEV,
    TransferMode.ASSIGNMENT,
    TransferMode.EXCLUSIVE,
    TransferMode.OPEN_LICENSE,
    TransferMode.EQUITY,
)


@dataclass
class DemandOverview(matching_queries.ReadingFlags):
    demand: Demand
    run: MatchRun | None
    run_active: bool
    reading: DemandReading | None
    groups: list[SuggestionGroup]
    bar: float
    strong: float
    under_review: int
    declined: int
    pushed: list[PushedRow]
    intents: list[IntentRow]
    weak: list[Suggestion] = field(default_factory=list)  # 弱, shown on request
    closed_by: demand_queries.Closer | None = None  # who closed it (None while open)
    pool_empty: bool = False  # no patent entered yet on the whole platform (a new deployment)

    @property
    def suggestion_count(self) -> int:
        return sum(len(g.items) for g in self.groups)

    @property
    def per_need(self) -> int:
        """At most this many suggestions of each sub-need are listed (the page says so when
        more are under review: a tester read 「机器推荐 10 件」 beside 「审核中 11 条」)."""
        return matching_queries.SUGGESTIONS_PER_NEED

    @property
    def matched(self) -> bool:
        """Matching has read this demand at least once."""
        return self.reading is not None

    @property
    def unmet(self) -> bool:
        """暂无合适专利: an open demand, matched, with nothing pushed and nothing under
        review (the suggestions are among the candidates under review). The rule of the
        dashboard's 未满足需求 (revive.matching.queries.unmet_clause) for a matched demand:
        no accepted match and no candidate shown to officers (weak ones do not count)."""
        return (
            self.is_open
            and self.matched
            and not self.run_active
            and not self.pushed
            and not self.under_review
            and not self.suggestion_count
        )

    @property
    def is_open(self) -> bool:
        return self.demand.status == DemandStatus.OPEN

    @property
    def mostly_foreign(self) -> bool:
        """Written mostly in Latin letters: matching reads Chinese (the patents are Chinese), so
        the page asks for a Chinese description. A tester's English posting got 暂无 and advice
        to add detail, while the same text in Chinese found its patent at 强."""
        text = f"{self.demand.title} {self.demand.description or ''}"
        letters = sum(1 for c in text if c.isascii() and c.isalpha())
        han = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
        return letters >= 20 and han * 4 < letters

    @property
    def beyond_technology(self) -> bool:
        """The posting also asks for what patents cannot give (people, marketing, money,
        premises): the 暂无 advice then says so. A clear technical request was told it, and
        read it as a sign it had not been understood (an SME trial)."""
        text = f"{self.demand.title} {self.demand.description or ''}"
        return bool(_BEYOND_TECHNOLOGY.search(text))

    def broaden_hints(self) -> list[str]:
        """Concrete ways to widen the demand (放宽条件), from its own fields."""
        d, hints = self.demand, []
        modes = [m for m in (d.cooperation_modes or "").split(",") if m]
        # Only modes not chosen yet, the most widely accepted first.
        missing = [m for m in WIDENING_MODES if m.value not in modes]
        if modes and missing:
            labels = {m.value: m.label for m in TransferMode}
            chosen = "、".join(labels.get(m, m) for m in modes)
            more = "".join(f"“{m.label}”" for m in missing[:2])
            several = len(missing) > 1
            hints.append(
                f"期望合作方式目前只选了“{chosen}”：增加{more}{'等方式' if several else ''}，"
                f"可接受{'这些' if several else '这种'}方式的专利也会参与匹配"
            )
        if d.expected_trl and d.expected_trl > 3:
            hints.append(
                f"期望技术成熟度为 TRL {d.expected_trl}：适当放宽，"
                "可考虑与高校合作把成熟度较低的技术做成产品"
            )
        if not self.is_thin and _PRODUCT_CODE.search(f"{d.title} {d.description or ''}"):
            # a short posting is asked for more detail instead (a tester was told both); and
            # only a posting that uses product codes is told to avoid them
            hints.append("用更通用的说法描述要解决的问题，少用企业内部的产品型号和简称")
        return hints


# What patents cannot answer, named in a posting: 人才：…专家1名, 营销方案, 融资, 厂房 …
_BEYOND_TECHNOLOGY = re.compile(
    r"人才|专家\s*\d+\s*名|营销|销售渠道|市场推广|融资|资金|投资方|场地|厂房|招聘"
)
# A product code or model name: XJ-200, A3型, PPR20 (letters and digits run together)
_PRODUCT_CODE = re.compile(r"[A-Za-z]{1,6}-?\d{2,}|\d+\s*型|[A-Z]{2,}\d")


def _counts(demand_id: int) -> dict[str, int]:
    """Undecided candidates officers see at once (weak machine proposals left out), declined."""
    shown = sa.and_(Match.state == MatchState.CANDIDATE, ~matching_queries.WEAK)
    under_review, declined = db.session.execute(
        sa.select(
            sa.func.count(sa.case((shown, Match.id))),
            sa.func.count(sa.case((Match.state == MatchState.REJECTED, Match.id))),
        ).where(Match.demand_id == demand_id)
    ).one()
    return {"under_review": int(under_review or 0), "declined": int(declined or 0)}


def _suggestions(
    demand: Demand,
) -> tuple[list[SuggestionGroup], list[Suggestion], DemandReading | None]:
    dp = matching_queries.demand_proposals(demand, (MatchState.CANDIDATE,))

    def offered(matches: list[Match]) -> list[Match]:  # the machine's, patents in the pool
        kept = [m for m in matches if m.source == MatchSource.MACHINE and is_public(m.patent)]
        return kept[: matching_queries.SUGGESTIONS_PER_NEED]

    shown = [offered(g.matches) for g in dp.groups]
    weak = offered(dp.weak)
    views = {p.id: p for p in public_views([m.patent for ms in [*shown, weak] for m in ms])}
    groups = [
        SuggestionGroup(g.index, g.label, [Suggestion(m, views[m.patent_id]) for m in ms])
        for g, ms in zip(dp.groups, shown, strict=True)
    ]
    return groups, [Suggestion(m, views[m.patent_id]) for m in weak], dp.reading


def _pushed(user: User, demand: Demand) -> list[PushedRow]:
    accepted = list(
        db.session.scalars(
            sa.select(Match)
            .where(Match.demand_id == demand.id, Match.state == MatchState.ACCEPTED)
            .order_by(Match.decided_at.desc(), Match.id.desc())
        )
    )
    deals = {d.match_id: d for d in deals_of_demand(user, demand.id)}
    return [PushedRow(m, deals.get(m.id)) for m in accepted]


def _intents(demand: Demand) -> list[IntentRow]:
    matches = list(
        db.session.scalars(
            sa.select(Match)
            .where(Match.demand_id == demand.id, Match.intent_at.is_not(None))
            .order_by(Match.intent_at.desc(), Match.id.desc())
        )
    )
    return intent_rows(matches)


def intent_rows(matches: list[Match]) -> list[IntentRow]:
    """Rows for a list of intents: the public view of each patent still in the pool, and
    the deal an accepted one became."""
    public = [m.patent for m in matches if is_public(m.patent)]
    views = {p.id: p for p in public_views(public)}
    deals = dict(
        db.session.execute(
            sa.select(Deal.match_id, Deal.id).where(Deal.match_id.in_([m.id for m in matches]))
        ).all()
    )
    return [IntentRow(m, views.get(m.patent_id), m.patent.title, deals.get(m.id)) for m in matches]


def demand_overview(user: User, demand: Demand) -> DemandOverview | None:
    """The owning enterprise's view of its demand; None for anyone else."""
    if not demand_permissions.is_owner(user, demand):
        return None
    run = matching_queries.latest_run_for_demand(demand.id)
    groups, weak, reading = _suggestions(demand)
    closed_by = demand_queries.closed_by(demand)
    if closed_by is not None:  # no longer matched nor reviewed: nothing is suggested
        groups, weak = [], []
    bar, strong = matching_strength.thresholds()
    counts = _counts(demand.id)
    return DemandOverview(
        demand=demand,
        run=run,
        run_active=run is not None and run.status in jobs.ACTIVE,
        reading=reading,
        groups=groups,
        bar=bar,
        strong=strong,
        under_review=counts["under_review"],
        declined=counts["declined"],
        pushed=_pushed(user, demand),
        intents=_intents(demand),
        weak=weak,
        closed_by=closed_by,
        pool_empty=not weak and not any(g.items for g in groups) and _pool_is_empty(),
    )


def _pool_is_empty() -> bool:
    """No patent in the public pool at all: an unmet demand is then no fault of its text."""
    return db.session.scalar(sa.select(Patent.id).where(public_clause()).limit(1)) is None


def my_intents(user: User, page: int, per_page: int) -> Page:
    """The enterprise's intents across its demands, newest first (a Page of IntentRow)."""
    where = (
        Match.intent_at.is_not(None),
        Match.demand_id.in_(
            sa.select(Demand.id).where(Demand.enterprise_id == user.organization_id)
        ),
    )
    found = paginate(
        sa.select(Match).where(*where).order_by(Match.intent_at.desc(), Match.id.desc()),
        sa.select(sa.func.count(Match.id)).where(*where),
        page,
        per_page,
    )
    found.items = intent_rows(found.items)
    return found


def open_demands_of(user: User) -> list[Demand]:
    """The enterprise's open demands, newest first (an intent's choices)."""
    return list(
        db.session.scalars(
            sa.select(Demand)
            .where(Demand.enterprise_id == user.organization_id, Demand.status == DemandStatus.OPEN)
            .order_by(Demand.created_at.desc(), Demand.id.desc())
            .limit(200)
        )
    )


@dataclass
class Pairing:
    """Where one of the enterprise's demands stands with a patent, as the patent page says it.
    ``suggested``: the demand's page lists the pair among its 机器推荐 (强 / 中, within the
    page's cut); a weak candidate (below the bar) is not, and is never called one."""

    match: Match
    suggested: bool

    @property
    def code(self) -> str:
        m = self.match
        if m.state == MatchState.ACCEPTED:
            return "pushed"
        if m.state == MatchState.REJECTED:
            return "declined"
        if m.intent_at is not None:
            return "asked"
        if self.suggested:
            return "suggested"
        if matching_queries.is_weak(m):
            return "weak"
        if m.source == MatchSource.OFFICER:
            return "officer"
        return "unlisted"  # a machine candidate below the page's cut

    @property
    def open_to_intent(self) -> bool:
        return self.code in ("suggested", "weak", "officer", "unlisted")


def pairs_with(user: User, patent: Patent) -> dict[int, Pairing]:
    """{demand id: pairing} of the enterprise's demands already paired with this patent."""
    matches = list(
        db.session.scalars(
            sa.select(Match)
            .join(Demand, Demand.id == Match.demand_id)
            .where(Match.patent_id == patent.id, Demand.enterprise_id == user.organization_id)
        )
    )
    listed = matching_queries.suggested_ids(
        [m.demand_id for m in matches if m.state == MatchState.CANDIDATE]
    )
    return {m.demand_id: Pairing(m, m.id in listed) for m in matches}


def best_demand(demands: list[Demand], pairs: dict[int, Pairing]) -> int | None:
    """The open demand an intent for this patent most likely belongs to: the one whose
    candidate the patent is with the highest strength (a 机器推荐 before a weak one, which the
    strength orders already), among pairs still open to an intent; None when no open demand
    has it as a candidate."""
    open_ids = {d.id for d in demands}
    ranked = [
        p.match for demand_id, p in pairs.items() if demand_id in open_ids and p.open_to_intent
    ]
    if not ranked:
        return None
    best = min(
        ranked,
        key=lambda m: (
            m.strength is None,
            -(m.strength or 0.0),
            -(m.score or 0.0),
            m.demand_id,
        ),
    )
    return best.demand_id
