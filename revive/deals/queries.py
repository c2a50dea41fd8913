"""Read helpers for the board, deal lists, panels and the overdue scan (no writes)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from revive.accounts.models import Organization, User
from revive.clock import local_date
from revive.db import as_utc, utcnow
from revive.deals.models import (
    EXCLUSIVE_SCOPES,
    Contract,
    ContractKind,
    Deal,
    DealEvent,
    Stage,
)
from revive.deals.permissions import visible_deals_clause
from revive.deals.workflow import OPEN_STAGES
from revive.demands.export import DemandProgress
from revive.extensions import db
from revive.inventory.models import Patent
from revive.matching import queries as matching_queries
from revive.matching.models import Match, MatchSource, MatchState
from revive.notifications.models import Notification
from revive.pagination import Page, paginate, streamed
from revive.web import int_arg

BOARD_COLUMN_LIMIT = 100  # cards per stage column; the column header shows the full count
# 已签约 / 未成交 on the full board: the latest few, with a link to that stage alone (every
# past deal made the board ~2,400 px tall, UX review o-deals-d)
BOARD_CLOSED_LIMIT = 8


def days_in_stage(deal: Deal, now: datetime | None = None) -> int:
    """Whole days since the deal entered its current stage."""
    changed = as_utc(deal.stage_changed_at) or as_utc(deal.pushed_at)
    if changed is None:
        return 0
    return max(0, ((now or utcnow()) - changed).days)


def days_in_stage_over(days: int, now: datetime | None = None) -> sa.ColumnElement[bool]:
    """``days_in_stage(deal) > days`` as SQL: the same whole-day count the board and the deal
    page show, so a deal shown as 「14 天」 is not "over 14 days" (it needs 15 whole days)."""
    return Deal.stage_changed_at <= (now or utcnow()) - timedelta(days=days + 1)


def _answer_due(deal: Deal) -> datetime | None:
    """The answer's deadline while one is awaited (open, not answered; awaiting_clause in
    Python), else None."""
    if deal.stage not in OPEN_STAGES or deal.response is not None:
        return None
    return as_utc(deal.response_due_at)


def is_overdue(deal: Deal, now: datetime | None = None) -> bool:
    """Open, the university has not answered, and the answer was due."""
    due = _answer_due(deal)
    return due is not None and due < (now or utcnow())


def answer_days_left(deal: Deal, now: datetime | None = None) -> int | None:
    """Calendar days (Beijing time) from today to the answer's due date: negative once
    overdue; None when no answer is awaited (answered, closed, or no deadline)."""
    due = _answer_due(deal)
    return None if due is None else (local_date(due) - local_date(now or utcnow())).days


def awaiting_clause() -> sa.ColumnElement[bool]:
    """Open deals the university has not answered yet (the board's 只看待高校答复, the
    dashboard's 待答复, 今日待办 and the menu badge: one rule)."""
    return sa.and_(Deal.responded_at.is_(None), Deal.stage.in_(OPEN_STAGES))


def overdue_clause(now: datetime | None = None) -> sa.ColumnElement[bool]:
    """Awaiting an answer past the deadline (the partial index ix_deals_unanswered_due)."""
    return sa.and_(awaiting_clause(), Deal.response_due_at < (now or utcnow()))


# ---------------------------------------------------------------------------- filters


@dataclass
class Filters:
    university_id: int | None = None
    enterprise_id: int | None = None
    officer_id: int | None = None
    stage: Stage | None = None
    overdue: bool = False
    awaiting: bool = False  # open and not answered yet (今日待办's 待答复 links here)
    page: int = 1

    def to_args(self, **overrides: Any) -> dict[str, Any]:
        data = {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(self).items()}
        data.update(overrides)
        for flag in ("overdue", "awaiting"):
            if data.get(flag):
                data[flag] = 1
        return {
            k: v
            for k, v in data.items()
            if v not in (None, "", False, 0) and not (k == "page" and v == 1)
        }

    @property
    def active(self) -> bool:
        return any(
            (
                self.university_id,
                self.enterprise_id,
                self.officer_id,
                self.stage,
                self.overdue,
                self.awaiting,
            )
        )


def parse_filters(args: Mapping[str, Any]) -> Filters:
    """Filters from a query string; unknown values are ignored, not errors."""
    try:
        stage = Stage(args.get("stage")) if args.get("stage") else None
    except ValueError:
        stage = None
    return Filters(
        university_id=int_arg(args.get("university")),
        enterprise_id=int_arg(args.get("enterprise")),
        officer_id=int_arg(args.get("officer")),
        stage=stage,
        overdue=str(args.get("overdue", "")).lower() in {"1", "true", "yes", "on"},
        awaiting=str(args.get("awaiting", "")).lower() in {"1", "true", "yes", "on"},
        page=int_arg(args.get("page"), 1, minimum=1),
    )


def filter_args(f: Filters) -> dict[str, Any]:
    """The query string that gives ``f`` back (what the board's links carry)."""
    args: dict[str, Any] = {
        "university": f.university_id,
        "enterprise": f.enterprise_id,
        "officer": f.officer_id,
        "stage": f.stage.value if f.stage else None,
        "overdue": "1" if f.overdue else None,
        "awaiting": "1" if f.awaiting else None,
        "page": f.page if f.page > 1 else None,
    }
    return {k: v for k, v in args.items() if v}


def where_clauses(user: User, f: Filters) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = [visible_deals_clause(user)]
    if f.university_id:
        clauses.append(Deal.university_id == f.university_id)
    if f.enterprise_id:
        clauses.append(Deal.enterprise_id == f.enterprise_id)
    if f.officer_id:
        clauses.append(Deal.officer_id == f.officer_id)
    if f.stage:
        clauses.append(Deal.stage == f.stage)
    if f.overdue:
        clauses.append(overdue_clause())
    if f.awaiting:
        clauses.append(awaiting_clause())
    return clauses


_CARD_LOAD = (
    joinedload(Deal.demand),
    joinedload(Deal.patent),
    joinedload(Deal.university),
    joinedload(Deal.enterprise),
    joinedload(Deal.officer),
)


def column_limit(stage: Stage, f: Filters) -> int:
    """Cards a column shows: a closed stage's latest few on the full board, up to
    BOARD_COLUMN_LIMIT when the board shows that stage alone or for open stages."""
    if stage in OPEN_STAGES or f.stage is not None:
        return BOARD_COLUMN_LIMIT
    return BOARD_CLOSED_LIMIT


def board(user: User, f: Filters) -> dict[Stage, dict[str, Any]]:
    """Per stage: {"deals": newest-changed first (capped), "total": count}."""
    clauses = where_clauses(user, f)
    counts = dict(
        db.session.execute(
            sa.select(Deal.stage, sa.func.count(Deal.id)).where(*clauses).group_by(Deal.stage)
        ).all()
    )
    columns: dict[Stage, dict[str, Any]] = {}
    for stage in Stage:
        if f.stage and stage != f.stage:
            continue
        deals: list[Deal] = []
        if counts.get(stage):
            deals = list(
                db.session.scalars(
                    sa.select(Deal)
                    .options(*_CARD_LOAD)
                    .where(*clauses, Deal.stage == stage)
                    # longest-waiting open deals first; finished ones newest first
                    .order_by(
                        Deal.stage_changed_at.asc()
                        if stage in OPEN_STAGES
                        else Deal.stage_changed_at.desc(),
                        Deal.id,
                    )
                    .limit(column_limit(stage, f))
                )
            )
        columns[stage] = {"deals": deals, "total": int(counts.get(stage, 0))}
    return columns


EXPORT_BATCH = 1000


def export_deals(user: User, f: Filters) -> Iterator[Deal]:
    """Every deal the board shows for these filters — all of them, not the board's first
    BOARD_COLUMN_LIMIT of a stage — by 对接编号, with the demand, the organisations, the patent
    and its college, the officer and the contract loaded in the same query (streamed in
    batches of EXPORT_BATCH)."""
    stmt = (
        sa.select(Deal)
        .options(
            *_CARD_LOAD,
            joinedload(Deal.patent).joinedload(Patent.college),
            joinedload(Deal.contract),
        )
        .where(*where_clauses(user, f))
        .order_by(Deal.id)
    )
    return streamed(stmt, batch=EXPORT_BATCH, scalars=True)


def export_count(user: User, f: Filters, limit: int | None = None) -> int:
    """How many deals ``export_deals`` gives; with ``limit``, at most that many."""
    ids = sa.select(Deal.id).where(*where_clauses(user, f))
    if limit is not None:
        ids = ids.limit(limit)
    return db.session.scalar(sa.select(sa.func.count()).select_from(ids.subquery())) or 0


# ---------------------------------------------------------------------------- demand progress


def demand_progress(user: User, demand_ids: list[int]) -> dict[int, DemandProgress]:
    """{demand id: how far it got} for the demands' export (demands.export.register_progress),
    counted by the rules of the demand's own pages, a few queries for the whole batch:

    - 机器推荐: the matches its page lists as machine suggestions
      (``matching.queries.suggested_ids``: undecided, not weak, patent still in the pool, at
      most SUGGESTIONS_PER_NEED a sub-need — the 我的需求 list's and the dashboard's figure);
    - 已推送: its accepted matches (the page's 已推送给您 N 件);
    - 对接中 / 已签约: its deals the viewer sees, still open (OPEN_STAGES) / signed.

    The caller decides whose progress ``user`` may see (demands.permissions.can_see_progress).
    """
    if not demand_ids:
        return {}
    listed = matching_queries.suggested_ids(demand_ids)
    suggested: Counter[int] = Counter()
    if listed:
        # the suggestions are among these (listed machine candidates): no IN list of ids
        candidates = db.session.execute(
            sa.select(Match.id, Match.demand_id).where(
                Match.demand_id.in_(demand_ids),
                matching_queries.LISTED,
                Match.source == MatchSource.MACHINE,
            )
        )
        suggested.update(demand_id for match_id, demand_id in candidates if match_id in listed)
    pushed = dict(
        db.session.execute(
            sa.select(Match.demand_id, sa.func.count(Match.id))
            .where(Match.demand_id.in_(demand_ids), Match.state == MatchState.ACCEPTED)
            .group_by(Match.demand_id)
        ).all()
    )
    deals = {
        demand_id: (int(open_), int(signed))
        for demand_id, open_, signed in db.session.execute(
            sa.select(
                Deal.demand_id,
                sa.func.count(sa.case((Deal.stage.in_(OPEN_STAGES), Deal.id))),
                sa.func.count(sa.case((Deal.stage == Stage.SIGNED, Deal.id))),
            )
            .where(Deal.demand_id.in_(demand_ids), visible_deals_clause(user))
            .group_by(Deal.demand_id)
        )
    }
    return {
        demand_id: DemandProgress(
            suggested=suggested[demand_id],
            pushed=int(pushed.get(demand_id, 0)),
            open=deals.get(demand_id, (0, 0))[0],
            signed=deals.get(demand_id, (0, 0))[1],
        )
        for demand_id in demand_ids
    }


def list_page(user: User, f: Filters, per_page: int) -> Page:
    """One page of visible deals, most recently changed first."""
    clauses = where_clauses(user, f)
    stmt = (
        sa.select(Deal)
        .options(*_CARD_LOAD, selectinload(Deal.contract))
        .where(*clauses)
        .order_by(Deal.stage_changed_at.desc(), Deal.id.desc())
    )
    return paginate(stmt, sa.select(sa.func.count(Deal.id)).where(*clauses), f.page, per_page)


def filter_options(user: User) -> dict[str, list[tuple[int, str]]]:
    """Universities, enterprises and officers that occur in the user's visible deals."""
    visible = visible_deals_clause(user)

    def orgs(column: Any) -> list[tuple[int, str]]:
        ids = sa.select(column).where(visible).distinct()
        rows = db.session.execute(
            sa.select(Organization.id, Organization.name)
            .where(Organization.id.in_(ids))
            .order_by(Organization.name)
        )
        return [(i, n) for i, n in rows]

    officer_ids = sa.select(Deal.officer_id).where(visible, Deal.officer_id.is_not(None))
    officers = db.session.execute(
        sa.select(User.id, User.name).where(User.id.in_(officer_ids.distinct())).order_by(User.name)
    )
    return {
        "universities": orgs(Deal.university_id),
        "enterprises": orgs(Deal.enterprise_id),
        "officers": [(i, n) for i, n in officers],
    }


def events_of(deal: Deal) -> list[DealEvent]:
    return list(
        db.session.scalars(
            sa.select(DealEvent)
            .options(joinedload(DealEvent.actor))
            .where(DealEvent.deal_id == deal.id)
            .order_by(DealEvent.id)
        )
    )


def deals_of_patent(user: User, patent_id: int) -> list[Deal]:
    return list(
        db.session.scalars(
            sa.select(Deal)
            .options(*_CARD_LOAD)
            .where(visible_deals_clause(user), Deal.patent_id == patent_id)
            .order_by(Deal.pushed_at.desc(), Deal.id.desc())
        )
    )


def deals_of_demand(user: User, demand_id: int) -> list[Deal]:
    return list(
        db.session.scalars(
            sa.select(Deal)
            .options(*_CARD_LOAD, selectinload(Deal.contract))
            .where(visible_deals_clause(user), Deal.demand_id == demand_id)
            .order_by(Deal.pushed_at.desc(), Deal.id.desc())
        )
    )


def open_deals_of_demand(demand_id: int) -> list[Deal]:
    """The demand's deals still in progress (已推荐 / 已接洽 / 洽谈中), longest running first: what
    closing the demand ends. Not scoped to a viewer: whoever may close the demand (its
    enterprise, staff) sees every deal of it."""
    return list(
        db.session.scalars(
            sa.select(Deal)
            .options(*_CARD_LOAD)
            .where(Deal.demand_id == demand_id, Deal.stage.in_(OPEN_STAGES))
            .order_by(Deal.pushed_at, Deal.id)
        )
    )


def open_deals_of_patent(patent_id: int) -> list[Deal]:
    """The patent's deals still in progress, in id order: what its right leaving the
    university ends, and what its withdrawal from the pool is told to. Not scoped to a viewer
    (the platform acts on them)."""
    return list(
        db.session.scalars(
            sa.select(Deal)
            .where(Deal.patent_id == patent_id, Deal.stage.in_(OPEN_STAGES))
            .order_by(Deal.id)
        )
    )


def pending_intents(demand_id: int) -> list[Match]:
    """The enterprise's requests for an introduction (申请对接) on the demand that officers have
    not decided yet, oldest first. Closing the demand keeps them as its record (matching.runs
    drops only the engine's candidates), but nobody reviews them any more: the review queue
    lists open demands only, and a closed demand's match is never pushed (push)."""
    return list(
        db.session.scalars(
            sa.select(Match)
            .options(joinedload(Match.patent).joinedload(Patent.institution))
            .where(
                Match.demand_id == demand_id,
                Match.state == MatchState.CANDIDATE,
                Match.intent_at.is_not(None),
            )
            .order_by(Match.intent_at, Match.id)
        )
    )


def changes_since(deal: Deal, version: int) -> list[DealEvent] | None:
    """The events of the changes made to ``deal`` after the form that carried ``version`` was
    rendered, newest first; None when that cannot be told. Each write to a deal (push, stage,
    response, contract, the demand's closing) bumps its version once and writes one event, so
    the last (current − version) events are those changes."""
    missed = (deal.version or 0) - version
    if missed <= 0:
        return None
    events = list(
        db.session.scalars(
            sa.select(DealEvent)
            .where(DealEvent.deal_id == deal.id)
            .order_by(DealEvent.id.desc())
            .limit(missed)
        )
    )
    return events if len(events) == missed else None


def overdue_unnotified(now: datetime | None = None) -> list[Deal]:
    """Overdue deals whose university has not been told yet: one reminder per deadline (a
    reminder sent before the deadline in force was for an earlier one, since extended)."""
    told = sa.select(Notification.deal_id).where(
        Notification.kind == "response_overdue",
        Notification.deal_id == Deal.id,
        Notification.created_at >= Deal.response_due_at,
    )
    return list(
        db.session.scalars(
            sa.select(Deal)
            .options(joinedload(Deal.demand), joinedload(Deal.patent), joinedload(Deal.university))
            .where(overdue_clause(now), ~told.exists())
            .order_by(Deal.response_due_at, Deal.id)
        )
    )


def exclusively_licensed(on: date) -> sa.Select[tuple[int]]:
    """Ids of the patents under a sole or exclusive licence in force on ``on`` (a licence
    recorded without a term counts from its signing on, as services.exclusive_in_force)."""
    return (
        sa.select(Deal.patent_id)
        .join(Contract, Contract.deal_id == Deal.id)
        .where(
            Contract.kind == ContractKind.LICENSE,
            Contract.license_scope.in_(EXCLUSIVE_SCOPES),
            Contract.signed_on <= on,
            sa.or_(Contract.license_until.is_(None), Contract.license_until >= on),
        )
    )
