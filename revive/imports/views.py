"""Spreadsheet upload, dry-run preview, commit and progress (blueprint "imports")."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from revive import queue
from revive.accounts.models import Role
from revive.accounts.permissions import roles_required
from revive.common.downloads import send_xlsx
from revive.common.fields import CLEAR_MARKER
from revive.errors import ValidationFailed, too_large_message
from revive.imports import registry, services
from revive.imports.models import ImportJob

bp = Blueprint("imports", __name__, url_prefix="/imports")

importers_only = roles_required(*services.IMPORT_ROLES)  # the patent upload
# Job pages serve every import kind (officers import demands); get_job_for scopes each job.
job_viewers = roles_required(*services.IMPORT_ROLES, Role.OFFICER)


def upload_page(template: str, error: str | None = None, status: int = 200, **context: Any):
    """An upload page of any import kind: the limits, and ``error`` above the form."""
    return render_template(
        template,
        error=error,
        limit_mb=current_app.config["REVIVE_MAX_UPLOAD_MB"],
        max_rows=current_app.config["REVIVE_MAX_IMPORT_ROWS"],
        **context,
    ), status


def receive_upload(create: Callable[..., ImportJob], page: Callable[[str, int], Any]):
    """The POST half of every upload page: ``create(file, all_or_nothing=…)`` then the job
    page; a file too large or missing, or refused by ``create``, re-renders ``page``."""
    try:
        file = request.files.get("file")
    except RequestEntityTooLarge:
        message = too_large_message()
        if message.startswith("上传文件过大"):
            message += "，请拆分后分批导入"
        return page(message, 413)
    if file is None or not file.filename:
        return page("请选择要上传的文件", 422)
    try:
        job = create(file, all_or_nothing=bool(request.form.get("all_or_nothing")))
    except ValidationFailed as exc:
        return page(exc.message, 422)
    except services.TooManyImports as exc:
        # the user's unfinished jobs, each a link to confirm or cancel it
        return _jobs_page(exc.message), exc.status_code
    if queue.deferred():  # the job is recorded; the recovery sweep sends it when Redis is back
        flash(
            "文件已上传并登记，但后台任务队列暂不可用：队列恢复后将自动校验，无需重新上传",
            "warning",
        )
    else:
        flash("文件已上传，正在校验，完成后可查看预览", "success")
    return redirect(url_for("imports.job", job_id=job.id))


def _upload_page(error: str | None = None, status: int = 200):
    institutions = (
        services.importable_institutions() if current_user.role == Role.PLATFORM_ADMIN else []
    )
    return upload_page(
        "imports/upload.html", error, status, institutions=institutions, clear_marker=CLEAR_MARKER
    )


@bp.get("/")
@importers_only
def upload():
    return _upload_page()


@bp.post("/")
@importers_only
def upload_post():
    create = partial(
        services.create_patent_import,
        actor=current_user,
        institution_id=request.form.get("institution_id", type=int),
    )
    return receive_upload(create, _upload_page)


@bp.get("/template.xlsx")
@importers_only
def template():
    return send_xlsx(services.write_template_xlsx, "专利盘点导入模板.xlsx")


def _upload_links() -> list[tuple[str, str]]:
    return [(k.upload_endpoint, k.label) for k in registry.kinds() if current_user.role in k.roles]


def _jobs_page(error: str | None = None) -> str:
    return render_template(
        "imports/jobs.html",
        jobs=services.list_jobs(current_user),
        upload_links=_upload_links(),
        error=error,
    )


@bp.get("/jobs")
@job_viewers
def jobs():
    return _jobs_page()


@bp.get("/<int:job_id>")
@job_viewers
def job(job_id: int):
    job = services.get_job_for(current_user, job_id)
    kind = registry.get(job.kind)
    return render_template(
        "imports/job.html",
        job=job,
        kind=kind,
        notes=kind.preview_notes(job.preview_counts or {}) if job.preview_counts else [],
        errors=services.first_errors(job, 200),
        error_groups=services.error_summary(job),
        lines=services.Lines.of(job),
        error_total=services.error_count(job),
        active=job.status in services.ACTIVE,
        notice=services.stall_notice(job),
        cancellable=job.status in services.CANCELLABLE,
    )


@bp.post("/<int:job_id>/commit")
@job_viewers
def commit(job_id: int):
    """Confirm the preview: commit in the mode chosen at upload (no form field overrides it)."""
    try:
        services.request_commit(job_id, actor=current_user)
    except ValidationFailed as exc:
        flash(exc.message, "danger")
    else:
        if queue.deferred():
            flash("已确认导入并登记，但后台任务队列暂不可用：队列恢复后将自动写入", "warning")
        else:
            flash("已确认导入，正在写入", "success")
    return redirect(url_for("imports.job", job_id=job_id))


@bp.post("/<int:job_id>/cancel")
@job_viewers
def cancel(job_id: int):
    services.cancel_job(job_id, actor=current_user)
    flash("导入任务已取消，未写入任何数据", "success")
    return redirect(url_for("imports.job", job_id=job_id))


@bp.get("/<int:job_id>/errors.xlsx")
@job_viewers
def errors_xlsx(job_id: int):
    job = services.get_job_for(current_user, job_id)
    return send_xlsx(partial(services.write_errors_xlsx, job), f"导入错误清单_{job.id}.xlsx")


@bp.get("/<int:job_id>/rows-with-errors.xlsx")
@job_viewers
def annotated_xlsx(job_id: int):
    job = services.get_job_for(current_user, job_id)
    return send_xlsx(partial(services.write_annotated_xlsx, job), f"待修正的行_{job.id}.xlsx")
