"""Who may open the pool. Logged-in users of every role search and read the public pages;
anonymous visitors too when the platform admin turned ``public_pool`` on (revive.settings).
Asking for an introduction (an intent) is for enterprise users only."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app
from flask_login import current_user

from revive.accounts.models import Role
from revive.settings import services as settings

INTENT_ROLES = frozenset({Role.ENTERPRISE})


def public_or_login(view: Callable) -> Callable:
    """Logged in, or the pool is public: else the login redirect (401 JSON under /api)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        if current_user.is_authenticated or settings.public_pool():
            return view(*args, **kwargs)
        return current_app.login_manager.unauthorized()

    wrapped.allowed_roles = None  # every role (templating.can_open: shown to all logged in)
    return wrapped


def can_ask(user: Any) -> bool:
    """May send an intent (an enterprise account tied to its enterprise)."""
    return bool(
        user.is_authenticated and user.role in INTENT_ROLES and user.organization_id is not None
    )
