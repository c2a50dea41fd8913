"""Platform-wide dashboard figures, cached so no request aggregates a million patents.

The regional views (platform admin, officer, regulator, no university filter) need GROUP BYs
over every patent: ~0.2 s each at 1M rows, 1–2 s per page. Those aggregates go through
``cached(key, compute, encode, decode)``, which keeps the last value in ``dashboard_snapshots``:

- **fresh** — the source tables have not changed since (``watermark``: latest change time and
  id of patents, deals, deal events, contracts, evaluations; index look-ups, not scans) and the
  value is younger than ``REVIVE_DASHBOARD_CACHE_TTL`` (default 600 s): served as is;
- **stale** (a write changed the watermark, or the TTL passed) — served as is, with
  "数据更新于 HH:MM（正在更新）", and *one* background refresh is queued (``dashboard.refresh``
  task; ``refreshing_since`` keeps a second one from being queued). A value younger than
  ``MIN_REFRESH_AGE`` is served without a refresh, so a running import does not keep the worker
  recomputing;
- **small** — while the platform holds fewer than ``REVIVE_DASHBOARD_SYNC_LIMIT`` patents
  (default 20,000) an aggregate takes milliseconds: it is computed in the request every time and
  nothing is stored, so a small installation always shows current figures;
- **missing** (first request on a big database) — computed in the request once and stored;
  ``revive dashboard-refresh`` (run after a bulk load, or from cron) fills the table ahead.

A university's own figures (its admin's view, or a regional view narrowed to it) are a family
of keys (``summary:u12``, ``funnel-by-college:u12`` …) under the same rules: a university above
the sync limit (~0.5–1 s per page at 77,000 patents) is cached, smaller ones stay live. A
college's figures are always live.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context

from revive import queue
from revive.dashboard.models import DashboardSnapshot
from revive.db import utcnow
from revive.deals.models import Contract, Deal, DealEvent
from revive.errors import ServiceUnavailable
from revive.evaluations.models import Evaluation
from revive.extensions import db
from revive.inventory.models import Patent

logger = logging.getLogger(__name__)

DEFAULT_TTL = 600
DEFAULT_SYNC_LIMIT = 20_000
MIN_REFRESH_AGE = timedelta(seconds=30)
REFRESH_TIMEOUT = timedelta(minutes=10)  # a refresh claimed longer ago is presumed lost
TASK_NAME = "dashboard.refresh"
_S = DashboardSnapshot.__table__


@dataclass(frozen=True)
class Aggregate:
    """How to compute one cached figure, store it as JSON and read it back."""

    compute: Callable[[], Any]
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]
    patents: Callable[[Any], int]  # how many patents the value covers (for the sync limit)


# key → Aggregate, filled at import time by the modules that own the figures; families of
# keys ("summary:u12": one per university) are built from their argument by a factory.
_REGISTRY: dict[str, Aggregate] = {}
_FAMILIES: dict[str, Callable[[str], Aggregate]] = {}


@dataclass(frozen=True)
class AsOf:
    """When the oldest cached figure on a page was computed, and whether it is being updated."""

    computed_at: datetime
    refreshing: bool


def register(key: str, aggregate: Aggregate) -> None:
    _REGISTRY[key] = aggregate


def register_family(prefix: str, factory: Callable[[str], Aggregate]) -> None:
    """Keys ``prefix:<arg>``: ``factory(arg)`` says how to compute one of them."""
    _FAMILIES[prefix] = factory


def _aggregate(key: str) -> Aggregate | None:
    if key in _REGISTRY:
        return _REGISTRY[key]
    prefix, _, arg = key.rpartition(":")
    factory = _FAMILIES.get(prefix)
    return factory(arg) if factory and arg else None


def _config(name: str, default: int) -> int:
    return int(current_app.config.get(name, default)) if has_app_context() else default


def ttl() -> timedelta:
    return timedelta(seconds=_config("REVIVE_DASHBOARD_CACHE_TTL", DEFAULT_TTL))


def sync_limit() -> int:
    return _config("REVIVE_DASHBOARD_SYNC_LIMIT", DEFAULT_SYNC_LIMIT)


def watermark() -> str:
    """A fingerprint of the tables the regional figures read; any insert or update moves it.

    Each part is a MAX over an indexed (or small) column. Deletes do not move it: the TTL
    covers them (patents are not deleted by the application)."""
    parts = [
        sa.select(sa.func.max(Patent.updated_at)).scalar_subquery(),
        sa.select(sa.func.max(Patent.id)).scalar_subquery(),
        sa.select(sa.func.max(Deal.updated_at)).scalar_subquery(),
        sa.select(sa.func.max(DealEvent.id)).scalar_subquery(),
        sa.select(sa.func.max(Contract.updated_at)).scalar_subquery(),
        sa.select(sa.func.max(Evaluation.updated_at)).scalar_subquery(),
    ]
    row = db.session.execute(sa.select(*parts)).one()
    return "|".join("" if v is None else str(v) for v in row)[:300]


def _note(computed_at: datetime, refreshing: bool) -> None:
    """Remember, per request, the oldest cached figure used (shown by the page)."""
    if not has_request_context():
        return
    current = as_of()
    if current is not None:
        computed_at = min(computed_at, current.computed_at)
        refreshing = refreshing or current.refreshing
    g.dashboard_as_of = AsOf(computed_at, refreshing)


def as_of() -> AsOf | None:
    """The cache status of the figures used by the current request (None: all live)."""
    return g.get("dashboard_as_of") if has_request_context() else None


def forget_as_of() -> None:
    """Start of a request: an app context (and its g) may outlive one request."""
    g.pop("dashboard_as_of", None)


def _store(key: str, payload: Any, mark: str, patents: int, now: datetime) -> None:
    values = {
        "payload": payload,
        "computed_at": now,
        "watermark": mark,
        "patents": patents,
        "refreshing_since": None,
    }
    with db.engine.begin() as conn:
        if conn.execute(_S.update().where(_S.c.key == key).values(**values)).rowcount == 0:
            try:
                with conn.begin_nested():
                    conn.execute(_S.insert().values(key=key, **values))
            except sa.exc.IntegrityError:  # stored concurrently by another request: fine
                pass


def _claim_refresh(key: str, now: datetime) -> bool:
    """Mark ``key`` as being refreshed; False when a refresh is already under way."""
    with db.engine.begin() as conn:
        claimed = conn.execute(
            _S.update()
            .where(
                _S.c.key == key,
                sa.or_(
                    _S.c.refreshing_since.is_(None),
                    _S.c.refreshing_since < now - REFRESH_TIMEOUT,
                ),
            )
            .values(refreshing_since=now)
        ).rowcount
    return claimed == 1


def _request_refresh(key: str, now: datetime) -> bool:
    """Queue a background refresh of ``key`` (at most one at a time). True when one is under
    way after the call."""
    if not _claim_refresh(key, now):
        return True
    try:
        queue.enqueue(TASK_NAME, [key])
    except ServiceUnavailable:
        # Broker down: serve the stale figures and let the next request try again.
        with db.engine.begin() as conn:
            conn.execute(_S.update().where(_S.c.key == key).values(refreshing_since=None))
        return False
    return True


def _fresh(row: DashboardSnapshot, now: datetime) -> bool:
    age = now - row.computed_at
    return age < ttl() and (age < MIN_REFRESH_AGE or row.watermark == watermark())


def cached(key: str) -> Any:
    """The value of aggregate ``key``: from the snapshot table when fresh or large-and-stale,
    else computed now (see the module docstring for the rules)."""
    agg = _aggregate(key)
    if agg is None:
        raise KeyError(key)
    row = db.session.get(DashboardSnapshot, key, populate_existing=True)
    now = utcnow()
    if row is None or row.patents < sync_limit():
        value = agg.compute()
        size = agg.patents(value)
        if size >= sync_limit():
            # No watermark yet (reading it before computing would cost every small platform
            # the look-ups): the first refresh after MIN_REFRESH_AGE records one.
            _store(key, agg.encode(value), "", size, now)
            _note(now, False)
        return value
    # A refresh under way (claimed less than REFRESH_TIMEOUT ago) settles it: the page says
    # so, and neither the watermark nor another claim is needed.
    refreshing = row.refreshing_since is not None and now - row.refreshing_since < REFRESH_TIMEOUT
    if not refreshing and not _fresh(row, now):
        refreshing = _request_refresh(key, now)
    _note(row.computed_at, refreshing)
    return agg.decode(row.payload)


def refresh_registered(keys: list[str] | None = None) -> list[str]:
    """Recompute and store ``keys`` (every key registered so far by default). Returns the keys
    refreshed. Callers use ``revive.dashboard.refresh.refresh``, which has imported every
    module that registers keys."""
    if not keys:  # every fixed key, and every family member computed so far
        stored = db.session.scalars(sa.select(DashboardSnapshot.key)).all()
        keys = sorted(set(_REGISTRY) | set(stored))
    done = []
    for key in keys:
        entry = _aggregate(key)
        if entry is None:
            logger.warning("Unknown dashboard cache key %r", key)
            continue
        mark = watermark()  # before computing: a write during the computation stays visible
        value = entry.compute()
        _store(key, entry.encode(value), mark, entry.patents(value), utcnow())
        done.append(key)
    db.session.remove()
    return done


def clear() -> None:
    """Forget every snapshot (tests, the benchmark's cold run)."""
    with db.engine.begin() as conn:
        conn.execute(_S.delete())
