"""Which members of an organization see its notification about a deal: those who may see the
deal (an inventor does not get the college next door's deals), so a link in the inbox or an
e-mail never leads to a 404.

The rule is the deals package's (``revive.deals.permissions``), and deals sits above
notifications (it notifies). So notifications does not import it: deals hands it over at start-up
(``revive.deals.receivers.connect``, called by create_app, like the signal receivers), the way
a domain registers its outbox kind with ``revive.queue``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from revive.accounts.models import User


@dataclass(frozen=True)
class DealScope:
    #: SELECT of the ids of the deals ``user`` may see (a subquery of the inbox's clause).
    visible_ids: Callable[[User], sa.Select[tuple[int]]]
    #: Whether ``user`` may see the deal with this id (an e-mail's recipients).
    may_see: Callable[[User, int], bool]


_deals: DealScope | None = None


def register_deals(scope: DealScope) -> None:
    """Idempotent: the last registration wins (several apps per process register the same)."""
    global _deals
    _deals = scope


def deals() -> DealScope:
    if _deals is None:  # pragma: no cover - create_app always registers it
        raise RuntimeError("No deal scope registered: create the app (revive.create_app) first")
    return _deals
