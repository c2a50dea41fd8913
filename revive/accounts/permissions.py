"""Role decorators for views. Object-level checks live next to each domain's models."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask_login import current_user, login_required

from revive.accounts.models import Role
from revive.errors import PermissionDenied


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
