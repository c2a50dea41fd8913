"""Enqueue background work by task name, so services never import the workers package.

The job row (ImportJob, IndexBuild, MatchRun…) is committed before enqueue. Every send is also
recorded in ``task_dispatches`` (a small outbox/ledger, written on its own connection so the
caller's transaction is untouched):

* the broker is down → the row stays ``sent_at IS NULL`` with the error; ``reconcile`` (run by
  every worker at start and then periodically, and by ``revive requeue-jobs``) sends it when
  the broker is back — nothing is silently dropped;
* a worker picks the task up → ``claim`` stamps the node, its boot id and a lease that the
  worker's main process keeps renewing (``renew_leases``); the task ends → ``finish``;
* a worker killed mid-task (SIGKILL, OOM, host lost) stops renewing; once the lease has run out
  ``reconcile`` re-sends the task by name. The broker's own redelivery (acks_late) would only
  come back after Redis' visibility timeout (an hour). Tasks are idempotent and resume from
  their row, so a late duplicate delivery does nothing;
* a message the broker lost (Redis restarted without persistence, flushed, evicted): sent, never
  started after REVIVE_DISPATCH_LOST_SECONDS (default 600) and no longer in Redis' queue nor
  its unacked set → re-sent.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from sqlalchemy.orm import Mapped, mapped_column

from revive.db import UtcDateTime, utcnow
from revive.errors import ServiceUnavailable
from revive.extensions import db

logger = logging.getLogger(__name__)

QUEUE_DOWN = "后台任务队列暂不可用：任务已登记，队列恢复后将自动执行"
# A row whose send has not been confirmed after this long is re-sent even without an error
# (the sending process died between the insert and the send).
UNSENT_GRACE = timedelta(minutes=2)
KEEP_FINISHED = timedelta(days=7)


class TaskDispatch(db.Model):
    """One send of a background task: pending, sent, running (leased) or finished."""

    __tablename__ = "task_dispatches"
    __table_args__ = (sa.Index("ix_task_dispatches_open", "finished_at", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_name: Mapped[str] = mapped_column(sa.String(100))
    args: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    task_id: Mapped[str] = mapped_column(sa.String(64), unique=True)  # current Celery id
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # None: not (yet) sent
    send_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    send_error: Mapped[str | None] = mapped_column(sa.String(500))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    worker: Mapped[str | None] = mapped_column(sa.String(255))  # node name
    worker_boot: Mapped[str | None] = mapped_column(sa.String(32))  # one per worker start
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


_T = TaskDispatch.__table__


def _send(task_name: str, args: list[Any], task_id: str) -> None:
    current_app.extensions["celery"].send_task(task_name, args=args, task_id=task_id)


def enqueue(task_name: str, *args: object) -> str | None:
    """Record and send ``task_name(*args)``; return the Celery task id.

    Raises ServiceUnavailable (503, Chinese message) when the broker is down; the dispatch is
    recorded then and ``reconcile`` sends it later. ``deferred()`` tells a view it happened.
    """
    task_id = str(uuid.uuid4())
    arg_list = list(args)
    with db.engine.begin() as conn:
        dispatch_id = conn.execute(
            _T.insert()
            .values(task_name=task_name, args=arg_list, task_id=task_id, created_at=utcnow())
            .returning(_T.c.id)
        ).scalar_one()
    try:
        _send(task_name, arg_list, task_id)
    except Exception as exc:  # kombu raises OperationalError and friends
        logger.warning("Could not enqueue %s%r: %s", task_name, args, exc)
        _mark_send(dispatch_id, error=str(exc) or type(exc).__name__)
        if has_app_context():
            g.revive_queue_deferred = True
        raise ServiceUnavailable(QUEUE_DOWN) from exc
    _mark_send(dispatch_id)
    return task_id


def fan_out(parts: list[tuple[Any, ...]], callback: tuple[Any, ...]) -> str:
    """Send a Celery chord: ``parts`` (each ``(task name, *args)``) run in parallel on any
    workers, then ``callback`` (``(task name, *args)``) gets the list of their results. The
    parts' results travel through the result backend (Redis, or files beside the filesystem
    broker). The sender (a task itself) is in the ledger; if the chord is lost its run stays
    active and ``requeue_stale_runs`` sends the run again. Raises ServiceUnavailable when the
    broker is down."""
    from celery import chord

    celery = current_app.extensions["celery"]
    header = [celery.signature(name, args=list(args)) for name, *args in parts]
    name, *args = callback
    try:
        result = chord(header)(celery.signature(name, args=list(args)))
    except Exception as exc:
        logger.warning("Could not send the fan-out %s: %s", name, exc)
        raise ServiceUnavailable(QUEUE_DOWN) from exc
    return result.id


def deferred() -> bool:
    """True when an enqueue in this request found the broker down (the work is recorded)."""
    return bool(g.get("revive_queue_deferred"))


def _mark_send(dispatch_id: int, *, error: str | None = None) -> None:
    values: dict[str, Any] = {"send_attempts": _T.c.send_attempts + 1, "send_error": error}
    if error is None:
        values["sent_at"] = utcnow()
    else:
        values["send_error"] = error[:500]
    try:
        with db.engine.begin() as conn:
            conn.execute(_T.update().where(_T.c.id == dispatch_id).values(**values))
    except Exception:  # the send itself is what matters; reconcile copes with a stale row
        logger.exception("Could not record the send of dispatch %s", dispatch_id)


# ---------------------------------------------------------------------------- worker side


def claim(task_id: str, worker: str, boot: str, lease: timedelta) -> bool:
    """A worker starts ``task_id``: stamp it (and mark it sent, whatever the sender saw)."""
    now = utcnow()
    with db.engine.begin() as conn:
        result = conn.execute(
            _T.update()
            .where(_T.c.task_id == task_id)
            .values(
                started_at=now,
                worker=worker[:255],
                worker_boot=boot,
                lease_until=now + lease,
                sent_at=sa.func.coalesce(_T.c.sent_at, now),
                finished_at=None,
            )
        )
    return bool(result.rowcount)


def finish(task_id: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            _T.update()
            .where(_T.c.task_id == task_id, _T.c.finished_at.is_(None))
            .values(finished_at=utcnow(), lease_until=None)
        )


def renew_leases(boot: str, lease: timedelta) -> int:
    """The worker ``boot`` is alive: extend the lease of every task it is running."""
    with db.engine.begin() as conn:
        result = conn.execute(
            _T.update()
            .where(_T.c.worker_boot == boot, _T.c.finished_at.is_(None))
            .values(lease_until=utcnow() + lease)
        )
    return result.rowcount


def _due(now: datetime) -> sa.ColumnElement[bool]:
    never_sent = sa.and_(
        _T.c.sent_at.is_(None),
        sa.or_(_T.c.send_error.is_not(None), _T.c.created_at < now - UNSENT_GRACE),
    )
    orphaned = sa.and_(_T.c.started_at.is_not(None), _T.c.lease_until < now)
    return sa.and_(_T.c.finished_at.is_(None), sa.or_(never_sent, orphaned))


def lost_after() -> timedelta:
    raw = os.environ.get("REVIVE_DISPATCH_LOST_SECONDS", "")
    return timedelta(seconds=int(raw) if raw.isdigit() else 600)


def _message_id(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    headers = message.get("headers") or {}
    return headers.get("id") or (message.get("properties") or {}).get("correlation_id")


def broker_holds() -> set[str] | None:
    """Ids of the tasks the Redis broker still holds (queued, or delivered and not acked);
    None for another transport, where a lost message cannot be told from a queued one."""
    conf = current_app.extensions["celery"].conf
    url = str(conf.broker_url or "")
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        queue_name = conf.task_default_queue or "celery"
        held: set[str] = set()
        # kombu's Redis transport: one list per priority step, and the "unacked" hash
        for key in [queue_name] + [f"{queue_name}\x06\x16{p}" for p in (3, 6, 9)]:
            for raw in client.lrange(key, 0, -1):
                held.add(_message_id(json.loads(raw)) or "")
        for raw in client.hvals("unacked"):
            entry = json.loads(raw)
            held.add(_message_id(entry[0] if isinstance(entry, list) and entry else entry) or "")
        return held
    finally:
        client.close()


def _unstarted(now: datetime) -> sa.ColumnElement[bool]:
    """Sent longer than ``lost_after()`` ago and never started."""
    return sa.and_(
        _T.c.finished_at.is_(None), _T.c.started_at.is_(None), _T.c.sent_at < now - lost_after()
    )


def _lost(now: datetime) -> list[int]:
    """Dispatches sent long ago, never started, that the broker no longer has."""
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(_T.c.id, _T.c.task_id).where(_unstarted(now))).all()
    if not rows:
        return []
    try:
        held = broker_holds()
    except Exception as exc:  # broker down: nothing can be told (or sent) now
        logger.warning("Could not read the broker's queue: %s", exc)
        return []
    if held is None:
        return []
    return [r.id for r in rows if r.task_id not in held]


def reconcile(limit: int = 500) -> dict[str, list[int]]:
    """Send dispatches the broker never got and re-send those whose worker died.

    Returns ``{"sent": [...], "resent": [...]}`` (dispatch ids). Stops at the first broker
    error (still down). Rows are locked while re-sent (SKIP LOCKED on PostgreSQL) so two
    workers reconciling at once do not both send one.
    """
    out: dict[str, list[int]] = {"sent": [], "resent": []}
    now = utcnow()
    with db.engine.connect() as conn:
        ids = list(conn.scalars(sa.select(_T.c.id).where(_due(now)).order_by(_T.c.id).limit(limit)))
    lost = set(_lost(now))
    for dispatch_id in sorted(set(ids) | lost):
        due = _due(utcnow())
        if dispatch_id in lost:  # still unstarted (a worker may have taken it meanwhile)
            due = sa.or_(due, _unstarted(utcnow()))
        with db.engine.begin() as conn:
            row = conn.execute(
                sa.select(_T).where(_T.c.id == dispatch_id, due).with_for_update(skip_locked=True)
            ).first()
            if row is None:  # another reconciler took it, or it finished meanwhile
                continue
            task_id = str(uuid.uuid4())
            try:
                _send(row.task_name, list(row.args or []), task_id)
            except Exception as exc:
                conn.execute(
                    _T.update()
                    .where(_T.c.id == dispatch_id)
                    .values(
                        send_attempts=_T.c.send_attempts + 1, send_error=str(exc)[:500] or "error"
                    )
                )
                logger.warning("Broker still unavailable; %d dispatch(es) left", len(ids))
                break
            conn.execute(
                _T.update()
                .where(_T.c.id == dispatch_id)
                .values(
                    task_id=task_id,
                    sent_at=utcnow(),
                    send_attempts=_T.c.send_attempts + 1,
                    send_error=None,
                    started_at=None,
                    worker=None,
                    worker_boot=None,
                    lease_until=None,
                )
            )
            resent = row.started_at is not None or row.sent_at is not None
            (out["resent"] if resent else out["sent"]).append(dispatch_id)
            logger.info(
                "Dispatch %s: %s%r %s as %s",
                dispatch_id,
                row.task_name,
                row.args,
                "sent"
                if not resent
                else "re-sent (worker lost)"
                if row.started_at is not None
                else "re-sent (broker lost it)",
                task_id,
            )
    return out


def in_hand(task_names: list[str], since: datetime) -> set[tuple[Any, ...]]:
    """``(task name, *args)`` of the open dispatches this ledger is already handling: not yet
    sent (``reconcile`` sends them), started (leased: ``reconcile`` re-sends it if the worker
    dies), or sent or re-sent since ``since``. The stale-row sweeps (``requeue_stale_jobs``…)
    leave those alone, whether they run before or after ``reconcile``, so the same work is not
    sent twice. What is left to them: sent long ago and never started."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(_T.c.task_name, _T.c.args).where(
                _T.c.task_name.in_(task_names),
                _T.c.finished_at.is_(None),
                sa.or_(_T.c.sent_at.is_(None), _T.c.started_at.is_not(None), _T.c.sent_at >= since),
            )
        ).all()
    return {(r.task_name, *(r.args or [])) for r in rows}


def prune(older_than: timedelta = KEEP_FINISHED) -> int:
    with db.engine.begin() as conn:
        result = conn.execute(_T.delete().where(_T.c.finished_at < utcnow() - older_than))
    return result.rowcount


def pending_count() -> int:
    """Dispatches recorded but not yet handed to the broker (shown to admins, used by tests)."""
    with db.engine.connect() as conn:
        return conn.scalar(
            sa.select(sa.func.count())
            .select_from(_T)
            .where(_T.c.finished_at.is_(None), _T.c.sent_at.is_(None))
        )
