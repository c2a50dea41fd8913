"""Who may see and change which demand. One place for the rules; views, API and services call it.

- enterprise user: their own enterprise's demands (others → 404), which they may export;
- officer, platform admin: every demand, with contact details; they may edit and close;
- regulator: reads every demand (no contact details), writes nothing;
- university users (admins, inventors): open demands whose visibility is PUBLIC, read-only,
  without contact details.
"""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import UNIVERSITY_ROLES, Role, User
from revive.demands.models import Demand, DemandStatus, Visibility
from revive.errors import NotFoundError, PermissionDenied
from revive.extensions import db

READ_ALL_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR})
MANAGER_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.OFFICER})  # edit/close any, see contacts
DEMAND_ROLES = READ_ALL_ROLES | UNIVERSITY_ROLES | {Role.ENTERPRISE}  # may open the list
POSTER_ROLES = MANAGER_ROLES | {Role.ENTERPRISE}
IMPORTER_ROLES = MANAGER_ROLES
# Export the list: those who read every demand, and an enterprise its own (the rows are the
# list's, through visible_demands_clause; university users' read-only view is not exported).
EXPORT_ROLES = READ_ALL_ROLES | {Role.ENTERPRISE}


def visible_demands_clause(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause limiting a Demand query to what ``user`` may see."""
    if user.role in READ_ALL_ROLES:
        return sa.true()
    if user.role == Role.ENTERPRISE:
        return Demand.enterprise_id == user.organization_id
    if user.role in UNIVERSITY_ROLES:
        return sa.and_(Demand.status == DemandStatus.OPEN, Demand.visibility == Visibility.PUBLIC)
    return sa.false()


def can_view(user: User, demand: Demand) -> bool:
    if user.role in READ_ALL_ROLES:
        return True
    if user.role == Role.ENTERPRISE:
        return user.organization_id is not None and demand.enterprise_id == user.organization_id
    if user.role in UNIVERSITY_ROLES:
        return demand.status == DemandStatus.OPEN and demand.visibility == Visibility.PUBLIC
    return False


def is_owner(user: User, demand: Demand) -> bool:
    return user.role == Role.ENTERPRISE and demand.enterprise_id == user.organization_id


def can_see_contact(user: User, demand: Demand) -> bool:
    return user.role in MANAGER_ROLES or is_owner(user, demand)


def can_see_progress(user: User, demand: Demand) -> bool:
    """How far the demand got (its machine suggestions, pushed patents, deals by stage): staff
    and the regulator, and the enterprise that posted it (the demand page's 匹配进展 and the
    deals panel show it to no one else)."""
    return user.role in READ_ALL_ROLES or is_owner(user, demand)


def may_manage(user: User, demand: Demand) -> bool:
    """The owner enterprise, officers and the platform admin, whatever the demand's state."""
    return user.role in MANAGER_ROLES or is_owner(user, demand)


def can_edit(user: User, demand: Demand) -> bool:
    """Edit and close: the owner enterprise, officers and the platform admin, while open."""
    return demand.status == DemandStatus.OPEN and may_manage(user, demand)


def get_visible_demand(user: User, demand_id: int) -> Demand:
    """Load a demand the user may see; 404 (not 403) for others, so ids leak nothing."""
    demand = db.session.get(Demand, demand_id)
    if demand is None or not can_view(user, demand):
        raise NotFoundError("需求不存在或您无权查看")
    return demand


def check_edit(user: User, demand: Demand) -> None:
    if not may_manage(user, demand):
        raise PermissionDenied("您无权修改这条需求")
