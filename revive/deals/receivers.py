"""Deals' hooks into lower packages, connected by create_app: notifications learns who may see
a deal (its inbox and e-mails show a deal's notification only to them) without importing deals.
"""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import User
from revive.deals.models import Deal
from revive.deals.permissions import can_view, visible_deals_clause
from revive.extensions import db
from revive.notifications import scope


def _visible_ids(user: User) -> sa.Select[tuple[int]]:
    return sa.select(Deal.id).where(visible_deals_clause(user))


def _may_see(user: User, deal_id: int) -> bool:
    deal = db.session.get(Deal, deal_id)
    return deal is not None and can_view(user, deal)


def connect() -> None:
    """Idempotent: safe with several apps per process."""
    scope.register_deals(scope.DealScope(visible_ids=_visible_ids, may_see=_may_see))
