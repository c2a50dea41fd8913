"""Who sees which matches.

- platform admin, officer (STAFF_ROLES): every demand's candidates, runs, builds; they decide;
- enterprise: on its own demands, the matches an officer pushed to it (ACCEPTED) here and in the
  API's match list; its own view of a demand (the machine's undecided suggestions labelled as
  unreviewed, counts, intents) is revive.pool.status, with the public fields only;
- university users (admin, college admin, inventor): on a patent they may see, the open
  PUBLIC demands ranked for it;
- everyone else: 404 (ids leak nothing).
"""

from __future__ import annotations

from revive.accounts.models import UNIVERSITY_ROLES, Role, User
from revive.demands.models import Demand
from revive.errors import NotFoundError
from revive.extensions import db
from revive.inventory import permissions as inventory_permissions
from revive.inventory.models import Patent

STAFF_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.OFFICER})


def is_staff(user: User) -> bool:
    return user.is_authenticated and user.role in STAFF_ROLES


def owns_demand(user: User, demand: Demand) -> bool:
    return (
        user.is_authenticated
        and user.role == Role.ENTERPRISE
        and user.organization_id is not None
        and demand.enterprise_id == user.organization_id
    )


def can_see_demand_matches(user: User, demand: Demand) -> bool:
    return is_staff(user) or owns_demand(user, demand)


def get_demand_for_matches(user: User, demand_id: int) -> Demand:
    """The demand if the user may see (some of) its matches; 404 otherwise."""
    demand = db.session.get(Demand, demand_id)
    if demand is None or not can_see_demand_matches(user, demand):
        raise NotFoundError("需求不存在或您无权查看")
    return demand


def can_see_patent_demands(user: User, patent: Patent) -> bool:
    if is_staff(user):
        return True
    return (
        user.is_authenticated
        and user.role in UNIVERSITY_ROLES
        and inventory_permissions.can_view(user, patent)
    )
