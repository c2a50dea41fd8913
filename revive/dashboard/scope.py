"""Whose figures a dashboard shows: one Scope per request, turned into WHERE clauses.

- platform admin, officer, regulator (regional roles): every university, optionally narrowed
  to one university with ``?university=<id>``;
- university admin: their university (any ``university`` argument is ignored);
- college admin: their college of their university;
- anyone else has no funnel scope (inventors keep the inventory overview, enterprises get
  their own demand view).

Patents are scoped by ``inventory.permissions.visible_patents_clause`` (the same rule as the
inventory list), deals by the deal's university, and for a college admin also by the patent's
college, so a dashboard never counts a record the user could not open.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from revive.accounts.models import Organization, OrgKind, Role, User
from revive.deals.models import Deal
from revive.errors import NotFoundError, PermissionDenied
from revive.extensions import db
from revive.inventory.models import Patent
from revive.inventory.permissions import READ_ALL_ROLES, visible_patents_clause

REGIONAL_ROLES = READ_ALL_ROLES  # platform admin, officer, regulator
FUNNEL_ROLES = REGIONAL_ROLES | {Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN}
ENTERPRISE_ROLES = frozenset({Role.ENTERPRISE})
PLATFORM_LABEL = "全平台"


@dataclass(frozen=True)
class Scope:
    user: User
    label: str
    university_id: int | None = None  # set for university/college scopes and regional filters
    college_id: int | None = None

    @property
    def is_regional(self) -> bool:
        return self.user.role in REGIONAL_ROLES

    @property
    def is_filtered(self) -> bool:
        """A regional user narrowed the view to one university."""
        return self.is_regional and self.university_id is not None

    @property
    def level(self) -> str:
        """'platform' | 'university' | 'college': the unit whose funnel is shown."""
        if self.college_id is not None:
            return "college"
        return "university" if self.university_id is not None else "platform"

    @property
    def whole_university(self) -> int | None:
        """The university whose patents are exactly this scope (its figures may be cached)."""
        return self.university_id if self.level == "university" else None

    def patents(self) -> sa.ColumnElement[bool]:
        """WHERE clause on Patent."""
        if self.is_filtered:
            return Patent.institution_id == self.university_id
        return visible_patents_clause(self.user)

    def deals(self) -> sa.ColumnElement[bool]:
        """WHERE clause on Deal."""
        if self.is_regional:
            return (
                sa.true()
                if self.university_id is None
                else Deal.university_id == self.university_id
            )
        if self.college_id is not None:
            college_patents = sa.select(Patent.id).where(
                Patent.institution_id == self.university_id, Patent.college_id == self.college_id
            )
            return sa.and_(
                Deal.university_id == self.university_id, Deal.patent_id.in_(college_patents)
            )
        return Deal.university_id == self.university_id

    def args(self) -> dict[str, int]:
        """Query-string arguments that reproduce this scope (for export links)."""
        return {"university": self.university_id} if self.is_filtered else {}


def scope_for(user: User, university_id: int | None = None) -> Scope:
    """The funnel scope of ``user``; PermissionDenied for roles without one, NotFoundError for
    a regional filter naming no university."""
    if user.role in REGIONAL_ROLES:
        if university_id is None:
            return Scope(user, PLATFORM_LABEL)
        org = db.session.get(Organization, university_id)
        if org is None or org.kind != OrgKind.UNIVERSITY:
            raise NotFoundError("高校不存在")
        return Scope(user, f"{PLATFORM_LABEL} · {org.name}", university_id=org.id)
    org_name = user.organization.name if user.organization else ""
    if user.role == Role.UNIVERSITY_ADMIN and user.organization_id is not None:
        return Scope(user, org_name, university_id=user.organization_id)
    if user.role == Role.COLLEGE_ADMIN and user.organization_id and user.college_id:
        college = user.college.name if user.college else ""
        return Scope(
            user,
            f"{org_name} · {college}",
            university_id=user.organization_id,
            college_id=user.college_id,
        )
    raise PermissionDenied("您的账号没有转化漏斗看板")
