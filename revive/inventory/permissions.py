"""Who may see and change which patent. One place for the rules; views and services call it.

- university admin: every patent of their institution;
- college admin: patents of their college in their institution;
- inventor: patents that name them (patent_inventors link);
- platform admin, officer, regulator: read every patent (officers need details to broker
  deals, the regulator reads cross-university figures); only the platform admin writes;
- enterprise: no access to inventories (they see the pool through matching, later).

Inventor links (which inventor accounts a patent is linked to, hence what an inventor sees)
are an admin's decision, never a name match: the platform admin, the university admin of the
patent's institution or the college admin of its college links and unlinks inventor accounts
of that institution (``can_manage_inventors``); an inventor filing a patent is linked to it.
"""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import Role, User
from revive.errors import NotFoundError, PermissionDenied
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent, patent_inventors
from revive.inventory.workflow import COLLEGE_REVIEWERS, FILERS, Action

READ_ALL_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR})
INVENTORY_ROLES = READ_ALL_ROLES | {Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.INVENTOR}
FILER_ROLES = FILERS | {Role.PLATFORM_ADMIN}  # the create/edit forms and workflow actions
REVIEWER_ROLES = COLLEGE_REVIEWERS  # the review queue and batch actions
EDITABLE_BY_COLLEGE = frozenset(
    {EntryStatus.DRAFT, EntryStatus.RETURNED, EntryStatus.PENDING_COLLEGE}
)
EDITABLE_BY_INVENTOR = frozenset({EntryStatus.DRAFT, EntryStatus.RETURNED})


def visible_patents_clause(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause limiting a Patent query to what ``user`` may see."""
    if user.role in READ_ALL_ROLES:
        return sa.true()
    if user.role == Role.UNIVERSITY_ADMIN:
        return Patent.institution_id == user.organization_id
    if user.role == Role.COLLEGE_ADMIN:
        return sa.and_(
            Patent.institution_id == user.organization_id, Patent.college_id == user.college_id
        )
    if user.role == Role.INVENTOR:
        linked = sa.select(patent_inventors.c.patent_id).where(
            patent_inventors.c.user_id == user.id
        )
        return sa.and_(Patent.institution_id == user.organization_id, Patent.id.in_(linked))
    return sa.false()


def can_view(user: User, patent: Patent) -> bool:
    if user.role in READ_ALL_ROLES:
        return True
    if user.organization_id != patent.institution_id:
        return False
    if user.role == Role.UNIVERSITY_ADMIN:
        return True
    if user.role == Role.COLLEGE_ADMIN:
        return patent.college_id == user.college_id
    if user.role == Role.INVENTOR:
        return any(u.id == user.id for u in patent.inventor_users)
    return False


def can_edit(user: User, patent: Patent) -> bool:
    if user.role == Role.PLATFORM_ADMIN:
        return True
    if not can_view(user, patent) or user.role in READ_ALL_ROLES:
        return False
    if user.role == Role.UNIVERSITY_ADMIN:
        return True
    if user.role == Role.COLLEGE_ADMIN:
        return patent.status in EDITABLE_BY_COLLEGE
    return patent.status in EDITABLE_BY_INVENTOR  # inventor


def can_create_in(user: User, institution_id: int, college_id: int | None) -> bool:
    if user.role == Role.PLATFORM_ADMIN:
        return True
    if user.organization_id != institution_id:
        return False
    if user.role == Role.UNIVERSITY_ADMIN:
        return True
    if user.role == Role.COLLEGE_ADMIN:
        return college_id == user.college_id
    return user.role == Role.INVENTOR


def can_act(user: User, patent: Patent, action: Action) -> bool:
    if user.role == Role.PLATFORM_ADMIN:
        return True
    return user.role in action.roles and can_view(user, patent)


LINK_MANAGER_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN})


def managed_patents_clause(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause: patents on which ``user`` may link and unlink inventor accounts."""
    if user.role == Role.PLATFORM_ADMIN:
        return sa.true()
    if user.role == Role.UNIVERSITY_ADMIN:
        return Patent.institution_id == user.organization_id
    if user.role == Role.COLLEGE_ADMIN:
        return sa.and_(
            Patent.institution_id == user.organization_id, Patent.college_id == user.college_id
        )
    return sa.false()


def can_manage_inventors(user: User, patent: Patent) -> bool:
    """May ``user`` link or unlink inventor accounts on ``patent`` (in any state)?"""
    if user.role == Role.PLATFORM_ADMIN:
        return True
    if user.organization_id != patent.institution_id:
        return False
    if user.role == Role.UNIVERSITY_ADMIN:
        return True
    if user.role == Role.COLLEGE_ADMIN:
        return patent.college_id is not None and patent.college_id == user.college_id
    return False


def get_visible_patent(user: User, patent_id: int) -> Patent:
    """Load a patent the user may see; 404 (not 403) for others, so ids leak nothing."""
    patent = db.session.get(Patent, patent_id)
    if patent is None or not can_view(user, patent):
        raise NotFoundError("专利不存在或您无权查看")
    return patent


def check_edit(user: User, patent: Patent) -> None:
    if not can_edit(user, patent):
        raise PermissionDenied(f"您无权修改「{patent.status.label}」状态的这条专利")


def check_action(user: User, patent: Patent, action: Action) -> None:
    if not can_act(user, patent, action):
        raise PermissionDenied(f"您无权对该专利执行「{action.label}」")
