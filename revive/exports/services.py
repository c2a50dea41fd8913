"""Export job lifecycle: request → build (worker) → download → expiry.

    needs_job       a large .xlsx (more than REVIVE_EXPORT_DIRECT_MAX_ROWS rows) becomes a job;
                    anything smaller, and every CSV, is streamed by the request as before
    request_export  the user's identical unfinished job, reused; else a new QUEUED job
                    (committed, then sent as "exports.build"), at most REVIVE_EXPORT_MAX_ACTIVE
                    unfinished jobs per user
    build_job       (worker) QUEUED/RUNNING → RUNNING → SUCCEEDED, the file written as the
                    requesting user; FAILED with a Chinese message (no file) when that user
                    was deactivated, lost the role or changed organisation meanwhile
    file_for        the finished file, for its requester only (anyone else: 404)
    cleanup         (beat) files older than REVIVE_EXPORT_KEEP_HOURS deleted, jobs EXPIRED

The job row is the outbox of its task (revive.queue): each delivery claims the row first; the
recovery sweep sends a job the broker never got or lost, and re-sends one whose worker died.
A redelivery writes the file again from the start (an export changes nothing, so there is
nothing to resume): each delivery writes a part file of its own and renames it onto the
job's path only once the workbook is complete, so a half-written file is never served.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from revive import queue
from revive.accounts.models import User
from revive.common.spreadsheets import write_xlsx
from revive.db import as_utc, lock_row, utcnow
from revive.errors import DomainError, NotFoundError, PermissionDenied
from revive.exports import registry
from revive.exports.models import ExportJob, ExportStatus
from revive.exports.registry import ExportKind, Params
from revive.extensions import db

logger = logging.getLogger(__name__)

TASK = "exports.build"
ACTIVE = frozenset({ExportStatus.QUEUED, ExportStatus.RUNNING})
FORMATS = frozenset({"xlsx"})  # what a job builds; a CSV streams row by row in the request
PROGRESS_EVERY = 500  # rows between two progress updates of a running job
GENERIC_FAILURE = "导出过程中发生内部错误，请稍后重新导出；如反复出现请联系平台管理员"
DEACTIVATED = "发起导出的账号已停用，导出已取消，未生成文件"
ROLE_LOST = "发起导出的账号已无权导出{label}（角色已变更），导出已取消，未生成文件"
SCOPE_CHANGED = "发起导出的账号的角色或所属单位已变更，导出已取消，未生成文件；如仍需要，请重新导出"


class TooManyExports(DomainError):
    status_code = 429
    code = "too_many_exports"
    default_message = "进行中的导出任务过多，请稍后再试"


# ---------------------------------------------------------------------------- settings


def direct_max_rows() -> int:
    return int(current_app.config["REVIVE_EXPORT_DIRECT_MAX_ROWS"])


def keep_hours() -> int:
    return int(current_app.config["REVIVE_EXPORT_KEEP_HOURS"])


def max_active() -> int:
    return int(current_app.config["REVIVE_EXPORT_MAX_ACTIVE"])


def export_dir() -> Path:
    """Where finished files are kept: REVIVE_DATA_DIR/exports, shared by web and workers."""
    path = Path(current_app.config["REVIVE_DATA_DIR"]) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------------------- access


def scope_of(user: User) -> str:
    """What decides which rows an export gives ``user``: role, organisation, college."""
    return f"{user.role.value}:{user.organization_id or ''}:{user.college_id or ''}"


def _check_may_export(kind: ExportKind, user: User) -> None:
    if user.role not in kind.roles:
        raise PermissionDenied()


def get_job_for(user: User, job_id: int) -> ExportJob:
    """The job if ``user`` asked for it; NotFoundError otherwise (no existence leak): an
    export holds what its requester may see, so nobody else opens it, administrators included."""
    job = db.session.scalar(
        sa.select(ExportJob).where(ExportJob.id == job_id, ExportJob.created_by_id == user.id)
    )
    if job is None:
        raise NotFoundError("未找到该导出任务")
    return job


def list_jobs(user: User, limit: int = 50) -> list[ExportJob]:
    """The user's latest exports ("我的导出")."""
    return list(
        db.session.scalars(
            sa.select(ExportJob)
            .where(ExportJob.created_by_id == user.id)
            .order_by(ExportJob.id.desc())
            .limit(limit)
        )
    )


def stall_notice(job: ExportJob) -> str | None:
    """What the job's page says while an active job stands still because its worker died
    (``queue.stall_notice`` decides; the wording is an export's: the file is written again
    from the start, nothing needs to be asked again). None otherwise."""
    if job.status not in ACTIVE:
        return None
    if queue.stall_notice(job) is None:
        return queue.waiting_notice(job)  # no worker has taken it yet (or None)
    silent = int((utcnow() - as_utc(job.task_heartbeat_at)).total_seconds())
    return (
        f"后台处理进程已有 {silent} 秒没有响应（可能已重启）：系统会在几分钟内自动重新生成文件，"
        "无需重新导出"
    )


# ---------------------------------------------------------------------------- request


def needs_job(kind: ExportKind, user: User, params: Params, fmt: str) -> bool:
    """A .xlsx of more than REVIVE_EXPORT_DIRECT_MAX_ROWS rows is built by a worker: openpyxl
    writes the whole workbook before its first byte can be sent. Counted with a limit, so a
    million-row scope costs no full count here."""
    if fmt not in FORMATS:
        return False
    limit = direct_max_rows()
    return kind.count(user, params, limit + 1) > limit


def params_key(kind: str, fmt: str, params: Params) -> str:
    text = json.dumps([kind, fmt, params], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def request_export(
    kind_name: str, user: User, params: Params, fmt: str = "xlsx", *, enqueue: bool = True
) -> tuple[ExportJob, bool]:
    """``(job, reused)``: the user's unfinished job for the same rows (nothing new queued),
    or a new QUEUED job, committed and sent. TooManyExports (429) when the user already has
    REVIVE_EXPORT_MAX_ACTIVE unfinished jobs. With the broker down the job stays unsent and
    the recovery sweep sends it once the broker is back (``queue.deferred()`` tells a view)."""
    kind = registry.get(kind_name)
    _check_may_export(kind, user)
    if fmt not in FORMATS:
        raise NotFoundError("不支持的导出格式")
    key = params_key(kind.name, fmt, params)
    scope = scope_of(user)
    # One user's requests one at a time: the reuse check, the cap and the insert below are
    # not interleaved with a second click (or a second tab) of the same user.
    lock_row(User, user.id)
    mine = sa.and_(ExportJob.created_by_id == user.id, ExportJob.status.in_(ACTIVE))
    same = db.session.scalar(
        sa.select(ExportJob)
        .where(
            mine,
            ExportJob.kind == kind.name,
            ExportJob.file_format == fmt,
            ExportJob.params_key == key,
            ExportJob.scope == scope,
        )
        .order_by(ExportJob.id.desc())
        .limit(1)
    )
    if same is not None:
        db.session.commit()
        return same, True
    active = db.session.scalar(sa.select(sa.func.count(ExportJob.id)).where(mine)) or 0
    cap = max_active()
    if active >= cap:
        db.session.rollback()
        raise TooManyExports(
            f"您已有 {active} 个导出任务正在进行（每人最多同时 {cap} 个），"
            "请等其中一个完成后再导出；进度可在“我的导出”中查看"
        )
    names = kind.names(user, params)
    job = ExportJob(
        kind=kind.name,
        status=ExportStatus.QUEUED,
        created_by_id=user.id,
        scope=scope,
        params=params,
        params_key=key,
        file_format=fmt,
        filename=f"{names.name}.{fmt}"[:255],
        ascii_filename=f"{names.ascii_name}.{fmt}"[:255],
        total_rows=0,
        processed_rows=0,
        stored_path=str(export_dir() / f"{secrets.token_hex(16)}.{fmt}"),
    )
    db.session.add(job)
    db.session.commit()
    if enqueue:
        queue.send(TASK, job.id)
    return job, False


# ---------------------------------------------------------------------------- the worker


class _Counted:
    """The rows, passed through while counting them; every ``every`` rows the job's
    processed_rows is written on a connection of its own (the export's read, a server-side
    cursor on PostgreSQL, stays open in the session's transaction meanwhile)."""

    def __init__(self, job_id: int, rows: Iterable[Sequence[Any]], every: int) -> None:
        self.job_id, self.rows, self.every = job_id, rows, max(1, every)
        self.count = 0
        # What stopped the rows: kept, not raised through openpyxl's writer (the workbook is
        # then closed cleanly), and raised by ``build_job`` once it is.
        self.error: Exception | None = None

    def __iter__(self) -> Iterator[Sequence[Any]]:
        try:
            for row in self.rows:
                yield row
                self.count += 1
                if self.count % self.every == 0:
                    _record_progress(self.job_id, self.count)
        except Exception as exc:
            self.error = exc


def _record_progress(job_id: int, processed: int) -> None:
    stmt = (
        sa.update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.RUNNING)
        .values(processed_rows=processed)
    )
    with db.engine.begin() as conn:
        conn.execute(stmt)


def _check_requester(kind: ExportKind, job: ExportJob, user: User | None) -> User:
    """The requester as they are now, if the file may still be built for them: the rows are
    read with their permissions, so a deactivated account, a role that no longer may export
    this, or another organisation or college since the request (other rows) stops the job."""
    if user is None or not user.is_active:
        raise PermissionDenied(DEACTIVATED)
    if user.role not in kind.roles:
        raise PermissionDenied(ROLE_LOST.format(label=kind.label))
    if scope_of(user) != job.scope:
        raise PermissionDenied(SCOPE_CHANGED)
    return user


def _part_files(final: Path) -> list[Path]:
    return list(final.parent.glob(f"{final.name}.*.part"))


def _discard(*paths: Path | None) -> None:
    for path in paths:
        if path is not None:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                logger.warning("Could not delete %s", path, exc_info=True)


def build_job(job_id: int, *, progress_every: int = PROGRESS_EVERY) -> ExportJob | None:
    """Write the job's file as its requester (from the start, also after a dead worker)."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.status not in ACTIVE:
        return job
    part: Path | None = None
    try:
        kind = registry.get(job.kind)
        user = _check_requester(kind, job, db.session.get(User, job.created_by_id))
        params = dict(job.params or {})
        job.status, job.error = ExportStatus.RUNNING, None
        job.started_at = utcnow()
        job.processed_rows = job.total_rows = job.file_size = 0
        db.session.commit()

        job.total_rows = kind.count(user, params, None)  # the bar's denominator
        db.session.commit()
        names = kind.names(user, params)
        final = Path(job.stored_path)
        final.parent.mkdir(parents=True, exist_ok=True)
        # A part file of this delivery's own: a delivery that lost its worker, or one still
        # writing after the sweep gave its row to another (queue's known limit), never
        # writes into this one.
        part = final.with_name(f"{final.name}.{secrets.token_hex(6)}.part")
        rows = _Counted(job_id, kind.rows(user, params), progress_every)
        write_xlsx(part, kind.header(), rows, sheet_title=names.sheet_title)
        if rows.error is not None:
            raise rows.error
        db.session.rollback()  # the export only read: end its transaction before writing
        os.replace(part, final)  # complete, or not there at all
        part = None
        _discard(*_part_files(final))  # left by deliveries whose worker died
        return _finish(job_id, rows.count, final.stat().st_size)
    except DomainError as exc:
        _discard(part)
        return _fail(job_id, exc.message)
    except Exception:
        logger.exception("Export job %s crashed", job_id)
        _discard(part)
        _fail(job_id, GENERIC_FAILURE)
        raise


def _finish(job_id: int, rows: int, size: int) -> ExportJob | None:
    db.session.execute(
        sa.update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status.in_(ACTIVE))
        .values(
            status=ExportStatus.SUCCEEDED,
            processed_rows=rows,
            total_rows=rows,  # what was written (the data may have moved since the count)
            file_size=size,
            finished_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.expire_all()
    return db.session.get(ExportJob, job_id)


def _fail(job_id: int, message: str) -> ExportJob | None:
    """Mark an unfinished job FAILED with ``message`` (committed) and delete whatever file it
    has: a failed export leaves none behind. A job another delivery finished stays finished."""
    db.session.rollback()
    job = db.session.get(ExportJob, job_id)
    if job is None or job.status not in ACTIVE:
        return job
    if job.stored_path:
        final = Path(job.stored_path)
        _discard(final, *_part_files(final))
    job.status, job.error, job.finished_at = ExportStatus.FAILED, message[:2000], utcnow()
    job.stored_path = None
    db.session.commit()
    return job


def _give_up(job_id: int) -> None:
    _fail(job_id, queue.GAVE_UP)


queue.register(
    queue.Kind(
        TASK,
        ExportJob,
        active=lambda: ExportJob.status.in_(list(ACTIVE)),
        give_up=_give_up,
    )
)


# ---------------------------------------------------------------------------- download


def file_for(user: User, job_id: int) -> tuple[ExportJob, Path]:
    """The finished file of the user's own job. NotFoundError for anyone else's job, one not
    finished (a half-written file is never served), and one whose file has expired;
    PermissionDenied when the requester's role or organisation changed since (the file holds
    what the old one could see)."""
    job = get_job_for(user, job_id)
    if job.status == ExportStatus.EXPIRED:
        raise NotFoundError(f"导出文件已超过保留期限（{keep_hours()} 小时）并已删除，请重新导出")
    if job.status != ExportStatus.SUCCEEDED or not job.stored_path:
        raise NotFoundError("导出文件尚未生成")
    kind = registry.get(job.kind)
    if user.role not in kind.roles or scope_of(user) != job.scope:
        raise PermissionDenied("您的账号角色或所属单位已变更，该文件不再提供下载，请重新导出")
    path = Path(job.stored_path)
    if not path.is_file():
        raise NotFoundError("导出文件已不存在，请重新导出")
    return job, path


def expires_at(job: ExportJob) -> Any:
    """When a finished job's file is deleted (None while it runs)."""
    if job.finished_at is None or job.status != ExportStatus.SUCCEEDED:
        return None
    return as_utc(job.finished_at) + timedelta(hours=keep_hours())


# ---------------------------------------------------------------------------- cleanup


def cleanup() -> dict[str, int]:
    """Delete the files of jobs finished more than REVIVE_EXPORT_KEEP_HOURS ago (the job
    becomes EXPIRED, its path NULL), and any file in the exports folder older than that which
    no job points at (part files of dead workers). Returns what it did (the beat's log)."""
    cutoff = utcnow() - timedelta(hours=keep_hours())
    expired = 0
    due = db.session.execute(
        sa.select(ExportJob.id, ExportJob.stored_path).where(
            ExportJob.status == ExportStatus.SUCCEEDED, ExportJob.finished_at < cutoff
        )
    ).all()
    db.session.rollback()
    for job_id, stored in due:
        if stored:
            final = Path(stored)
            _discard(final, *_part_files(final))
        expired += db.session.execute(
            sa.update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.SUCCEEDED)
            .values(status=ExportStatus.EXPIRED, stored_path=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
    kept = {
        Path(p).name
        for p in db.session.scalars(
            sa.select(ExportJob.stored_path).where(ExportJob.stored_path.is_not(None))
        )
    }
    db.session.rollback()
    strays = 0
    for path in export_dir().iterdir():
        if not path.is_file() or path.name in kept:
            continue
        try:
            old = path.stat().st_mtime < cutoff.timestamp()
        except OSError:  # deleted meanwhile
            continue
        if old:
            _discard(path)
            strays += 1
    if expired or strays:
        logger.info("Export cleanup: %d files expired, %d stray files deleted", expired, strays)
    return {"expired": expired, "strays": strays}
