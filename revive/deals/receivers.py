"""Deals' hooks into lower packages, connected by create_app:

- notifications learns who may see a deal (its inbox and e-mails show a deal's notification
  only to them) without importing deals;
- demands learns what closing a demand ends (its open deals, its unreviewed intents) and has
  the deals ended in the closing transaction (demands.services.CloseHook);
- a patent whose right left the university (revive.signals.patent_rights_gone) ends its deals
  still open (deals.services.end_for_rights_gone);
- an edit of a demand's text (revive.signals.demand_saved) is noted on its open deals and
  told to their other parties (deals.services.note_demand_edited);
- matching asks which contracts keep a patent from being proposed, to anyone or to the
  enterprise holding them (revive.signals.patent_holds; deals.services.patent_holds);
- a patent taken out of the pool (撤回重审; revive.signals.patent_transitioned from 已入库) is
  told to its open deals' enterprises and officers (deals.services.tell_of_withdrawal);
- a reopened demand (revive.signals.demand_reopened) is told to the officers of the deals its
  closing ended, and to its enterprise when staff reopened it (deals.services.tell_of_reopen);
- the demands' export counts each demand's progress (机器推荐数, 已推送专利数, 对接中, 已签约)
  through deals.queries.demand_progress (demands.export.register_progress).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from revive import signals
from revive.accounts.models import User
from revive.deals import queries, services
from revive.deals.models import Deal
from revive.deals.permissions import can_view, visible_deals_clause
from revive.demands import export as demand_export
from revive.demands import services as demand_services
from revive.demands.models import Demand
from revive.demands.services import Ending
from revive.extensions import db
from revive.inventory.models import EntryStatus
from revive.notifications import scope

logger = logging.getLogger(__name__)


def _visible_ids(user: User) -> sa.Select[tuple[int]]:
    return sa.select(Deal.id).where(visible_deals_clause(user))


def _may_see(user: User, deal_id: int) -> bool:
    deal = db.session.get(Deal, deal_id)
    return deal is not None and can_view(user, deal)


def _deal_status(deal: Deal) -> str:
    answer = f"高校答复「{deal.response.label}」" if deal.response else "高校尚未答复"
    return f"{deal.stage.label} · {answer}"


def _pending(demand: Demand, user: User) -> list[Ending]:
    """The close page's list: the open deals (who closes a demand — its enterprise, staff —
    sees all of its deals) and the intents no officer has decided yet."""
    deals = [
        Ending(
            kind="deal",
            id=d.id,
            title=d.patent.title,
            party=d.university.name,
            status=_deal_status(d),
            link=services.deal_link(d.id),
        )
        for d in queries.open_deals_of_demand(demand.id)
    ]
    intents = [
        Ending(
            kind="intent",
            id=m.id,
            title=m.patent.title,
            party=m.patent.institution.name,
            status="对接申请，技术经理人尚未审核",
        )
        for m in queries.pending_intents(demand.id)
    ]
    return deals + intents


def _close(demand: Demand, user: User) -> None:
    services.end_for_closed_demand(demand, user)


def _rights_gone(sender: Any, patent: Any, actor: Any, reason: str, **_: Any) -> None:
    services.end_for_rights_gone(patent, actor, reason)


def _patent_transitioned(
    sender: Any, patent: Any, change: Any, actor: Any, comment: Any = None, **_: Any
) -> None:
    # Inside the mover's transaction: rows only.
    if change.from_status == EntryStatus.ENTERED and change.to_status != EntryStatus.ENTERED:
        services.tell_of_withdrawal(patent, actor, comment)


def _demand_saved(
    sender: Any,
    demand_id: int,
    created: bool = False,
    fields: list[str] | None = None,
    actor_id: int | None = None,
    **_: Any,
) -> None:
    """After an edit is committed: the demand's open deals are told what changed."""
    if created or not fields or actor_id is None:
        return
    actor = db.session.get(User, actor_id)
    if actor is not None:
        services.note_demand_edited(demand_id, fields, actor)


def _demand_reopened(sender: Any, demand_id: int, actor_id: int, **_: Any) -> None:
    """After the reopen is committed; a failure is logged, never raised into the sender."""
    actor = db.session.get(User, actor_id)
    if actor is None:
        return
    try:
        services.tell_of_reopen(demand_id, actor)
    except Exception:
        db.session.rollback()
        logger.exception("Could not tell of reopened demand %s", demand_id)


def _patent_holds(sender: Any, on: Any, patent_ids: Any = None, **_: Any) -> list[Any]:
    """Matching asks which contracts keep patents from being proposed (matching.holds)."""
    return services.patent_holds(on, patent_ids)


def connect() -> None:
    """Idempotent: safe with several apps per process."""
    signals.patent_holds.connect(_patent_holds)
    signals.patent_rights_gone.connect(_rights_gone)
    signals.patent_transitioned.connect(_patent_transitioned)
    signals.demand_saved.connect(_demand_saved)
    signals.demand_reopened.connect(_demand_reopened)
    scope.register_deals(scope.DealScope(visible_ids=_visible_ids, may_see=_may_see))
    demand_services.register_close_hook(
        "deals", demand_services.CloseHook(pending=_pending, close=_close)
    )
    demand_export.register_progress(queries.demand_progress)
