"""What arrived since a user last looked (the menu's counts), and their alert preferences.

Each count is one indexed COUNT: demands by created_at, intents by matches.intent_at, an
enterprise's new suggestions through its demands (demands.enterprise_id, then matches by
demand). "Last looked" is QueueSeen, written when the user opens the queue's page (see
alerts.views); a user who never opened it counts from SEEN_LOOKBACK ago (or their account's
creation, when later), so the first count is not every demand ever posted. An item the user
opened on its own page after it arrived (SeenItem: a demand, an intent's match page, an
enterprise's demand page with its suggestions) is not new either: one NOT EXISTS on the
table's primary key per counted row, and only rows since the queue's stamp are counted.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from revive.accounts.models import Role, User
from revive.alerts.models import AlertKind, AlertPreference, QueueSeen, SeenItem
from revive.alerts.services import SEEN_LOOKBACK, kinds_for
from revive.db import as_utc, utcnow
from revive.demands.models import Demand, DemandStatus
from revive.extensions import db
from revive.matching.models import Match, MatchSource
from revive.matching.queries import suggested_ids, suggestion_counts

DEMANDS, INTENTS, SUGGESTIONS = "demands", "intents", "suggestions"
# SeenItem kinds: a demand (its page or its matches), an intent (its match page), an
# enterprise's demand whose page lists its suggestions.
DEMAND_ITEM, INTENT_ITEM, SUGGESTIONS_ITEM = "demand", "intent", "suggestions"
STAFF_ROLES = frozenset({Role.OFFICER, Role.PLATFORM_ADMIN})


def last_seen(user: User, queue: str) -> datetime:
    seen = db.session.scalar(
        sa.select(QueueSeen.seen_at).where(QueueSeen.user_id == user.id, QueueSeen.queue == queue)
    )
    if seen is not None:
        return as_utc(seen)
    floor = utcnow() - SEEN_LOOKBACK
    created = as_utc(user.created_at) if user.created_at else None
    return max(floor, created) if created else floor


def _count(stmt: sa.Select) -> int:
    return db.session.scalar(stmt) or 0


def _unseen(
    user: User, kind: str, item: sa.ColumnElement[int], arrived: sa.ColumnElement
) -> sa.ColumnElement[bool]:
    """Not opened by ``user`` on its own page since it ``arrived``."""
    return ~sa.exists().where(
        SeenItem.user_id == user.id,
        SeenItem.kind == kind,
        SeenItem.item_id == item,
        SeenItem.seen_at >= arrived,
    )


def new_demands(user: User) -> int | None:
    """Officers: open demands posted since they last opened the demand list, less those they
    opened one by one (the demand's page or its matches: the inbox notice's link)."""
    if user.role not in STAFF_ROLES:
        return None
    since = last_seen(user, DEMANDS)
    return _count(
        sa.select(sa.func.count(Demand.id)).where(
            Demand.created_at > since,
            Demand.status == DemandStatus.OPEN,
            _unseen(user, DEMAND_ITEM, Demand.id, Demand.created_at),
        )
    )


def new_intents(user: User) -> int | None:
    """Officers: intents (申请对接) on open demands since they last opened the review queue,
    less those whose match page they opened since (the inbox notice's link)."""
    if user.role not in STAFF_ROLES:
        return None
    since = last_seen(user, INTENTS)
    return _count(
        sa.select(sa.func.count(Match.id))
        .join(Demand, Demand.id == Match.demand_id)
        .where(
            Match.intent_at > since,
            Demand.status == DemandStatus.OPEN,
            _unseen(user, INTENT_ITEM, Match.id, Match.intent_at),
        )
    )


def _new_suggestions(user: User, since: datetime) -> dict[int, int]:
    """{open demand id: its machine suggestions made since ``since``}, counting only what the
    demand page lists (``matching.queries.suggested_ids``: 强 / 中, patents still in the pool,
    at most SUGGESTIONS_PER_NEED a sub-need). Counting every 强 / 中 candidate made the list
    say 新推荐 20 beside a page showing 10. What the user saw on the demand's page since it
    was made is not new."""
    own = list(
        db.session.scalars(
            sa.select(Demand.id).where(
                Demand.enterprise_id == user.organization_id, Demand.status == DemandStatus.OPEN
            )
        )
    )
    listed = suggested_ids(own)
    if not listed:
        return {}
    rows = db.session.execute(
        sa.select(Match.demand_id, sa.func.count(Match.id))
        .where(
            Match.id.in_(sorted(listed)),
            Match.created_at > since,
            Match.source == MatchSource.MACHINE,
            Match.intent_at.is_(None),
            _unseen(user, SUGGESTIONS_ITEM, Match.demand_id, Match.created_at),
        )
        .group_by(Match.demand_id)
    )
    return {demand_id: int(n) for demand_id, n in rows}


def new_suggestions_by_demand(user: User) -> dict[int, int]:
    """Enterprises: {demand id: machine suggestions (强 / 中) added since they last opened
    their demand list} — new entered patents' alerts among them."""
    if user.role != Role.ENTERPRISE or user.organization_id is None:
        return {}
    return _new_suggestions(user, last_seen(user, SUGGESTIONS))


def suggestions_by_demand(user: User) -> dict[int, int]:
    """Enterprises: {demand id: machine suggestions its demand page lists}, seen or not (the
    list's 机器推荐 column; ``matching.queries.suggestion_counts``)."""
    if user.role != Role.ENTERPRISE or user.organization_id is None:
        return {}
    return suggestion_counts(user.organization_id)


def new_suggestions(user: User) -> int | None:
    if user.role != Role.ENTERPRISE or user.organization_id is None:
        return None
    return sum(_new_suggestions(user, last_seen(user, SUGGESTIONS)).values())


def preferences(user: User) -> list[tuple[AlertKind, bool]]:
    """The alert kinds the user gets, each with whether it is on."""
    kinds = kinds_for(user)
    if not kinds:
        return []
    off = set(
        db.session.scalars(
            sa.select(AlertPreference.kind).where(
                AlertPreference.user_id == user.id, AlertPreference.is_subscribed.is_(False)
            )
        )
    )
    return [(kind, kind not in off) for kind in kinds]
