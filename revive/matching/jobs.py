"""Requesting matching's work, the floor the other matching modules stand on: an index build
or a match run is a row (committed, its task's outbox: revive.queue) and then a message.

    request_index_build     IndexBuild QUEUED (committed) → enqueue "matching.build_index"
                            (worker: indexes.execute_index_build)
    request_match_run       MatchRun QUEUED (committed) → enqueue "matching.match_run"
                            (worker: runs.execute_match_run); with no index yet, the run waits
                            and a build is requested first (the build sends it)
    active_build            the build matching reads: the succeeded one covering the newest tokens

The modules of the matching lifecycle, bottom up: jobs → tokens → indexes → strength → runs →
pairs (decisions, manual, search and learning beside them); none imports one above it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from revive import queue
from revive.accounts.models import User
from revive.db import utcnow
from revive.demands.models import Demand, DemandStatus
from revive.errors import InvalidTransition, NotFoundError, PermissionDenied
from revive.extensions import db
from revive.matching.models import (
    IndexBuild,
    MatchRun,
    RunScope,
    RunStatus,
)
from revive.matching.permissions import STAFF_ROLES

logger = logging.getLogger(__name__)


MATCH_RUN_TASK = "matching.match_run"
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


def notice(row: MatchRun | IndexBuild) -> str | None:
    """What someone watching an active run or build should be told when it stands still: no
    worker has taken it for minutes, or its worker stopped answering (revive.queue). A
    tester's run read 「排队中 · 尚未开始」 for minutes, a build 「已处理 0/40312」 for nine,
    with no word, while the import page said what was happening."""
    if row.status not in ACTIVE:
        return None
    return queue.standstill_notice(row, again="无需重新发起")


def active_build() -> IndexBuild | None:
    """The active index: the succeeded build that covers the most recent tokens."""
    return db.session.scalar(
        sa.select(IndexBuild)
        .where(IndexBuild.status == RunStatus.SUCCEEDED)
        .order_by(
            IndexBuild.covered_at.is_(None), IndexBuild.covered_at.desc(), IndexBuild.id.desc()
        )
        .limit(1)
    )


def request_index_build(actor: User | None = None, *, kind: str = "full") -> IndexBuild:
    """A queued build (an already queued one of the same kind is reused), committed, then
    enqueued. ``kind="delta"``: add the patents whose tokens changed since the active index to
    it as one more shard (seconds, whatever the index size); without an active index it runs
    as a full build."""
    if actor is not None and actor.role not in STAFF_ROLES:
        raise PermissionDenied("只有技术经理人或平台管理员可以重建匹配索引")
    # Coalesce with a build that has not started: it will read the newest tokens. A running
    # build may have read its tokens already, so a new request queues one more build.
    build = db.session.scalar(
        sa.select(IndexBuild)
        .where(IndexBuild.status == RunStatus.QUEUED, IndexBuild.kind == kind)
        .limit(1)
    )
    if build is not None:
        return build
    build = IndexBuild(status=RunStatus.QUEUED, kind=kind, total=0, processed=0)
    db.session.add(build)
    db.session.commit()
    send(build, "matching.build_index")
    return build


def send(row: IndexBuild | MatchRun, task: str) -> None:
    # The row is committed; with the broker down it stays unsent and the sweep sends it.
    queue.send(task, row.id)


def setting(key: str, default: int) -> int:
    return int(current_app.config.get(key, default))


def request_match_run(
    scope: RunScope, demand_id: int | None = None, *, actor: User | None = None
) -> MatchRun:
    """A queued run (an already queued one of the same scope is reused), committed, then
    enqueued. With no index yet, the run waits and an index build is requested first. A
    closed demand is not matched again (InvalidTransition)."""
    if actor is not None and actor.role not in STAFF_ROLES:
        raise PermissionDenied("只有技术经理人或平台管理员可以发起匹配")
    if scope == RunScope.DEMAND:
        demand = db.session.get(Demand, demand_id) if demand_id is not None else None
        if demand is None:
            raise NotFoundError("需求不存在")
        if demand.status != DemandStatus.OPEN:  # it no longer takes part in matching
            raise InvalidTransition("需求已关闭，不能重新匹配")
    else:
        demand_id = None
    # Coalesce with a run that has not started yet: it will read the demand's latest text. A
    # running run may have read the old text already, so an edit then queues one more run.
    existing = db.session.scalar(
        sa.select(MatchRun)
        .where(
            MatchRun.scope == scope,
            MatchRun.demand_id.is_(None) if demand_id is None else MatchRun.demand_id == demand_id,
            MatchRun.status == RunStatus.QUEUED,
        )
        .order_by(MatchRun.id)
        .limit(1)
    )
    if existing is not None:
        return existing
    run = MatchRun(
        scope=scope,
        demand_id=demand_id,
        status=RunStatus.QUEUED,
        requested_by_id=actor.id if actor else None,
        total=0,
        processed=0,
        match_count=0,
    )
    db.session.add(run)
    db.session.commit()
    if active_build() is None:
        request_index_build()  # its success sends this run
    else:
        send(run, "matching.match_run")
    return run


# ---------------------------------------------------------------------------- owed runs

OWED_LOOKBACK = timedelta(days=7)  # demands changed this recently are checked by the sweep
OWED_ONE_BY_ONE = 20  # more owed demands than this: one run over all open demands instead


def owed_runs(full: bool = False) -> list[int]:
    """(the recovery sweep) Open demands that were posted or changed and never had a match run
    requested since: the request is sent after the change commits, and a process killed in
    between (an import's loop over its 399 demands, after its commit) left 391 demands
    unmatched with nothing on record to retry. Demands changed more than
    REVIVE_MESSAGE_LOST_SECONDS ago, within OWED_LOOKBACK (``full``: all). A few get a run each;
    many, one run over all open demands. Returns the demand ids found."""
    now = utcnow()
    since_change = sa.and_(
        MatchRun.created_at >= Demand.updated_at,
        sa.or_(
            MatchRun.scope == RunScope.ALL_DEMANDS,
            sa.and_(MatchRun.scope == RunScope.DEMAND, MatchRun.demand_id == Demand.id),
        ),
    )
    owed = sa.select(Demand.id).where(
        Demand.status == DemandStatus.OPEN,
        Demand.updated_at < now - queue.message_lost_after(),
        ~sa.exists(sa.select(MatchRun.id).where(since_change)),
    )
    if not full:
        owed = owed.where(Demand.updated_at >= now - OWED_LOOKBACK)
    ids = list(db.session.scalars(owed.order_by(Demand.id).limit(OWED_ONE_BY_ONE + 1)))
    db.session.rollback()
    if not ids:
        return []
    if len(ids) > OWED_ONE_BY_ONE:
        logger.warning("More than %d demands were never matched: one run over all", len(ids) - 1)
        request_match_run(RunScope.ALL_DEMANDS)
        return ids
    for demand_id in ids:
        request_match_run(RunScope.DEMAND, demand_id)
    logger.warning("Demands never matched after their last change, runs requested: %s", ids)
    return ids


queue.register_check("matching.owed_runs", owed_runs)
