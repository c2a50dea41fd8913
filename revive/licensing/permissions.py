"""Who may see, declare and withdraw which open-licence declaration. One place for the rules.

- declare / withdraw: the patent's own university admins, the college admins of the patent's
  college, and the platform admin;
- read: an open licence is public by nature (专利法第五十条: the licence fee is published and the
  same for everyone), so every logged-in user sees ACTIVE declarations of patents in the pool
  (inventory.public: 已入库 and not assigned / 作价入股 — the public list). Anything else — a
  withdrawn declaration, or one whose patent left the pool — is seen only by those who may see
  the patent itself (inventory permissions); others get a 404.
"""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import Role, User
from revive.errors import NotFoundError, PermissionDenied
from revive.extensions import db
from revive.inventory import permissions as patent_permissions
from revive.inventory.models import Patent
from revive.inventory.public import is_public, public_clause
from revive.licensing.models import (
    DeclarationStatus,
    LicenceApplication,
    OpenLicenceDeclaration,
)

VIEWER_ROLES = frozenset(Role)  # every logged-in user reads the public list
DECLARER_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN})


def listed_clause() -> sa.ColumnElement[bool]:
    """WHERE clause of the public list (join Patent): active declarations of patents in the
    pool (entered, and the rights still the university's)."""
    return sa.and_(OpenLicenceDeclaration.status == DeclarationStatus.ACTIVE, public_clause())


def is_listed(declaration: OpenLicenceDeclaration) -> bool:
    return declaration.status == DeclarationStatus.ACTIVE and is_public(declaration.patent)


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


# ---------------------------------------------------------------------------- applications
#
# 开放许可实施申请: an enterprise applies to a listed declaration; the holder (the patent's
# university admins, its college's admins, the platform admin — ``can_manage``) confirms or
# records the signature; the applying enterprise may withdraw it; the staff who read everything
# (platform admin, officers, regulator) read every application.

APPLICANT_ROLES = frozenset({Role.ENTERPRISE})
APPLICATION_READERS = frozenset(
    {
        Role.PLATFORM_ADMIN,
        Role.OFFICER,
        Role.REGULATOR,
        Role.UNIVERSITY_ADMIN,
        Role.COLLEGE_ADMIN,
        Role.ENTERPRISE,
    }
)
HOLDER_ROLES = DECLARER_ROLES
READ_ALL = frozenset({Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR})


def managed_patents_clause(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause on Patent: the patents whose open licences ``user`` manages."""
    if user.role == Role.PLATFORM_ADMIN:
        return sa.true()
    if user.organization_id is None:
        return sa.false()
    if user.role == Role.UNIVERSITY_ADMIN:
        return Patent.institution_id == user.organization_id
    if user.role == Role.COLLEGE_ADMIN and user.college_id is not None:
        return sa.and_(
            Patent.institution_id == user.organization_id, Patent.college_id == user.college_id
        )
    return sa.false()


def visible_applications_clause(user: User) -> sa.ColumnElement[bool]:
    """WHERE clause on LicenceApplication: what ``user`` may read."""
    if user.role in READ_ALL:
        return sa.true()
    if user.role == Role.ENTERPRISE:
        if user.organization_id is None:
            return sa.false()
        return LicenceApplication.enterprise_id == user.organization_id
    if user.role in HOLDER_ROLES:
        managed = sa.select(Patent.id).where(managed_patents_clause(user))
        return LicenceApplication.patent_id.in_(managed)
    return sa.false()


def is_applicant(user: User, application: LicenceApplication) -> bool:
    return (
        user.role == Role.ENTERPRISE
        and user.organization_id is not None
        and user.organization_id == application.enterprise_id
    )


def can_view_application(user: User, application: LicenceApplication) -> bool:
    return (
        user.role in READ_ALL
        or is_applicant(user, application)
        or can_manage(user, application.patent)
    )


def get_visible_application(user: User, application_id: int) -> LicenceApplication:
    """Load an application the user may read; 404 for others (ids leak nothing)."""
    application = db.session.get(LicenceApplication, application_id)
    if application is None or not can_view_application(user, application):
        raise NotFoundError("实施申请不存在或您无权查看")
    return application
