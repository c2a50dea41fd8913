"""Who may see and change which patent. One place for the rules; views and services call it.

- university admin: every patent of their institution;
- college admin: patents of their college in their institution;
- inventor: patents that name them (patent_inventors link);
- platform admin, officer, regulator: read every patent (officers need details to broker
  deals, the regulator reads cross-university figures); only the platform admin writes;
- enterprise: no access to inventories (they see the pool through matching, later).

A patent's college decides who reviews it first (workflow: 学院审核 → 学校审核; a patent with
no college goes straight to 学校审核), so changing it is ruled here, once, for the form, the API
and imports alike (``college_change_refusal``):

- nobody changes it once the university has decided (已入库 / 不入库 / 建议放弃): the college
  review is part of that decision; a university admin reopens the patent (撤回重审) first;
- platform and university admins: any college of the institution, or none, before that; but
  not none while the patent waits for college review (that would skip it: move it to another
  college or return it instead). A patent waiting for school review that gets a (new) college
  goes back to 待学院审核 for that college's review (services, workflow.SYSTEM_ACTIONS);
- college admins: only within their college, i.e. never move a patent out of it or clear it;
- inventors: set a college on their draft or returned patent that has none (that adds the
  college review), never change or clear one that is set;
- the command-line import (no user) is held to the platform admin's rule.

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


def edit_refusal(user: User | None, patent: Patent) -> str | None:
    """Why ``user`` may not change ``patent``'s fields, in Chinese; None when they may. The
    rule is ``can_edit``'s (the edit form's, through ``check_edit``), worded for a row of an
    import, which names the patent by its 申请号 rather than a page. ``user`` None: the
    command-line import, held to the platform admin's rule."""
    if user is None or can_edit(user, patent):
        return None
    if not can_view(user, patent):
        if user.role == Role.COLLEGE_ADMIN and user.organization_id == patent.institution_id:
            return "该专利已登记在其他学院，学院管理员不能修改"
        return "您无权修改该专利"
    return f"该专利处于「{patent.status.label}」状态，{user.role.label}不能修改"


FINAL_STATES = frozenset({EntryStatus.ENTERED, EntryStatus.NOT_ENTERED, EntryStatus.ABANDON})
_ANY_OTHER_COLLEGE = -1  # stands for "some other college" in can_change_college


def college_change_refusal(user: User | None, patent: Patent, college_id: int | None) -> str | None:
    """Why ``user`` may not set ``patent``'s college to ``college_id`` (None: no college), in
    Chinese; None when they may (or nothing changes). The rule is the module docstring's;
    editing rights as such are ``can_edit``'s. ``user`` None: the command-line import."""
    if college_id == patent.college_id:
        return None
    if patent.status in FINAL_STATES:
        return f"「{patent.status.label}」的专利不能更改学院；如需更正，请学校管理员先撤回重审"
    role = Role.PLATFORM_ADMIN if user is None else user.role
    if role in (Role.PLATFORM_ADMIN, Role.UNIVERSITY_ADMIN):
        if college_id is None and patent.status == EntryStatus.PENDING_COLLEGE:
            return "待学院审核的专利不能清除学院（否则将跳过学院审核）；可改派其他学院或先退回"
        return None
    if role == Role.COLLEGE_ADMIN:
        return "学院管理员不能把专利移出本学院或清除学院"
    if role == Role.INVENTOR:
        if patent.college_id is None and college_id is not None:
            return None
        return "发明人不能更改或清除已指定的学院；如需调整，请联系学校管理员"
    return "您无权更改专利的学院"


def can_change_college(user: User | None, patent: Patent) -> bool:
    """May ``user`` move ``patent`` to some other college? (The edit form locks the field
    otherwise.)"""
    return college_change_refusal(user, patent, _ANY_OTHER_COLLEGE) is None


def may_clear_college(user: User | None, patent: Patent) -> bool:
    """May ``user`` leave ``patent`` without a college? (The form's blank choice.)"""
    return college_change_refusal(user, patent, None) is None


def check_college_change(user: User | None, patent: Patent, college_id: int | None) -> None:
    refusal = college_change_refusal(user, patent, college_id)
    if refusal is not None:
        raise PermissionDenied(refusal)


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
