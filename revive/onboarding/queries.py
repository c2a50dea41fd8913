"""Read helpers of the onboarding pages (no writes)."""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import Invitation, Organization, OrgKind, Role, User
from revive.db import contains, utcnow
from revive.pagination import Page, paginate


def institutions(page: int, per_page: int, q: str | None = None) -> Page:
    """Universities and research institutes, by name, each with (org, school admins, members,
    pending invitations): who still needs a first school admin shows at a glance."""
    admins = (
        sa.select(sa.func.count(User.id))
        .where(User.organization_id == Organization.id, User.role == Role.UNIVERSITY_ADMIN)
        .correlate(Organization)
        .scalar_subquery()
    )
    members = (
        sa.select(sa.func.count(User.id))
        .where(User.organization_id == Organization.id)
        .correlate(Organization)
        .scalar_subquery()
    )
    invited = (
        sa.select(sa.func.count(Invitation.id))
        .where(
            Invitation.organization_id == Organization.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .correlate(Organization)
        .scalar_subquery()
    )
    where = [Organization.kind == OrgKind.UNIVERSITY]
    if q:
        where.append(contains(q, Organization.name, Organization.region, Organization.credit_code))
    stmt = (
        sa.select(Organization, admins, members, invited)
        .where(*where)
        .order_by(Organization.name, Organization.id)
    )
    count = sa.select(sa.func.count(Organization.id)).where(*where)
    return paginate(stmt, count, page, per_page, scalars=False)
