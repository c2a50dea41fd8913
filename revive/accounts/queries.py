"""Read helpers for account pages (no writes)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from revive.accounts.models import (
    STAFF_ROLES,
    UNIVERSITY_ROLES,
    ApiToken,
    College,
    Invitation,
    Organization,
    Role,
    User,
    UserSession,
)
from revive.accounts.sessions import live_clause
from revive.db import utcnow
from revive.extensions import db


def members_of(org_id: int) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.organization_id == org_id)
            .options(selectinload(User.college))
            .order_by(User.role, User.name, User.id)
        )
    )


def pending_invitations(org_id: int) -> list[Invitation]:
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.organization_id == org_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
            .options(selectinload(Invitation.college), selectinload(Invitation.invited_by))
            .order_by(Invitation.created_at.desc())
        )
    )


def colleges_of(org_id: int) -> list[College]:
    return list(
        db.session.scalars(
            sa.select(College).where(College.institution_id == org_id).order_by(College.name)
        )
    )


def organizations_with_counts() -> list[tuple[Organization, int]]:
    """Every organization with its number of users, universities first."""
    counts = (
        sa.select(User.organization_id, sa.func.count(User.id).label("n"))
        .group_by(User.organization_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Organization, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.organization_id == Organization.id)
        .order_by(Organization.kind, Organization.name)
    )
    return [(org, int(n)) for org, n in rows]


def staff_users() -> list[User]:
    """Platform-level accounts: platform admins, officers, regulators."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role.in_(STAFF_ROLES))
            .options(selectinload(User.organization))
            .order_by(User.role, User.name)
        )
    )


def live_sessions(user_id: int) -> list[UserSession]:
    """The user's sessions that still sign a browser in, most recently used first."""
    return list(
        db.session.scalars(
            sa.select(UserSession)
            .where(UserSession.user_id == user_id, live_clause(utcnow()))
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def tokens_of(user_id: int, limit: int = 50) -> list[ApiToken]:
    """The user's API tokens, unrevoked first, newest first (ended ones stay for the record)."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
            .limit(limit)
        )
    )


MANAGED_TOKENS_SHOWN = 500


def managed_tokens(actor: User, org_id: int | None = None) -> list[ApiToken]:
    """Live API tokens of the users ``actor`` manages: a platform admin everyone's (or one
    organization's), a university admin its university's members'. Soonest to expire first."""
    now = utcnow()
    stmt = (
        sa.select(ApiToken)
        .join(User, ApiToken.user_id == User.id)
        .where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .options(selectinload(ApiToken.user).selectinload(User.organization))
        .order_by(ApiToken.expires_at, ApiToken.id)
        .limit(MANAGED_TOKENS_SHOWN)
    )
    if actor.role == Role.PLATFORM_ADMIN:
        if org_id is not None:
            stmt = stmt.where(User.organization_id == org_id)
    elif actor.role == Role.UNIVERSITY_ADMIN and actor.organization_id is not None:
        stmt = stmt.where(
            User.organization_id == actor.organization_id, User.role.in_(UNIVERSITY_ROLES)
        )
    else:
        return []
    return list(db.session.scalars(stmt))
