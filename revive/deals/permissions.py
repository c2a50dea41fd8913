"""Who sees and acts on which deal. One place for the rules; views, API and services call it.

- officer, platform admin (STAFF): every deal; every action (see deals.workflow);
- regulator: reads every deal, acts on none;
- enterprise: deals of its own organization's demands;
- university admin: deals of its institution's patents;
- college admin: deals of its college's patents; inventor: deals of patents that name them
  (the same scope as the patent itself, inventory.permissions);
- the university side (the three university roles, within that scope) answers 愿意对接/暂不对接;
- a deal outside the viewer's scope is a 404 (ids leak nothing); a refused action is a 403.
"""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import UNIVERSITY_ROLES, Role, User
from revive.deals.models import Deal
from revive.deals.workflow import STAFF, Action
from revive.errors import NotFoundError, PermissionDenied
from revive.extensions import db
from revive.inventory import permissions as inventory_permissions
from revive.inventory.models import Patent

READ_ALL_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR})
STAFF_ROLES = STAFF
PARTY_ROLES = UNIVERSITY_ROLES | {Role.ENTERPRISE}
# Roles that may post a stage change at all (object scope and the action decide the rest).
STAGE_ROLES = STAFF | PARTY_ROLES
RESPOND_ROLES = UNIVERSITY_ROLES
CONTRACT_ROLES = STAFF
REMIND_ROLES = STAFF  # 催办: ask a university again for its overdue answer
# The board's export: whoever sees deals, each the deals of their own scope (as on the board).
EXPORT_ROLES = READ_ALL_ROLES | PARTY_ROLES


def visible_deals_clause(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause limiting a Deal query to what ``user`` may see."""
    if not user.is_authenticated:
        return sa.false()
    if user.role in READ_ALL_ROLES:
        return sa.true()
    if user.role == Role.ENTERPRISE:
        return Deal.enterprise_id == user.organization_id
    if user.role in UNIVERSITY_ROLES:
        patents = sa.select(Patent.id).where(inventory_permissions.visible_patents_clause(user))
        return sa.and_(Deal.university_id == user.organization_id, Deal.patent_id.in_(patents))
    return sa.false()


def is_enterprise_side(user: User, deal: Deal) -> bool:
    return (
        user.role == Role.ENTERPRISE
        and user.organization_id is not None
        and user.organization_id == deal.enterprise_id
    )


def is_university_side(user: User, deal: Deal) -> bool:
    return (
        user.role in UNIVERSITY_ROLES
        and user.organization_id is not None
        and user.organization_id == deal.university_id
        and inventory_permissions.can_view(user, deal.patent)
    )


def is_party(user: User, deal: Deal) -> bool:
    return is_enterprise_side(user, deal) or is_university_side(user, deal)


def can_view(user: User, deal: Deal) -> bool:
    if not user.is_authenticated:
        return False
    return user.role in READ_ALL_ROLES or is_party(user, deal)


def can_act(user: User, deal: Deal, action: Action) -> bool:
    if user.role in STAFF:
        return True
    return action.parties_allowed and is_party(user, deal)


def can_respond(user: User, deal: Deal) -> bool:
    return is_university_side(user, deal)


def can_record_contract(user: User, deal: Deal) -> bool:
    return user.role in CONTRACT_ROLES


def get_visible_deal(user: User, deal_id: int) -> Deal:
    """Load a deal the user may see; 404 (not 403) for others, so ids leak nothing."""
    deal = db.session.get(Deal, deal_id)
    if deal is None or not can_view(user, deal):
        raise NotFoundError("对接记录不存在或您无权查看")
    return deal


def check_action(user: User, deal: Deal, action: Action) -> None:
    if not can_act(user, deal, action):
        raise PermissionDenied(f"您无权对该对接执行「{action.label}」")


def check_respond(user: User, deal: Deal) -> None:
    if not can_respond(user, deal):
        raise PermissionDenied("只有该专利所属高校（学校、学院管理员或发明人）可以答复")


def check_contract(user: User, deal: Deal) -> None:
    if not can_record_contract(user, deal):
        raise PermissionDenied("只有技术经理人或平台管理员可以登记合同")
