"""Account services: create users, authenticate. These functions commit."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from revive.accounts.models import College, OrgKind, Organization, Role, User
from revive.db import utcnow
from revive.errors import ValidationFailed
from revive.extensions import db

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
# Computed once so that unknown e-mails cost the same time as wrong passwords (no enumeration).
_DUMMY_HASH = generate_password_hash("revive-dummy-password")


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def validate_password(password: str) -> None:
    """Password policy: at least 8 characters with letters and digits."""
    if len(password or "") < 8:
        raise ValidationFailed("密码至少 8 位")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise ValidationFailed("密码须同时包含字母和数字")


def get_or_create_org(name: str, kind: OrgKind, **fields: object) -> Organization:
    org = db.session.scalar(sa.select(Organization).where(Organization.name == name))
    if org is None:
        org = Organization(name=name, kind=kind, **fields)
        db.session.add(org)
        db.session.flush()
    return org


def get_or_create_college(institution: Organization, name: str) -> College:
    college = db.session.scalar(
        sa.select(College).where(College.institution_id == institution.id, College.name == name)
    )
    if college is None:
        college = College(institution=institution, name=name)
        db.session.add(college)
        db.session.flush()
    return college


def _new_user(
    *, email: str, name: str, password: str, role: Role,
    organization: Organization | None = None, college: College | None = None,
    check_policy: bool = True,
) -> User:
    email = normalize_email(email)
    if check_policy:
        validate_password(password)
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise ValidationFailed("该邮箱已注册")
    user = User(
        email=email, name=name.strip(), role=role, organization=organization, college=college,
        password_hash=generate_password_hash(password),
    )
    db.session.add(user)
    db.session.flush()
    return user


def create_user(**kwargs: object) -> User:
    """Create a user (admin and CLI use; invitations and registration have their own flows)."""
    user = _new_user(**kwargs)  # type: ignore[arg-type]
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the user for valid credentials, else None. Locks after repeated failures."""
    user = db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))
    now = utcnow()
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    locked_until = user.locked_until
    if locked_until is not None and locked_until.tzinfo is None:
        locked_until = locked_until.replace(tzinfo=now.tzinfo)
    if locked_until is not None and locked_until > now:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not user.is_active or not check_password_hash(user.password_hash, password or ""):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
        db.session.commit()
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.commit()
    return user
