"""Who may see, declare and withdraw which open-licence declaration. One place for the rules.

- declare / withdraw: the patent's own university admins, the college admins of the patent's
  college, and the platform admin;
- read: an open licence is public by nature (专利法第五十条: the licence fee is published and the
  same for everyone), so every logged-in user sees ACTIVE declarations of ENTERED patents (the
  public list). Anything else — a withdrawn declaration, or one whose patent left the pool — is
  seen only by those who may see the patent itself (inventory permissions); others get a 404.
"""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import Role, User
from revive.errors import NotFoundError, PermissionDenied
from revive.extensions import db
from revive.inventory import permissions as patent_permissions
from revive.inventory.models import EntryStatus, Patent
from revive.licensing.models import DeclarationStatus, OpenLicenceDeclaration

VIEWER_ROLES = frozenset(Role)  # every logged-in user reads the public list
DECLARER_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN})


def listed_clause() -> sa.ColumnElement[bool]:
    """WHERE clause of the public list (join Patent): active declarations of entered patents."""
    return sa.and_(
        OpenLicenceDeclaration.status == DeclarationStatus.ACTIVE,
        Patent.status == EntryStatus.ENTERED,
    )


def is_listed(declaration: OpenLicenceDeclaration) -> bool:
    return (
        declaration.status == DeclarationStatus.ACTIVE
        and declaration.patent.status == EntryStatus.ENTERED
    )


def can_manage(user: User, patent: Patent) -> bool:
    """Declare and withdraw open licences on ``patent``."""
    if user.role == Role.PLATFORM_ADMIN:
        return True
    if user.organization_id is None or user.organization_id != patent.institution_id:
        return False
    if user.role == Role.UNIVERSITY_ADMIN:
        return True
    if user.role == Role.COLLEGE_ADMIN:
        return patent.college_id is not None and patent.college_id == user.college_id
    return False


def can_view(user: User, declaration: OpenLicenceDeclaration) -> bool:
    return is_listed(declaration) or patent_permissions.can_view(user, declaration.patent)


def get_visible_declaration(user: User, declaration_id: int) -> OpenLicenceDeclaration:
    """Load a declaration the user may see; 404 (not 403) for others, so ids leak nothing."""
    declaration = db.session.get(OpenLicenceDeclaration, declaration_id)
    if declaration is None or not can_view(user, declaration):
        raise NotFoundError("开放许可声明不存在或您无权查看")
    return declaration


def get_manageable_patent(user: User, patent_id: int) -> Patent:
    """The patent to declare on: 404 when the user may not see it, 403 when they may not act."""
    patent = patent_permissions.get_visible_patent(user, patent_id)
    if not can_manage(user, patent):
        raise PermissionDenied("只有专利所属学校（学院）的管理员可以声明开放许可")
    return patent


def check_manage(user: User, declaration: OpenLicenceDeclaration) -> None:
    if not can_manage(user, declaration.patent):
        raise PermissionDenied("只有专利所属学校（学院）的管理员可以撤回开放许可声明")
