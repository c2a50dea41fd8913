"""Optimistic locking for services that flush before they commit (revive.db.commit_or_conflict
covers only the commit): someone else updated a versioned row between our read and our write,
so the UPDATE (at a flush or at the commit) matched no row."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.orm.exc import StaleDataError

from revive.errors import ConflictError
from revive.extensions import db

P = ParamSpec("P")
R = TypeVar("R")


def conflict_on_stale(message: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a service: on a stale versioned row, roll back and raise
    ConflictError(message) so the user is told to refresh."""

    def decorate(service: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(service)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return service(*args, **kwargs)
            except StaleDataError:
                db.session.rollback()
                raise ConflictError(message) from None

        return wrapped

    return decorate
