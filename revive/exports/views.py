"""Exports (blueprint "exports"): what an export link answers, the job's page with its
progress, the download, and the user's recent exports (我的导出).

/exports/                      我的导出: the user's recent export jobs
/exports/<id>                  a job: progress while it runs, then the download link
/exports/<id>/progress         the job's progress as JSON (polled by the page)
/exports/<id>/download         the finished file (its requester only)

Every job page is its requester's alone: anyone else gets a 404, administrators included.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_login import current_user

from revive import queue
from revive.accounts.models import Role
from revive.accounts.permissions import roles_required
from revive.common.downloads import EXPORT_TYPES, send_stream, stream_download
from revive.common.spreadsheets import XLSX_MIMETYPE, stream_chunks
from revive.errors import DomainError, NotFoundError
from revive.exports import registry, services
from revive.exports.models import ExportJob

bp = Blueprint("exports", __name__, url_prefix="/exports")

requesters = roles_required(*Role)  # every role exports something; each job is its owner's


def export_response(kind_name: str, fmt: str, args: Mapping[str, Any]) -> Any:
    """What an export route answers (the route checks the role first): the file streamed
    directly — every CSV, and a .xlsx of at most REVIVE_EXPORT_DIRECT_MAX_ROWS rows — or, for
    a larger .xlsx, a background job (the user's identical unfinished one if there is one)
    and a redirect to its page."""
    if fmt not in EXPORT_TYPES:
        raise NotFoundError("不支持的导出格式")
    kind = registry.get(kind_name)
    user = current_user._get_current_object()
    params = kind.params(user, args)
    if services.needs_job(kind, user, params, fmt):
        job, reused = services.request_export(kind.name, user, params, fmt)
        if reused:
            flash("相同条件的导出任务已在进行，无需重复导出：完成后在本页下载", "info")
        elif queue.deferred():  # recorded; the recovery sweep sends it when the broker is back
            flash(
                "导出任务已登记，但后台任务队列暂不可用：队列恢复后将自动开始，无需重新导出",
                "warning",
            )
        else:
            flash(
                f"导出的数据超过 {services.direct_max_rows()} 行，已转入后台生成："
                "完成后在本页下载（可以离开本页，稍后在“我的导出”中查看）",
                "success",
            )
        return redirect(url_for("exports.job", job_id=job.id))
    names = kind.names(user, params)
    return stream_download(
        fmt,
        kind.header(),
        kind.rows(user, params),
        name=names.name,
        ascii_name=names.ascii_name,
        sheet_title=names.sheet_title,
    )


def _again_url(job: ExportJob) -> str | None:
    """The export link that asks for the same rows again (a new job once this one ended)."""
    try:
        kind = registry.get(job.kind)
    except DomainError:  # a kind no longer registered: no link
        return None
    return url_for(kind.endpoint, fmt=job.file_format, **(job.params or {}))


def _filters_text(job: ExportJob) -> str:
    try:
        kind: registry.ExportKind | None = registry.get(job.kind)
    except DomainError:
        kind = None
    return registry.filters_text(kind, job.params)


def progress_json(job: ExportJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status.value,
        "status_label": job.status.label,
        "is_active": job.status in services.ACTIVE,
        "progress": round(job.progress, 4),
        "processed": job.processed_rows,
        "total": job.total_rows,
        "error": job.error,
        "notice": services.stall_notice(job),
    }


@bp.get("/")
@requesters
def jobs():
    return render_template(
        "exports/jobs.html",
        jobs=services.list_jobs(current_user),
        labels={k.name: k.label for k in registry.kinds()},
        filters_text=_filters_text,
        keep_hours=services.keep_hours(),
        expires_at=services.expires_at,
        active=services.ACTIVE,
    )


@bp.get("/<int:job_id>")
@requesters
def job(job_id: int):
    job = services.get_job_for(current_user, job_id)
    kind = registry.get(job.kind)
    return render_template(
        "exports/job.html",
        job=job,
        kind=kind,
        filters=_filters_text(job),
        active=job.status in services.ACTIVE,
        notice=services.stall_notice(job),
        expires_at=services.expires_at(job),
        keep_hours=services.keep_hours(),
        again_url=_again_url(job),
    )


@bp.get("/<int:job_id>/progress")
@requesters
def progress(job_id: int):
    return progress_json(services.get_job_for(current_user, job_id))


def _file_chunks(path: Path) -> Iterator[bytes]:
    """The file's bytes, opened only once the body is sent and closed when it ends (or the
    client goes away)."""
    with path.open("rb") as stream:
        yield from stream_chunks(stream)


@bp.get("/<int:job_id>/download")
@requesters
def download(job_id: int) -> Response:
    job, path = services.file_for(current_user, job_id)
    # Under the name the direct download would have had (UTF-8, with its ASCII fallback).
    return send_stream(_file_chunks(path), XLSX_MIMETYPE, job.filename, job.ascii_filename)
