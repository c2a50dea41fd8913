"""Role decorators for views, and who manages which organization's members (used by the
account services, password recovery and API tokens). Object-level checks of other domains
live next to their models."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask_login import current_user, login_required

from revive.accounts.models import UNIVERSITY_ROLES, Organization, Role, User
from revive.errors import PermissionDenied
from revive.extensions import db


def roles_required(*roles: Role) -> Callable:
    """Login required, and the user's role must be one of ``roles``."""

    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any):
            if current_user.role not in allowed:
                raise PermissionDenied()
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed  # read by the permission-matrix test
        return wrapped

    return decorator


# --- who manages what -----------------------------------------------------------------------


def check_manages_org(actor: User, org_id: int) -> Organization:
    """The organization if ``actor`` may manage its members; PermissionDenied otherwise."""
    org = db.session.get(Organization, org_id)
    if actor.role == Role.PLATFORM_ADMIN and org is not None:
        return org
    if actor.role == Role.UNIVERSITY_ADMIN and org is not None and org.id == actor.organization_id:
        return org
    raise PermissionDenied("您只能管理本单位的成员")


def check_manages_member(actor: User, user: User) -> None:
    """PermissionDenied unless ``actor`` may manage ``user``: a platform admin anyone, a
    university admin the university's members (university roles of their organization)."""
    if actor.role == Role.PLATFORM_ADMIN:
        return
    if user.organization_id is None or user.role not in UNIVERSITY_ROLES:
        raise PermissionDenied("您只能管理本单位的成员")
    check_manages_org(actor, user.organization_id)
