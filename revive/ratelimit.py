"""Hourly caps on what one enterprise account may send that notifies other people (demands,
introduction requests, open-licence applications): an account is one company's staff, not a
script. A security review posted 30 demands and 40 intents in a row from a fresh account.

Counted on rows the requests leave (no counter table): the rows of the last hour that a query
selects, which must outlive a withdrawal (introduction requests and open-licence applications
are counted on their audit events, one budget for both: revive.matching.manual
.check_asking_budget). Settings: REVIVE_DEMANDS_PER_HOUR, REVIVE_INTENTS_PER_HOUR
(revive.config).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from revive.clock import as_utc, utcnow
from revive.errors import RateLimited
from revive.extensions import db

WINDOW = timedelta(hours=1)


def check_hourly(count: sa.Select, at: Any, setting: str, what: str, hint: str = "") -> None:
    """RateLimited (429) when ``count`` (a ``select(func.count(…))`` of the account's rows),
    restricted to rows whose time column ``at`` lies in the last hour, has reached the cap
    ``setting``. ``what`` names the action in the message; ``hint`` says what to do instead."""
    limit = int(current_app.config.get(setting, 20))
    now = utcnow()
    recent = count.where(at > now - WINDOW)
    if (db.session.scalar(recent) or 0) >= limit:
        err = RateLimited(f"{what}过于频繁：每个企业每小时最多{what} {limit} 次，请稍后再试" + hint)
        # Retry-After: when the oldest counted row leaves the hour
        oldest = db.session.scalar(recent.with_only_columns(sa.func.min(at)))
        if oldest is not None:
            left = (as_utc(oldest) + WINDOW - now).total_seconds()
            err.retry_after = max(1, math.ceil(left))
        raise err
