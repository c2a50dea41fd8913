"""Import job lifecycle: upload → validate (dry run) → commit, each step committing its own work.

    create_job             save the file, job QUEUED, commit, enqueue "imports.validate"
                           (create_patent_import: the patents kind's access rules first)
    validate_job           (worker) QUEUED → VALIDATING → VALIDATED with preview counts and
                           row errors; FAILED with a Chinese message for a file-level problem
    request_commit         VALIDATED → COMMIT_QUEUED, enqueue "imports.commit"
    commit_job             (worker) → COMMITTING → COMMITTED; batches of COMMIT_BATCH rows, each
                           batch one transaction together with the job's counters, so a worker
                           killed mid-way resumes from ``committed_rows`` when redelivered
    cancel_job, get_job_for, visible_jobs
    cleanup_uploads        (beat, hourly) jobs left 待确认 over REVIVE_IMPORT_PENDING_DAYS are
                           cancelled and their files deleted; files of finished jobs deleted
                           REVIVE_UPLOAD_KEEP_DAYS after the end

A user has at most REVIVE_IMPORT_MAX_ACTIVE unfinished jobs (queued, validating, 待确认,
committing): a security review uploaded a dozen files in a row, each queued a validation and
each file, holding inventors' contacts, stayed on disk for as long as nobody confirmed it.
Uploaded files are the server's owner's alone (0600, folders 0700).

What a job's rows mean is its ``kind`` (imports.registry): the domains register a row spec,
an apply function and access rules; this module never imports them.

Both worker steps are idempotent: they act only from the statuses they own and a second
delivery of a finished job does nothing. The job row is the outbox of both tasks (revive.queue:
each delivery claims the row first; the recovery sweep sends a job the broker never got or
lost, and re-sends one whose worker died).

Neither step ever reads the file inside a transaction (``_end_transaction``): a large workbook
takes minutes to read, and a transaction held open meanwhile locked SQLite against every
write (logins included) and held PostgreSQL locks and a snapshot. The file is read and its
rows checked with no transaction open; each batch is then planned and written in a short
transaction of its own.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import re
import secrets
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from revive import clock, queue
from revive.accounts.models import College, Organization, OrgKind, Role, User
from revive.common.spreadsheets import add_sheet, write_xlsx
from revive.db import RACED, lock_row, retried, utcnow
from revive.errors import (
    ConflictError,
    DomainError,
    InvalidTransition,
    NotFoundError,
    PermissionDenied,
    ValidationFailed,
)
from revive.extensions import db
from revive.imports import registry
from revive.imports.models import ImportJob, ImportRowError, ImportStatus
from revive.imports.reader import (
    FileRejected,
    ReadLimits,
    Table,
    line_label,
    read_table,
    split_line,
)
from revive.imports.registry import RowSpec
from revive.imports.rows import RowResult
from revive.pagination import Page, paginate

logger = logging.getLogger(__name__)

# A Core insert of the error rows, executed many: one statement a page of rows. The ORM's bulk
# insert (sa.insert(ImportRowError)) groups rows by which values are None (column, value), so
# a file of mixed errors would be sent one INSERT a row.
ROW_ERRORS_INSERT = sa.insert(ImportRowError.__table__)
VALIDATE_BATCH = 500
COMMIT_BATCH = 1000
PATENTS = "patents"
IMPORT_ROLES = frozenset({Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.PLATFORM_ADMIN})
ACTIVE = frozenset(
    {
        ImportStatus.QUEUED,
        ImportStatus.VALIDATING,
        ImportStatus.COMMIT_QUEUED,
        ImportStatus.COMMITTING,
    }
)
# Not finished: the jobs a user's cap counts (ACTIVE, and 待确认 waiting for its confirmation).
UNFINISHED = ACTIVE | {ImportStatus.VALIDATED}
CANCELLABLE = frozenset(
    {
        ImportStatus.QUEUED,
        ImportStatus.VALIDATING,
        ImportStatus.VALIDATED,
        ImportStatus.COMMIT_QUEUED,
    }
)
GENERIC_FAILURE = "导入过程中发生内部错误，请稍后重试；如反复出现请联系平台管理员"
ALL_OR_NOTHING_REFUSAL = (
    "文件中有 {invalid} 行无效数据，上传时选择了“全部有效才导入”，不会写入任何数据："
    "请下载错误清单修正后重新上传；如只想导入其中的有效行，请重新上传且不勾选“全部有效才导入”"
)

Progress = Callable[[ImportJob], None]


class TooManyImports(DomainError):
    """The user already has REVIVE_IMPORT_MAX_ACTIVE unfinished jobs (details: their ids, those
    待确认 among them, the jobs page)."""

    status_code = 409
    code = "too_many_imports"
    default_message = "未完成的导入任务过多，请先确认或取消待确认的任务"


# ---------------------------------------------------------------------------- access


def _check_may_import(actor: User, institution_id: int | None) -> None:
    if actor.role not in IMPORT_ROLES:
        raise PermissionDenied("只有学校管理员、学院管理员或平台管理员可以批量导入")
    if actor.role != Role.PLATFORM_ADMIN and actor.organization_id != institution_id:
        raise PermissionDenied("只能向本单位导入专利")


def visible_jobs(actor: User) -> sa.Select:
    """Jobs the actor may see, as each kind's rules say (platform admin: all)."""
    stmt = sa.select(ImportJob).order_by(ImportJob.id.desc())
    if actor.role == Role.PLATFORM_ADMIN:
        return stmt
    clauses = []
    for kind in registry.kinds():
        clause = kind.visible(actor) if actor.role in kind.roles else None
        if clause is not None:
            clauses.append(sa.and_(ImportJob.kind == kind.name, clause))
    return stmt.where(sa.or_(*clauses)) if clauses else stmt.where(sa.false())


def get_job_for(actor: User, job_id: int) -> ImportJob:
    """The job if the actor may see it; NotFoundError otherwise (no existence leak)."""
    job = db.session.scalar(visible_jobs(actor).where(ImportJob.id == job_id))
    if job is None:
        raise NotFoundError("未找到该导入任务")
    return job


def _check_may_act(actor: User, job: ImportJob) -> None:
    kind = registry.get(job.kind)
    if actor.role not in kind.roles:
        raise PermissionDenied()
    if job.created_by_id == actor.id or actor.role == Role.PLATFORM_ADMIN:
        return
    if actor.role in kind.managers:
        return
    raise PermissionDenied("只有上传者或管理员可以操作该导入任务")


def importable_institutions() -> list[Organization]:
    """Universities a platform admin may import for."""
    return list(
        db.session.scalars(
            sa.select(Organization)
            .where(Organization.kind == OrgKind.UNIVERSITY)
            .order_by(Organization.name)
        )
    )


def find_institution(name: str) -> Organization | None:
    return db.session.scalar(sa.select(Organization).where(Organization.name == name))


# ---------------------------------------------------------------------------- create


def _upload_dir() -> Path:
    """UPLOAD_FOLDER/imports, made owner-only (0700) when the app makes it."""
    root = Path(current_app.config["UPLOAD_FOLDER"])
    path = root / "imports"
    for folder in (root, path):
        if not folder.is_dir():
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _save(source: FileStorage | str | Path, target: Path) -> tuple[str, int]:
    """Copy the upload (or a local file) to ``target``, a new file only its owner may read
    (0600: it holds inventors' and contacts' details); return (original name, size)."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(source, FileStorage):
                source.save(out)
                name = display_filename(source.filename)
            else:
                try:
                    with open(source, "rb") as src:
                        shutil.copyfileobj(src, out)
                except OSError as exc:
                    raise ValidationFailed(f"无法读取文件：{exc.strerror or exc}") from None
                name = Path(source).name
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return name[:255], target.stat().st_size


def _max_active() -> int:
    return int(current_app.config["REVIVE_IMPORT_MAX_ACTIVE"])


def _pending_days() -> int:
    return int(current_app.config["REVIVE_IMPORT_PENDING_DAYS"])


def _check_unfinished(actor: User) -> None:
    """TooManyImports (409) when the user already has REVIVE_IMPORT_MAX_ACTIVE unfinished
    jobs, naming them and what to do."""
    cap = _max_active()
    rows = db.session.execute(
        sa.select(ImportJob.id, ImportJob.status)
        .where(ImportJob.created_by_id == actor.id, ImportJob.status.in_(UNFINISHED))
        .order_by(ImportJob.id)
    ).all()
    if len(rows) < cap:
        return
    listing = "、".join(f"#{job_id}（{status.label}）" for job_id, status in rows)
    waiting = [job_id for job_id, status in rows if status == ImportStatus.VALIDATED]
    todo = (
        "请先在“导入记录”页打开待确认的任务（"
        + "、".join(f"#{i}" for i in waiting)
        + "），确认导入或取消后再上传"
        if waiting
        else "请等其中的任务校验或写入完成后再上传（进度见“导入记录”页）"
    )
    jobs_url = url_for("imports.jobs") if has_request_context() else None
    raise TooManyImports(
        f"您已有 {len(rows)} 个导入任务尚未完成（每人最多同时 {cap} 个）：{listing}。{todo}；"
        f"待确认超过 {_pending_days()} 天的任务会自动取消",
        details={  # the API's error details are flat (strings, integers)
            "jobs": ",".join(str(job_id) for job_id, _ in rows),
            "awaiting_confirmation": ",".join(str(job_id) for job_id in waiting),
            **({"jobs_url": jobs_url} if jobs_url else {}),
        },
    )


def display_filename(raw: str | None) -> str:
    """The name the browser sent, reduced to something safe to store and show: the last path
    part (either slash), no control characters (PostgreSQL refuses NUL), at most 255 chars.
    Only shown to people; the file itself is stored under a random name."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if name in ("", ".", ".."):
        return "upload"
    return name if len(name) <= 255 else name[:120] + "…" + name[-134:]


def create_patent_import(
    file: FileStorage | str | Path,
    *,
    actor: User | None,
    institution_id: int | None,
    college_id: int | None = None,
    all_or_nothing: bool = False,
    enqueue: bool = True,
) -> ImportJob:
    """Store the file, create a QUEUED job (committed) and queue its validation.

    ``actor=None`` is the command line (an operator on the server). A college admin's job is
    always limited to their college. If the broker is down the job stays QUEUED and unsent;
    the recovery sweep (revive.queue.resend_stuck) sends it when the broker is back.
    """
    if actor is not None:
        if actor.role == Role.COLLEGE_ADMIN:
            institution_id, college_id = actor.organization_id, actor.college_id
        elif institution_id is None and actor.role == Role.UNIVERSITY_ADMIN:
            institution_id = actor.organization_id
        _check_may_import(actor, institution_id)
    institution = db.session.get(Organization, institution_id) if institution_id else None
    if institution is None or institution.kind != OrgKind.UNIVERSITY:
        raise ValidationFailed("请选择要导入的高校/科研院所")
    if college_id is not None:
        college = db.session.get(College, college_id)
        if college is None or college.institution_id != institution.id:
            raise ValidationFailed("学院不属于该单位")
    return create_job(
        PATENTS,
        file,
        actor=actor,
        institution_id=institution.id,
        college_id=college_id,
        all_or_nothing=all_or_nothing,
        enqueue=enqueue,
    )


def create_job(
    kind: str,
    file: FileStorage | str | Path,
    *,
    actor: User | None,
    institution_id: int | None = None,
    college_id: int | None = None,
    all_or_nothing: bool = False,
    enqueue: bool = True,
) -> ImportJob:
    """Store the file, create a QUEUED job of ``kind`` (committed) and queue its validation.

    Callers check who may import what first (create_patent_import, demands.importers).
    """
    registry.get(kind)
    if isinstance(file, FileStorage) and not file.filename:
        raise ValidationFailed("请选择要上传的文件")
    if actor is not None:  # the command line (an operator on the server) is not capped
        _check_unfinished(actor)  # before the file is written; again under a lock below

    target = _upload_dir() / f"{secrets.token_hex(16)}.upload"
    filename, size = _save(file, target)
    limit_mb = current_app.config["REVIVE_MAX_UPLOAD_MB"]
    if size > limit_mb * 1024 * 1024:
        target.unlink(missing_ok=True)
        raise ValidationFailed(f"上传文件过大：单个文件不能超过 {limit_mb} MB")
    if size == 0:
        target.unlink(missing_ok=True)
        raise ValidationFailed("文件为空")
    if actor is not None:
        # checked again under the user's lock: two uploads at once cannot both pass the cap
        lock_row(User, actor.id)
        try:
            _check_unfinished(actor)
        except TooManyImports:
            db.session.rollback()
            target.unlink(missing_ok=True)
            raise

    job = ImportJob(
        kind=kind,
        status=ImportStatus.QUEUED,
        institution_id=institution_id,
        college_id=college_id,
        created_by_id=actor.id if actor else None,
        filename=filename,
        stored_path=str(target),
        file_size=size,
        all_or_nothing=all_or_nothing,
        total_rows=0,
        processed_rows=0,
        committed_rows=0,
    )
    db.session.add(job)
    db.session.commit()
    if enqueue:
        _send(job, "imports.validate")
    return job


def _send(job: ImportJob, task: str) -> None:
    # The row is committed; with the broker down it stays unsent and the sweep sends it.
    queue.send(task, job.id)


# ---------------------------------------------------------------------------- pipeline


def _end_transaction() -> None:
    """End the session's transaction before the file is read, so that reading and checking
    rows — seconds to minutes for a large workbook — runs with no transaction open: SQLite's
    write lock, PostgreSQL's row locks and snapshot are all released, and logins and saves
    never wait on an import. Writes happen in short transactions of their own, one per batch.

    At these points the transaction has only read (each write is committed where it is
    made), so it is rolled back: the same as a commit for the database, and every commit is a
    write (the fault tests park a task after its n-th commit). Pending changes, should there
    ever be any, are committed rather than dropped."""
    session = db.session()
    if not session.in_transaction():
        return
    if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
        session.commit()
    else:
        session.rollback()


def _read(
    path: str, is_column: Callable[[Any], bool] | None = None, name: str | None = None
) -> Table:
    """``read_table`` with the app's limits (rows, .xlsx part sizes, strings memory, cells);
    ``is_column``: the kind's header test (finds the header below a title block)."""
    config = current_app.config
    limits = ReadLimits(
        part_mb=config["REVIVE_XLSX_MAX_PART_MB"],
        strings_mb=config["REVIVE_XLSX_MAX_STRINGS_MB"],
        cells=config["REVIVE_IMPORT_MAX_CELLS"],
    )
    return read_table(
        path,
        max_rows=config["REVIVE_MAX_IMPORT_ROWS"],
        limits=limits,
        is_column=is_column,
        declared_name=name,
    )


@contextmanager
def _opened(job: ImportJob) -> Iterator[tuple[Table, RowSpec]]:
    """The job's file and its kind's row spec; the file is closed however the block ends.

    The file is opened (for .xlsx: checked, shared strings loaded, header read) with no
    transaction open; the spec may then read the database (e.g. the institution's colleges).
    """
    kind = registry.get(job.kind)
    path, name = job.stored_path, job.filename
    _end_transaction()
    table = _read(path, kind.is_column, name)
    try:
        if len(table.parts) > 1:
            spec = _multi_sheet_spec(job, kind, table)
        else:
            try:
                spec = kind.open_spec(job, table.header)
            except FileRejected as exc:
                # A header that does not fit: say which line (and sheet) was read as the header.
                raise FileRejected(f"{exc.message}（{table.header_hint()}）") from None
        columns = spec.columns.to_json()
        if table.title:  # rows above the header read as the sheet's title (shown, skipped)
            columns = {**columns, "title": table.title, "header_line": table.header_line}
        if len(table.sheets) > 1:  # a workbook: which sheets were read, which not and why
            columns = {
                **columns,
                "sheets": [p.name for p in table.parts],
                "sheets_read": [p.name for p in table.parts if p.skip is None],
                "skipped_sheets": [list(s) for s in table.skipped],
            }
        found = (table.file_format, table.encoding, columns)
        if (job.file_format, job.encoding, job.header_map) != found:  # set by the validation
            job.file_format, job.encoding, job.header_map = found
        yield table, spec
    finally:
        table.close()


def _multi_sheet_spec(job: ImportJob, kind: registry.ImportKind, table: Table) -> RowSpec:
    """The row spec of a workbook with several data sheets (reader.SheetPart), whose columns
    may differ in order and in which fields they hold. Each sheet's header is mapped as a
    single sheet's would be; a sheet whose header does not fit (no 申请号 column, say: a
    summary table) is skipped and said so, the file refused only when none fits. The spec
    reads the first sheet's header with the other sheets' extra fields appended, and each
    sheet's cells are moved under it (``table.rows``); a row error then names its sheet."""
    maps: dict[int, Any] = {}
    first_error: FileRejected | None = None
    for part in table.parts:
        try:
            maps[part.index] = kind.open_spec(job, part.header).columns
        except FileRejected as exc:
            if first_error is None:
                hint = f"工作表“{part.name}”第 {part.header_line} 行被读作表头"
                first_error = FileRejected(f"{exc.message}（{hint}）")
            part.skip = exc.message
            table.skipped.append((part.name, f"表头不符：{exc.message}"))
    if not maps:
        assert first_error is not None
        raise first_error
    read = [p for p in table.parts if p.skip is None]
    base = maps[read[0].index]
    header = list(read[0].header)
    position = {f.key: i for i, f in base.fields.items()}
    moves: dict[int, list[tuple[int, int]]] = {}
    for part in read:
        columns = maps[part.index]
        for i, f in columns.fields.items():
            if f.key not in position:
                position[f.key] = len(header)
                header.append(columns.header[i])
        moves[part.index] = [(i, position[f.key]) for i, f in columns.fields.items()]
    # the first sheet's cells stay where they are, its unknown columns too (「待修正的行」)
    moves[read[0].index] = [(i, i) for i in range(len(read[0].header))]
    spec = kind.open_spec(job, header)
    spec.columns.ignored = list(dict.fromkeys(text for p in read for text in maps[p.index].ignored))
    spec.columns.for_reading = list(
        dict.fromkeys(text for p in read for text in maps[p.index].for_reading)
    )
    table.header = header
    table.header_line, table.title = read[0].header_line, read[0].title
    table.rows = _aligned(table.rows, moves, len(header))
    if hasattr(spec, "sheet_names"):
        spec.sheet_names = tuple(p.name for p in table.parts)
    return spec


def _aligned(
    rows: Iterator[tuple[int, list[Any]]], moves: dict[int, list[tuple[int, int]]], width: int
) -> Iterator[tuple[int, list[Any]]]:
    """Each row's cells moved under the combined header (see _multi_sheet_spec)."""
    for line, cells in rows:
        placed: list[Any] = [None] * width
        for source, target in moves[split_line(line)[0]]:
            if source < len(cells):
                placed[target] = cells[source]
        yield line, placed


def _checked(rows: Iterator[tuple[int, list[Any]]], spec: RowSpec, size: int) -> Iterator[list]:
    """The rows, checked (``spec.check`` never touches the database) but not planned, in
    batches of ``size``. Each batch is read from the file with no transaction open; the caller
    plans and writes it in one short transaction, which it ends before asking for the next."""
    while True:
        _end_transaction()
        batch = [spec.check(line, cells) for line, cells in itertools.islice(rows, size)]
        if not batch:
            return
        yield batch


def _fail(job_id: int, message: str) -> ImportJob | None:
    """Roll back, then mark the job FAILED with ``message`` (committed); return it."""
    db.session.rollback()
    job = db.session.get(ImportJob, job_id)
    if job is None:
        return None
    job.status = ImportStatus.FAILED
    job.error = message
    job.finished_at = utcnow()
    db.session.commit()
    return job


def _status(job_id: int) -> ImportStatus | None:
    return db.session.scalar(sa.select(ImportJob.status).where(ImportJob.id == job_id))


def stall_notice(job: ImportJob) -> str | None:
    """What the job's page and the progress API say while an active job stands still
    because its worker died (``queue.stall_notice``), or because no worker has taken it
    (``queue.waiting_notice``); None otherwise."""
    if job.status not in ACTIVE:
        return None
    return queue.standstill_notice(job)


def _record_new_errors(job_id: int, batch: list[RowResult]) -> None:
    """At commit: the rows found invalid now that the preview had found valid (the database
    changed since: e.g. a patent edited after the preview) join the job's error list, so
    the result page says which rows were not imported and why."""
    invalid = [r for r in batch if not r.ok]
    if not invalid:
        return
    listed = set(
        db.session.scalars(
            sa.select(ImportRowError.line).where(
                ImportRowError.job_id == job_id,
                ImportRowError.line.in_([r.line for r in invalid]),
            )
        )
    )
    errors = _error_rows(job_id, [r for r in invalid if r.line not in listed])
    if errors:
        db.session.execute(ROW_ERRORS_INSERT, errors)


def _error_rows(job_id: int, results: list[RowResult]) -> list[dict[str, Any]]:
    return [
        {
            "job_id": job_id,
            "line": r.line,
            "column": (i.column or None) and i.column[:100],
            "value": i.value or None,
            "message": i.message[:500],
        }
        for r in results
        for i in r.issues
    ]


STRIPPED_SHOWN = 10  # lines listed where control characters were dropped


def validate_job(job_id: int, *, progress: Progress | None = None) -> ImportJob | None:
    """Dry run: read and check every row, store row errors and preview counts. Commits."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status not in (ImportStatus.QUEUED, ImportStatus.VALIDATING):
        return job  # already validated, cancelled, … : a redelivered task does nothing
    try:
        # A redelivered task (worker died mid-way) starts over. The reset is committed before
        # the file is opened: no transaction stays open while it is read.
        db.session.execute(sa.delete(ImportRowError).where(ImportRowError.job_id == job_id))
        job.status, job.error = ImportStatus.VALIDATING, None
        job.started_at, job.processed_rows = utcnow(), 0
        db.session.commit()
        with _opened(job) as (table, spec):
            job.total_rows = table.total_rows
            db.session.commit()
            if _status(job_id) == ImportStatus.CANCELLED:  # cancelled while the file opened
                return job

            counts = {"new": 0, "changed": 0, "unchanged": 0, "invalid": 0}
            processed = 0
            per_sheet: Counter[int] = Counter()
            for batch in _checked(table.rows, spec, VALIDATE_BATCH):
                spec.plan(batch)  # reads only; the batch's one transaction ends with its commit
                for r in batch:
                    counts[r.kind] += 1
                    per_sheet[split_line(r.line)[0]] += 1
                errors = _error_rows(job_id, [r for r in batch if not r.ok])
                if errors:
                    db.session.execute(ROW_ERRORS_INSERT, errors)
                processed += len(batch)
                job.processed_rows = processed
                job.total_rows = max(job.total_rows, processed)
                job.preview_counts = dict(counts)
                db.session.commit()
                if progress:
                    progress(job)
                if _status(job_id) == ImportStatus.CANCELLED:
                    return job
            job.total_rows = processed  # .xlsx gives only an estimate up front
            extra = getattr(spec, "preview_extra", None)
            job.preview_counts = dict(counts, rows=processed, **(extra() if extra else {}))
            if len(table.parts) > 1:  # rows read from each sheet, for the preview to say
                job.preview_counts["sheet_rows"] = [
                    [p.name, per_sheet[p.index]] for p in table.parts if p.skip is None
                ]
            if table.stripped:  # control characters dropped from cells: the preview says where
                job.preview_counts.update(
                    stripped=len(table.stripped),
                    stripped_lines=sorted(table.stripped)[:STRIPPED_SHOWN],
                )
            job.status = ImportStatus.VALIDATED
            job.finished_at = utcnow()
            db.session.commit()
            return job
    except (FileRejected, DomainError) as exc:
        return _fail(job_id, exc.message)
    except Exception:
        logger.exception("Import job %s: validation crashed", job_id)
        _fail(job_id, GENERIC_FAILURE)
        raise


def request_commit(job_id: int, *, actor: User | None, enqueue: bool = True) -> ImportJob:
    """Confirm a validated job: queue the commit in the mode chosen at upload
    (``job.all_or_nothing``; the preview shows it and its one confirm button does exactly
    that). Refused for all-or-nothing with invalid rows: the mode's promise is no write.

    ``actor=None`` is the command line, which then runs ``commit_job`` itself (enqueue=False).
    """
    if actor is None:
        job = db.session.get(ImportJob, job_id)
        if job is None:
            raise NotFoundError("未找到该导入任务")
    else:
        job = get_job_for(actor, job_id)
        _check_may_act(actor, job)
    if job.status != ImportStatus.VALIDATED:
        raise InvalidTransition(f"导入任务当前状态为“{job.status.label}”，不能确认导入")
    counts = job.preview_counts or {}
    invalid = counts.get("invalid", 0)
    if job.all_or_nothing and invalid:
        raise ValidationFailed(ALL_OR_NOTHING_REFUSAL.format(invalid=invalid))
    if not (counts.get("new", 0) + counts.get("changed", 0) + counts.get("unchanged", 0)):
        raise ValidationFailed("没有可导入的有效行")
    job.status = ImportStatus.COMMIT_QUEUED
    job.reset_delivery()  # a new phase: the commit task's own sends and attempts
    db.session.commit()
    if enqueue:
        _send(job, "imports.commit")
    return job


def commit_job(job_id: int, *, progress: Progress | None = None) -> ImportJob | None:
    """Apply the valid rows (re-validated: the database may have changed since the preview)."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status not in (ImportStatus.COMMIT_QUEUED, ImportStatus.COMMITTING):
        return job
    try:
        if job.status == ImportStatus.COMMIT_QUEUED:
            job.committed_rows, job.result_counts = 0, None
        job.status, job.error = ImportStatus.COMMITTING, None
        job.processed_rows = job.committed_rows
        db.session.commit()
        actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
        kind = registry.get(job.kind)
        with _opened(job) as (table, spec):
            if job.all_or_nothing:
                _commit_all(job, table, spec, actor)
            else:
                _commit_batches(job, table, spec, actor, progress)
        job = db.session.get(ImportJob, job_id)
        if job.status == ImportStatus.COMMITTING:
            job.status = ImportStatus.COMMITTED
            job.processed_rows = job.total_rows = job.committed_rows
            job.finished_at = utcnow()
            db.session.commit()
            if kind.after_commit is not None:
                # e.g. inventory fires signals.patents_changed, demands signals.demand_saved
                kind.after_commit(job, spec)
        return job
    except (FileRejected, DomainError) as exc:
        return _fail(job_id, exc.message)
    except Exception:
        logger.exception("Import job %s: commit crashed", job_id)
        db.session.rollback()
        done = db.session.scalar(sa.select(ImportJob.committed_rows).where(ImportJob.id == job_id))
        _fail(
            job_id,
            f"导入中断（内部错误），已写入前 {done or 0} 行；重新上传同一文件即可补齐，"
            "已导入的行不会重复",
        )
        raise


_ZERO = {"created": 0, "updated": 0, "unchanged": 0, "skipped_invalid": 0}


def _apply(
    job: ImportJob,
    batch: list[RowResult],
    actor: User | None,
    counts: dict[str, int],
    spec: RowSpec,
) -> None:
    valid = [r for r in batch if r.ok]
    if valid:
        done = registry.get(job.kind).apply(job, valid, actor, spec)
        for key, n in done.items():
            counts[key] += n
    counts["skipped_invalid"] += len(batch) - len(valid)


def _skip(rows: Iterator, spec: RowSpec, n: int) -> None:
    """Re-check (without planning) the rows a previous attempt already committed, so the
    duplicate detection sees them, and move the iterator past them (no transaction open)."""
    _end_transaction()
    for _ in range(n):
        item = next(rows, None)
        if item is None:
            return
        spec.check(*item)


# How often a commit batch is planned again when another writer created one of its records
# between its plan and its write (the database's unique constraint refuses the second insert).
RACE_ATTEMPTS = 3


def commit_batch() -> int:
    """Rows per commit transaction: the REVIVE_IMPORT_COMMIT_BATCH setting (fault tests use
    small batches to interrupt a commit between two of them)."""
    return max(1, int(current_app.config.get("REVIVE_IMPORT_COMMIT_BATCH") or COMMIT_BATCH))


def _commit_batches(
    job: ImportJob,
    table: Table,
    spec: RowSpec,
    actor: User | None,
    progress: Progress | None,
) -> None:
    rows = iter(table.rows)
    done = job.committed_rows
    counts = dict(_ZERO, **(job.result_counts or {}))
    _skip(rows, spec, done)
    for batch in _checked(rows, spec, commit_batch()):
        try:
            counts = retried(partial(_write_batch, job, batch, actor, counts, spec), RACE_ATTEMPTS)
        except RACED:
            raise ConflictError(
                f"另一个导入任务正在写入相同的记录，本任务已写入前 {job.committed_rows} 行；"
                "请稍后重新上传同一文件补齐（已导入的行不会重复）"
            ) from None
        if progress:
            progress(job)


def _write_batch(
    job: ImportJob, batch: list[RowResult], actor: User | None, counts: dict, spec: RowSpec
) -> dict[str, int]:
    """Plan, apply and commit one batch; the job's counts after it. Planned at each try
    (``retried``): a record another import (or an edit) created after the plan makes the
    insert fail, nothing of the batch is written, and the next try sees it (the row becomes
    an update, or is reported)."""
    spec.plan(batch)
    tried = dict(counts)
    _apply(job, batch, actor, tried, spec)
    _record_new_errors(job.id, batch)
    # The rows and the job's counters commit together: a crash loses neither alone.
    job.committed_rows += len(batch)
    job.processed_rows = job.committed_rows
    job.total_rows = max(job.total_rows, job.committed_rows)
    job.result_counts = dict(tried)
    db.session.commit()
    return tried


def _commit_all(job: ImportJob, table: Table, spec: RowSpec, actor: User | None) -> None:
    """Every row or none, in two passes so that the file is never read inside a transaction.

    1. Read and check every row with no transaction open, spooling the checked batches to a
       temporary file, and plan each batch (reads only) to find invalid rows before writing.
    2. Only if every row is valid: plan again and apply every batch from the spool in ONE
       transaction (the mode's promise). It holds the write lock for the database work alone,
       never while the file is parsed.
    """
    try:
        _commit_all_once(job, table, spec, actor)
    except sa.exc.IntegrityError:
        db.session.rollback()  # the one transaction: nothing was written
        raise ConflictError(
            "全部有效才导入：另一个导入任务同时写入了相同的记录，未写入任何数据；"
            "请稍后重新上传（或确认导入）"
        ) from None


def _commit_all_once(job: ImportJob, table: Table, spec: RowSpec, actor: User | None) -> None:
    job_id = job.id
    invalid = 0
    with tempfile.TemporaryFile(prefix="revive-import-") as spool:
        for batch in _checked(table.rows, spec, commit_batch()):
            pickle.dump(batch, spool, protocol=pickle.HIGHEST_PROTOCOL)  # before planning
            spec.plan(batch)
            invalid += sum(1 for r in batch if not r.ok)
        _end_transaction()
        counts = dict(_ZERO)
        lines = 0
        spool.seek(0)
        while not invalid:
            try:
                # Our own spool, written above in this process: never data from outside.
                batch = pickle.load(spool)  # noqa: S301
            except EOFError:
                break
            spec.plan(batch)  # again, inside the transaction: the database may have changed
            lines += len(batch)
            invalid += sum(1 for r in batch if not r.ok)
            if not invalid:
                _apply(job, batch, actor, counts, spec)
    if invalid:
        db.session.rollback()
        job = db.session.get(ImportJob, job_id)
        job.status = ImportStatus.FAILED
        job.error = (
            f"全部有效才导入：入库时复核发现 {invalid} 行无效数据（数据可能已被他人修改），"
            "未写入任何数据，请重新上传"
        )
        job.finished_at = utcnow()
        db.session.commit()
        return
    job.committed_rows = job.processed_rows = lines
    job.result_counts = counts
    db.session.commit()  # one transaction: every row or none


def cancel_job(job_id: int, *, actor: User) -> ImportJob:
    """Cancel a job that has not started writing."""
    job = get_job_for(actor, job_id)
    _check_may_act(actor, job)
    if job.status not in CANCELLABLE:
        raise InvalidTransition(f"导入任务当前状态为“{job.status.label}”，不能取消")
    job.status = ImportStatus.CANCELLED
    job.finished_at = utcnow()
    db.session.commit()
    return job


def _give_up(job_id: int) -> None:
    _fail(job_id, queue.GAVE_UP)


# The job row is the outbox of both steps (revive.queue): what each has left to do.
queue.register(
    queue.Kind(
        "imports.validate",
        ImportJob,
        active=lambda: ImportJob.status.in_([ImportStatus.QUEUED, ImportStatus.VALIDATING]),
        give_up=_give_up,
    )
)
queue.register(
    queue.Kind(
        "imports.commit",
        ImportJob,
        active=lambda: ImportJob.status.in_([ImportStatus.COMMIT_QUEUED, ImportStatus.COMMITTING]),
        give_up=_give_up,
    )
)


# ---------------------------------------------------------------------------- downloads


ERROR_HEADER = ["行号", "列", "值", "原因"]


@dataclass(frozen=True)
class Lines:
    """How a job's line numbers read (reader.sheet_line): the row in its sheet, and the sheet
    when the rows came from several (the error list, its downloads, the preview, the API)."""

    sheets: tuple[str, ...] = ()

    @classmethod
    def of(cls, job: ImportJob) -> Lines:
        return cls(tuple((job.header_map or {}).get("sheets") or ()))

    @property
    def multi(self) -> bool:
        return len(self.sheets) > 1

    def sheet(self, line: int) -> str | None:
        index = split_line(line)[0]
        return self.sheets[index] if self.multi and index < len(self.sheets) else None

    def row(self, line: int) -> int:
        return split_line(line)[1]

    def label(self, line: int) -> str:
        return line_label(line, self.sheets)

    def labels(self, lines: list[int]) -> str:
        """第 3、4 行, or 发明专利 第 3 行、实用新型 第 4 行."""
        if not self.multi:
            return f"第 {'、'.join(str(self.row(n)) for n in lines)} 行"
        return "、".join(self.label(n) for n in lines)


def first_errors(job: ImportJob, limit: int = 200) -> list[ImportRowError]:
    return list(
        db.session.scalars(
            sa.select(ImportRowError)
            .where(ImportRowError.job_id == job.id)
            .order_by(ImportRowError.line, ImportRowError.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class ErrorGroup:
    """Row errors of one reason: the column, the reason with the row's own values left out,
    how many, and the first lines (in file order) as examples."""

    column: str
    reason: str
    count: int
    lines: list[int]


ERROR_EXAMPLES = 5
_QUOTED = re.compile(r"「[^」]*」")
_TRAILING_NOTE = re.compile(r"（[^（）]*）$")


def error_reason(message: str) -> str:
    """The reason of a row error without the row's own values, so equal reasons group:
    "申请号缺少校验位：20241234（应为 20241234.2）" → "申请号缺少校验位";
    "专利类型「发明」与申请号所示类型「实用新型」不符" →
    "专利类型「…」与申请号所示类型「…」不符"."""
    reason = message.split("：", 1)[0].strip()
    reason = _TRAILING_NOTE.sub("", reason).strip()
    return _QUOTED.sub("「…」", reason) or message


def error_summary(job: ImportJob, examples: int = ERROR_EXAMPLES) -> list[ErrorGroup]:
    """The job's row errors grouped by column and reason, the most frequent first (377 rows
    of errors were a flat list, UX review c1-import-preview-d)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for line, column, message in db.session.execute(
        sa.select(ImportRowError.line, ImportRowError.column, ImportRowError.message)
        .where(ImportRowError.job_id == job.id)
        .order_by(ImportRowError.line, ImportRowError.id)
    ):
        groups.setdefault((column or "", error_reason(message)), []).append(line)
    return sorted(
        (
            ErrorGroup(column, reason, len(lines), list(dict.fromkeys(lines))[:examples])
            for (column, reason), lines in groups.items()
        ),
        key=lambda g: (-g.count, g.column, g.reason),
    )


def errors_page(job: ImportJob, page: int, per_page: int) -> Page:
    """One page of the job's row errors, by line (the API's error list)."""
    where = ImportRowError.job_id == job.id
    return paginate(
        sa.select(ImportRowError).where(where).order_by(ImportRowError.line, ImportRowError.id),
        sa.select(sa.func.count(ImportRowError.id)).where(where),
        page,
        per_page,
    )


def error_count(job: ImportJob) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ImportRowError)
            .where(ImportRowError.job_id == job.id)
        )
        or 0
    )


def write_errors_xlsx(job: ImportJob, stream: IO[bytes]) -> None:
    """The job's row errors as .xlsx: 行号, 列, 值, 原因 (工作表 first when the rows came from
    several sheets)."""
    lines = Lines.of(job)
    rows = db.session.execute(
        sa.select(
            ImportRowError.line, ImportRowError.column, ImportRowError.value, ImportRowError.message
        )
        .where(ImportRowError.job_id == job.id)
        .order_by(ImportRowError.line, ImportRowError.id)
        .execution_options(yield_per=2000)
    )
    if lines.multi:
        out = ((lines.sheet(r[0]), lines.row(r[0]), *r[1:]) for r in rows)
        write_xlsx(stream, ["工作表", *ERROR_HEADER], out, sheet_title="错误清单")
    else:
        write_xlsx(stream, ERROR_HEADER, (tuple(r) for r in rows), sheet_title="错误清单")


def write_annotated_xlsx(job: ImportJob, stream: IO[bytes]) -> None:
    """The file's invalid rows as uploaded, plus 行号 and 错误原因, ready to fix and re-upload."""
    reasons: dict[int, list[str]] = {}
    for line, column, message in db.session.execute(
        sa.select(ImportRowError.line, ImportRowError.column, ImportRowError.message)
        .where(ImportRowError.job_id == job.id)
        .order_by(ImportRowError.id)
    ):
        reasons.setdefault(line, []).append(f"{column}：{message}" if column else message)
    lines = Lines.of(job)
    path = job.stored_path
    _end_transaction()  # the file is read with no transaction open
    kind = registry.find(job.kind)
    try:
        if kind is not None and lines.multi:
            # the sheets' columns under one header, as the preview read them
            with _opened(job) as (table, _spec):
                _write_annotated(table, reasons, stream, lines)
            return
        table = _read(path, kind.is_column if kind else None)  # the header the preview read
    except FileRejected as exc:
        raise NotFoundError(f"原文件已不可用：{exc.message}") from None
    try:
        _write_annotated(table, reasons, stream, lines)
    finally:
        table.close()


def _write_annotated(
    table: Table, reasons: dict[int, list[str]], stream: IO[bytes], lines: Lines
) -> None:
    from openpyxl import Workbook

    width = len(table.header)
    where = ["工作表", "行号"] if lines.multi else ["行号"]

    def rows() -> Iterator[list[Any]]:
        for line, cells in table.rows:
            if line in reasons:
                padded = (list(cells) + [None] * width)[:width]
                at = [lines.sheet(line), lines.row(line)] if lines.multi else [line]
                yield [*at, *padded, "；".join(reasons[line])]

    wb = Workbook(write_only=True)
    add_sheet(wb, "待修正的行", [*where, *table.header, "错误原因"], rows())
    wb.save(stream)


def write_template_xlsx(stream: IO[bytes], kind: str = PATENTS) -> None:
    """The import template: the header row, and a second sheet explaining every field."""
    from openpyxl import Workbook

    title, header, guide = registry.get(kind).template()
    wb = Workbook(write_only=True)
    add_sheet(wb, title, header, [], widths=[18] * len(header))
    add_sheet(
        wb,
        "填写说明",
        ["字段", "英文键", "必填", "说明", "可选值", "也可识别的表头"],
        guide,
        widths=[20, 22, 6, 60, 40, 40],
    )
    wb.save(stream)


def jobs_page(
    actor: User,
    page: int,
    per_page: int,
    *,
    kind: str | None = None,
    status: ImportStatus | None = None,
) -> Page:
    """One page of the jobs the actor may see, newest first (the API's list), optionally of
    one kind and in one status."""
    stmt = visible_jobs(actor)
    if kind is not None:
        stmt = stmt.where(ImportJob.kind == kind)
    if status is not None:
        stmt = stmt.where(ImportJob.status == status)
    total = stmt.with_only_columns(sa.func.count(ImportJob.id)).order_by(None)
    return paginate(stmt, total, page, per_page)


def list_jobs(actor: User, limit: int = 100) -> list[ImportJob]:
    """The latest jobs the actor may see, with the institution and uploader the list shows."""
    stmt = visible_jobs(actor).options(
        selectinload(ImportJob.institution), selectinload(ImportJob.created_by)
    )
    return list(db.session.scalars(stmt.limit(limit)))


# ---------------------------------------------------------------------------- retention

FINISHED = (ImportStatus.COMMITTED, ImportStatus.FAILED, ImportStatus.CANCELLED)
EXPIRED = (
    "超过 {days} 天未确认导入，任务已于 {on} 自动取消，上传的文件已删除，未写入任何数据；"
    "如仍需导入，请重新上传"
)


def _unlink(stored: str) -> bool:
    path = Path(stored)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError:
        logger.warning("Could not delete the upload %s", path, exc_info=True)
        return False
    return True


def expire_pending() -> int:
    """Cancel the jobs left 待确认 (validated, never confirmed) for more than
    REVIVE_IMPORT_PENDING_DAYS and delete their files at once: a job nobody confirms never
    finished, so its file (inventors' contacts) was never cleaned up. The job page says why
    it was cancelled (``error``). Each job changes only if still 待确认 (a confirmation at the
    same moment wins). Commits; returns how many jobs expired."""
    days = _pending_days()
    now = utcnow()
    stale = db.session.execute(
        sa.select(ImportJob.id, ImportJob.stored_path).where(
            ImportJob.status == ImportStatus.VALIDATED,
            sa.func.coalesce(ImportJob.finished_at, ImportJob.updated_at)
            < now - timedelta(days=days),
        )
    ).all()
    message = EXPIRED.format(days=days, on=clock.format_dt(now))
    expired = []
    for job_id, stored in stale:
        done = db.session.execute(
            sa.update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.status == ImportStatus.VALIDATED)
            .values(status=ImportStatus.CANCELLED, error=message, finished_at=now)
        )
        if done.rowcount:
            expired.append(stored)
    db.session.commit()
    for stored in expired:
        _unlink(stored)
    if expired:
        logger.info("Cancelled %d import(s) left unconfirmed over %d days", len(expired), days)
    return len(expired)


def cleanup_uploads() -> int:
    """(beat, hourly) Expire the jobs left 待确认 too long (``expire_pending``: their files go
    at once), then delete the uploaded files of imports finished more than
    REVIVE_UPLOAD_KEEP_DAYS ago: they hold inventors' and contacts' details, and were kept
    forever (an operator's data folder had 72 MB of them after an hour). The job and its row
    errors stay; its 「待修正的行」 download then says the file is gone. Returns how many files
    of finished jobs went."""
    expire_pending()
    days = int(current_app.config["REVIVE_UPLOAD_KEEP_DAYS"])
    cutoff = utcnow() - timedelta(days=days)
    paths = db.session.scalars(
        sa.select(ImportJob.stored_path).where(
            ImportJob.status.in_(FINISHED),
            sa.func.coalesce(ImportJob.finished_at, ImportJob.updated_at) < cutoff,
        )
    ).all()
    db.session.rollback()
    gone = sum(_unlink(stored) for stored in paths)
    if gone:
        logger.info("Deleted %d upload(s) of imports finished over %d days ago", gone, days)
    return gone
