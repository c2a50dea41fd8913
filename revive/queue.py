"""Background work: send by task name (services never import the workers package), and the one
recovery sweep.

Why this is enough
==================

Every piece of work a task does is a row first (ImportJob, IndexBuild, MatchRun,
StrengthModelVersion, Notification e-mail, PasswordReset e-mail): the row is committed before
the task is sent, so the database — not the broker — is the record of what is owed (an
outbox). The rows carry four columns of delivery bookkeeping (``Delivery``): when the task was
last handed to the broker (``task_sent_at``), which delivery is working on the row
(``task_claimed_by``, a Celery task id), when that delivery last showed life
(``task_heartbeat_at``) and how many deliveries started on it (``task_attempts``).

What Celery guarantees (revive.config.broker_settings):

* ``task_acks_late``: a message is acknowledged when its task *ends*, not when a worker takes
  it. A worker that dies mid-task never acknowledged it, so the broker still holds it.
* ``task_reject_on_worker_lost``: when a pool process dies (SIGKILL, OOM) the worker's main
  process rejects the message with requeue at once, so another process runs it again within
  seconds — the same message, the same task id.
* ``worker_prefetch_multiplier=1``: a worker reserves one message per process, so a dead
  worker strands at most that many messages that it had not started.
* Redis ``visibility_timeout`` (REVIVE_BROKER_VISIBILITY_HOURS, 24 h): a message taken and
  not acknowledged within it is handed out again. That is the broker's only remedy when a
  *whole* worker dies (its main process cannot reject anything), and also a hazard: a task
  still running at the timeout would run twice at once. We do not rely on it for recovery (the
  sweep below is faster), so it is set far above the longest task (a first full index build or
  an all-demand match run over a million patents: tens of minutes), where it only ever
  delivers messages whose rows are long finished — a no-op.

What the tasks guarantee (``claimed``): a delivery first claims its row with one conditional
UPDATE — the row still has work for this task, and nobody else has shown life on it within
REVIVE_WORKER_LOST_SECONDS (or the claim is this very message's, redelivered because its
process died). A delivery that loses the claim exits without touching anything, so a duplicate
message is harmless; a finished row is left alone; a running row whose worker is gone resumes
from what the row says (the domain code is written to resume: an import from
``committed_rows``, a build or run from the start). While it runs, a thread touches
``task_heartbeat_at`` every quarter of REVIVE_WORKER_LOST_SECONDS, so liveness does not depend
on how often the task commits progress (an index build computes for minutes between two
commits). A delivery that finds the row already started MAX_ATTEMPTS times gives the row up
(failed, in Chinese): Celery's immediate requeue of a task that kills its process (a file that
exhausts memory) would otherwise loop for ever.

What Celery cannot give, and the one sweep adds (``resend_stuck``, run by beat every
REVIVE_SWEEP_SECONDS and by ``revive requeue-jobs``):

* the broker was down when the row was committed: the row has no ``task_sent_at``; the sweep
  sends it once the broker answers (after a short grace, so it does not race the sender);
* the broker lost a message (Redis restarted without persistence, flushed, evicted): the row
  was sent but never claimed within REVIVE_MESSAGE_LOST_SECONDS; the sweep sends it again.
  Without reading broker internals, "lost" cannot be told from "still waiting behind a long
  queue", so the threshold is well above a normal wait, and a re-send of a row that is merely
  waiting costs one claim query when the duplicate arrives;
* a whole worker died (SIGKILL of the group, host lost): its row is claimed and its heartbeat
  is older than REVIVE_WORKER_LOST_SECONDS; the sweep re-sends it at once instead of waiting
  for the visibility timeout, and the new delivery takes the claim over. The messages that
  worker had reserved but not started are the case above (sent, never claimed).

A fanned-out match run (a chord of parts, then a merge) holds no claim once its parts are
sent: the parts and the merge touch the run's heartbeat (``touch``) as they go, and the sweep
re-sends the run only when none of them has shown life for REVIVE_MESSAGE_LOST_SECONDS.

Work with no row is either periodic (overdue reminders, digests, dashboard refresh: the next
beat does it) or repaired from the data (``register_check``: patents whose tokens are stale).

Known limit: a task cut off from the database for longer than REVIVE_WORKER_LOST_SECONDS
cannot beat, so the sweep takes it for lost and re-sends it; the new delivery takes the claim
over and the old one's heartbeat stops, but its own next commit may still land. Every task
resumes from its row and the schema refuses duplicates (an institution's application number,
a demand's patent), so the cost is work done twice or, at worst, a job failed with its message
— never a row twice.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from sqlalchemy.orm import Mapped, mapped_column

from revive.db import UtcDateTime, as_utc, utcnow
from revive.errors import ServiceUnavailable
from revive.extensions import db

logger = logging.getLogger(__name__)

QUEUE_DOWN = "后台任务队列暂不可用：任务已登记，队列恢复后将自动执行"
# Deliveries that may start on one row: enough for a few worker deaths in a row, few enough
# that a task which kills its process every time stops within minutes.
MAX_ATTEMPTS = 5
GAVE_UP = "任务执行过程中工作进程多次中断，已停止自动重试；请检查后重新发起"
# A row committed without task_sent_at is sent by the sweep after this long (capped by
# REVIVE_MESSAGE_LOST_SECONDS): the sender normally stamps it within milliseconds.
UNSENT_GRACE = timedelta(minutes=1)
SWEEP_BATCH = 500  # rows per kind and sweep


class Delivery:
    """Delivery bookkeeping of a row a task works on (mixed into the model)."""

    task_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    task_claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    task_heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    task_attempts: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    def reset_delivery(self) -> None:
        """The row enters a new waiting state (a new phase, or parked): not sent, not claimed,
        no attempts. The caller commits."""
        self.task_sent_at = self.task_claimed_by = self.task_heartbeat_at = None
        self.task_attempts = 0


@dataclass(frozen=True)
class Kind:
    """A task that works on one row of ``model``, called with the row's id.

    ``active()``: the row has work left for this task (e.g. its status is queued or running).
    ``ready()``: extra condition before the sweep sends a waiting row (a match run waits for
    a first index). ``changed``: the row's last-change column (grace of an unsent row).
    ``give_up(row_id)``: mark the row failed after MAX_ATTEMPTS (commits).
    """

    task: str
    model: Any
    active: Callable[[], sa.ColumnElement[bool]]
    give_up: Callable[[int], None]
    ready: Callable[[], sa.ColumnElement[bool]] | None = None
    changed: Any = None


_kinds: dict[str, Kind] = {}
_checks: dict[str, Callable[[bool], list[Any]]] = {}


def register(kind: Kind) -> Kind:
    """Declare ``kind.task`` as working on rows of ``kind.model`` (called by each domain)."""
    _kinds[kind.task] = kind
    return kind


def register_check(task: str, check: Callable[[bool], list[Any]]) -> None:
    """Work with no row of its own, repaired from the data: ``check(full)`` sends what is due
    and returns the first arguments sent (``full``: a manual run, look at everything)."""
    _checks[task] = check


def kind(task: str) -> Kind:
    return _kinds[task]


# ---------------------------------------------------------------------------- sending


def enqueue(task_name: str, *args: object) -> str | None:
    """Send ``task_name(*args)``; return the Celery task id.

    Raises ServiceUnavailable (503, Chinese message) when the broker is down; ``deferred()``
    then tells a view. Work with a row goes through ``send`` instead.
    """
    try:
        # ignore_result: send_task otherwise subscribes the web process to a Redis result
        # channel for every task id (task_ignore_result does not reach send_task), a
        # subscription that no result ever ends; our rows are the record.
        result = current_app.extensions["celery"].send_task(
            task_name, args=list(args), ignore_result=True
        )
    except Exception as exc:  # kombu raises OperationalError and friends
        logger.warning("Could not enqueue %s%r: %s", task_name, args, exc)
        if has_app_context():
            g.revive_queue_deferred = True
        raise ServiceUnavailable(QUEUE_DOWN) from exc
    return getattr(result, "id", result)


def send(task_name: str, row_id: int, *, own_connection: bool = False) -> str | None:
    """Send ``task_name(row_id)`` for a committed row and stamp ``task_sent_at`` (committed).

    Broker down: returns None, the row stays unsent and the sweep sends it when the broker is
    back (``deferred()`` tells a view). ``own_connection``: stamp on a connection of its own
    (from a session event, where the session cannot commit)."""
    k = kind(task_name)  # an unregistered task fails here, before anything is sent
    sent_at = utcnow()
    try:
        task_id = enqueue(task_name, row_id)
    except ServiceUnavailable:
        logger.warning("%s(%s) left unsent: broker unavailable", task_name, row_id)
        return None
    _stamp_sent(k, row_id, task_id, sent_at, own_connection=own_connection)
    return task_id


def _stamp_sent(
    k: Kind, row_id: int, task_id: str | None, sent_at: datetime, *, own_connection: bool
) -> None:
    """Record the send, dated when it was made (before ``enqueue``): a worker that takes the
    message at once beats before this stamp is written, and a send dated after the worker's
    first heartbeat read as "not this delivery" — a worker killed in its first seconds was
    re-sent after REVIVE_MESSAGE_LOST_SECONDS (10 min) instead of REVIVE_WORKER_LOST_SECONDS."""
    values: dict[str, Any] = {"task_sent_at": sent_at}
    if hasattr(k.model, "celery_task_id"):
        values["celery_task_id"] = task_id
    stmt = sa.update(k.model).where(k.model.id == row_id).values(**values)
    try:
        if own_connection:
            with db.engine.begin() as conn:
                conn.execute(stmt)
        else:
            db.session.execute(stmt.execution_options(synchronize_session=False))
            db.session.commit()
    except Exception:  # the send is what matters: the sweep copes with a missing stamp
        db.session.rollback()
        logger.exception("Could not record the send of %s(%s)", k.task, row_id)


def fan_out(parts: list[tuple[Any, ...]], callback: tuple[Any, ...]) -> str:
    """Send a Celery chord: ``parts`` (each ``(task name, *args)``) run in parallel on any
    workers, then ``callback`` (``(task name, *args)``) gets the list of their results. The
    parts' results travel through the result backend (Redis, or files beside the filesystem
    broker). The caller's row stays claimable by a re-send when no part shows life (see
    matching.score_shards). Raises ServiceUnavailable when the broker is down."""
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


# ---------------------------------------------------------------------------- thresholds


def worker_lost_after() -> timedelta:
    return timedelta(seconds=int(current_app.config["REVIVE_WORKER_LOST_SECONDS"]))


def message_lost_after() -> timedelta:
    return timedelta(seconds=int(current_app.config["REVIVE_MESSAGE_LOST_SECONDS"]))


def stall_notice(
    row: Any, now: datetime | None = None, *, again: str = "无需重新上传"
) -> str | None:
    """What someone watching an active job's progress should be told when it stands still
    because its worker died: the bar stops, and without a word people upload the file again
    or give up. A claimed row whose heartbeat (every quarter of REVIVE_WORKER_LOST_SECONDS)
    missed two beats has lost its worker; the sweep re-sends it once the heartbeat is
    REVIVE_WORKER_LOST_SECONDS old, and the task resumes where its row says. None while the
    job is alive (or not running)."""
    beat_at = as_utc(row.task_heartbeat_at)
    if row.task_claimed_by is None or beat_at is None:
        return None
    now = now or utcnow()
    lost = worker_lost_after()
    silent = now - beat_at
    if silent <= lost / 2:
        return None
    sweep = timedelta(seconds=int(current_app.config["REVIVE_SWEEP_SECONDS"]))
    wait = max(timedelta(0), lost - silent) + sweep
    minutes = max(1, round(wait.total_seconds() / 60))
    return (
        f"后台处理进程已有 {int(silent.total_seconds())} 秒没有响应（可能已重启）："
        f"系统会在约 {minutes} 分钟内自动接着处理，已完成的部分不会重做，{again}"
    )


# A row sent to the broker that no worker has taken for this long gets a notice on its page.
WAITING_NOTICE_AFTER = timedelta(minutes=2)


def waiting_notice(row: Any, now: datetime | None = None) -> str | None:
    """What someone watching a job that no worker has taken should be told: with every worker
    stopped (or all busy) a job would otherwise read 排队中 for ever, as if it were coming.
    None until the row has waited WAITING_NOTICE_AFTER since it was sent, or once a worker
    has it (then ``stall_notice`` watches it)."""
    sent = as_utc(row.task_sent_at)
    if row.task_claimed_by is not None or sent is None:
        return None
    waited = (now or utcnow()) - sent
    if waited < WAITING_NOTICE_AFTER:
        return None
    if str(getattr(row, "status", "")) == "running":
        # Started, then handed to parts in several workers (an all-demand run's fan-out): the
        # row is not held while they work. An operator killed a worker holding a part and read
        # "no worker has taken it" beside an idle worker; the sweep sends it again once the
        # message-lost time has passed.
        left = max(timedelta(0), message_lost_after() - waited)
        minutes = max(1, round(left.total_seconds() / 60))
        spent = int(waited.total_seconds() // 60)
        return (
            f"任务已由后台处理进程开始处理（可能分给多个进程），已 {spent} 分钟没有完成："
            f"如有处理进程中断，系统会在约 {minutes} 分钟内自动重新发起，无需重新提交"
        )
    return (
        f"任务已排队 {int(waited.total_seconds() // 60)} 分钟，仍没有后台处理进程接手："
        "处理进程可能没有运行，或都在处理其他任务。任务已保存，处理进程可用后会自动开始，"
        "无需重新提交；如长时间不开始，请联系平台管理员"
    )


def standstill_notice(row: Any, *, again: str = "无需重新上传") -> str | None:
    """Either notice for an active job that stands still: its worker went quiet
    (``stall_notice``) or no worker has taken it (``waiting_notice``); None otherwise.
    ``again``: what need not be done again (the job's own words)."""
    return stall_notice(row, again=again) or waiting_notice(row)


# ---------------------------------------------------------------------------- worker side


def claim(task_name: str, row_id: int, task_id: str) -> bool:
    """The delivery ``task_id`` takes row ``row_id`` for ``task_name`` (committed). False: the
    row is finished, or another delivery is alive on it, or it was given up."""
    k = kind(task_name)
    m = k.model
    now = utcnow()
    free = sa.or_(
        m.task_heartbeat_at.is_(None),
        m.task_heartbeat_at < now - worker_lost_after(),
        m.task_claimed_by == task_id,  # this message again: its process died (requeued)
    )
    db.session.rollback()
    taken = db.session.execute(
        sa.update(m)
        .where(m.id == row_id, k.active(), free, m.task_attempts < MAX_ATTEMPTS)
        .values(
            task_claimed_by=task_id,
            task_heartbeat_at=now,
            task_attempts=m.task_attempts + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if taken:
        return True
    attempts = db.session.scalar(sa.select(m.task_attempts).where(m.id == row_id, k.active(), free))
    db.session.rollback()
    if attempts is not None and attempts >= MAX_ATTEMPTS:
        logger.error("%s(%s): started %d times, given up", task_name, row_id, attempts)
        k.give_up(row_id)
    return False


def release(task_name: str, row_id: int, task_id: str) -> None:
    """The delivery ended (committed). The heartbeat stays as its last sign of life: a row
    the task left active (a fanned-out run, whose parts go on) is not taken by a duplicate
    before REVIVE_WORKER_LOST_SECONDS; a row entering a new phase is reset by its service."""
    m = kind(task_name).model
    db.session.rollback()
    db.session.execute(
        sa.update(m)
        .where(m.id == row_id, m.task_claimed_by == task_id)
        .values(task_claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


class _Heartbeat(threading.Thread):
    """Touches the row's heartbeat while the task runs; stops when the claim is gone."""

    def __init__(self, k: Kind, row_id: int, task_id: str, every: float) -> None:
        super().__init__(name=f"heartbeat-{k.task}-{row_id}", daemon=True)
        self.engine = db.engine  # this thread has no app context
        m = k.model
        self.stmt = (
            sa.update(m)
            .where(m.id == row_id, m.task_claimed_by == task_id)
            .execution_options(synchronize_session=False)
        )
        self.every = every
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                with self.engine.begin() as conn:
                    if not conn.execute(self.stmt.values(task_heartbeat_at=utcnow())).rowcount:
                        logger.warning("%s: the claim was taken over; heartbeat stops", self.name)
                        return
            except Exception as exc:  # database unreachable: try again on the next beat
                logger.warning("%s: heartbeat failed: %s", self.name, exc)

    def stop(self) -> None:
        self.stopped.set()
        self.join(5)


def _delivery_id() -> tuple[str, bool]:
    """(this delivery's Celery task id, whether it runs in a worker)."""
    from celery import current_task

    request = getattr(current_task, "request", None)
    if request is not None and request.id and not request.called_directly:
        return request.id, True
    return uuid.uuid4().hex, False


@contextmanager
def claimed(task_name: str, row_id: int) -> Iterator[bool]:
    """Claim the row for the current delivery, keep its heartbeat while the block runs, release
    it afterwards. Yields False when the claim was lost: the block must then do nothing."""
    task_id, in_worker = _delivery_id()
    if not claim(task_name, row_id, task_id):
        logger.info("%s(%s): not claimed (finished, or held by a live delivery)", task_name, row_id)
        yield False
        return
    beat = None
    if in_worker:
        every = max(worker_lost_after().total_seconds() / 4, 0.2)
        beat = _Heartbeat(kind(task_name), row_id, task_id, every)
        beat.start()
    try:
        yield True
    finally:
        if beat is not None:
            beat.stop()
        try:
            release(task_name, row_id, task_id)
        except Exception:  # the row stays claimed; its heartbeat runs out and the sweep re-sends
            logger.exception("Could not release %s(%s)", task_name, row_id)


def touch(task_name: str, row_id: int) -> None:
    """A sign of life on a row no delivery holds (a fanned-out run's parts): keeps the sweep
    and duplicate deliveries off it while the parts progress. In the caller's transaction."""
    m = kind(task_name).model
    db.session.execute(
        sa.update(m)
        .where(m.id == row_id)
        .values(task_heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------------------- the sweep


def _due(k: Kind, now: datetime) -> sa.ColumnElement[bool]:
    m = k.model
    worker_lost = now - worker_lost_after()
    message_lost = now - message_lost_after()
    grace = now - min(UNSENT_GRACE, message_lost_after())
    changed = k.changed if k.changed is not None else m.updated_at
    lost = sa.and_(  # its delivery stopped beating: re-send once, then after message_lost
        m.task_claimed_by.is_not(None),
        m.task_heartbeat_at < worker_lost,
        sa.or_(
            m.task_sent_at.is_(None),
            m.task_sent_at < m.task_heartbeat_at,
            m.task_sent_at < message_lost,
        ),
    )
    unsent = sa.and_(m.task_claimed_by.is_(None), m.task_sent_at.is_(None), changed < grace)
    unstarted = sa.and_(
        m.task_claimed_by.is_(None),
        m.task_sent_at < message_lost,
        sa.or_(m.task_heartbeat_at.is_(None), m.task_heartbeat_at < message_lost),
    )
    waiting = sa.or_(unsent, unstarted)
    if k.ready is not None:
        waiting = sa.and_(waiting, k.ready())
    return sa.and_(k.active(), sa.or_(lost, waiting))


def mark_failed(model: type[Any], row_id: int, status: Any, error: str) -> Any | None:
    """Roll back the failed work, then record on the job row that it failed (``status``, the
    message cut to 2,000 characters, ``finished_at``) and commit. The failure and give-up paths
    of every kind share it; returns the row, or None when it is gone."""
    db.session.rollback()
    row = db.session.get(model, row_id)
    if row is not None:
        row.status, row.error, row.finished_at = status, error[:2000], utcnow()
        db.session.commit()
    return row


SWEEP_STAMP = "sweep-heartbeat"  # a file in REVIVE_DATA_DIR, touched by every sweep


def sweep_stamp_path() -> Path:
    return Path(current_app.config["REVIVE_DATA_DIR"]) / SWEEP_STAMP


def stamp_sweep() -> None:
    """Leave a mark that the sweep ran (the data folder is shared by web and workers): the
    health check tells when beat or every worker has stopped (an operator stopped beat, and
    pages kept promising recovery "约 1 分钟内")."""
    try:
        path = sweep_stamp_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError:
        logger.warning("Could not mark the sweep's run", exc_info=True)


def last_sweep() -> datetime | None:
    """When the recovery sweep last ran (any worker), or None when never."""
    try:
        return datetime.fromtimestamp(sweep_stamp_path().stat().st_mtime, UTC)
    except OSError:
        return None


def resend_stuck(*, full: bool = False) -> dict[str, list[Any]]:
    """The one recovery sweep: send rows the broker never got, re-send rows whose message was
    lost or whose worker vanished, give up rows started MAX_ATTEMPTS times, and run the
    registered checks. Returns ``{task name: [first argument sent, …]}`` (non-empty only).
    Stops sending at the first broker error (still down: the next sweep tries again)."""
    out: dict[str, list[Any]] = {}
    now = utcnow()
    stamp_sweep()
    try:
        for k in _kinds.values():
            m = k.model
            rows = db.session.execute(
                sa.select(m.id, m.task_attempts)
                .where(_due(k, now))
                .order_by(m.id)
                .limit(SWEEP_BATCH)
            ).all()
            db.session.rollback()
            for row_id, attempts in rows:
                if attempts >= MAX_ATTEMPTS:
                    logger.error("%s(%s): started %d times, given up", k.task, row_id, attempts)
                    k.give_up(row_id)
                    continue
                sent_at = utcnow()
                task_id = enqueue(k.task, row_id)
                _stamp_sent(k, row_id, task_id, sent_at, own_connection=False)
                out.setdefault(k.task, []).append(row_id)
        for task, check in _checks.items():
            sent = check(full)
            if sent:
                out.setdefault(task, []).extend(sent)
    except ServiceUnavailable:
        logger.warning("Broker unavailable; the sweep stops here (sent so far: %s)", out)
    if out:
        logger.info("Sweep sent %s", out)
    return out


def stuck_count() -> int:
    """Rows the sweep would send now (for tests and an admin's glance)."""
    now = utcnow()
    total = 0
    for k in _kinds.values():
        total += db.session.scalar(
            sa.select(sa.func.count()).select_from(k.model).where(_due(k, now))
        )
    return total
