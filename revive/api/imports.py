"""Import-job JSON routes: upload a spreadsheet, follow its job, read its row errors, confirm.

The same pipeline as the upload pages (revive.imports): a POST stores the file and queues its
dry run; the job is polled until ``validated`` (preview counts, per-row errors) or ``failed``
(a file-level error); a commit queues the write; the job is polled until ``committed``.
The job page's progress bar polls ``GET /import-jobs/<id>`` too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import jsonify, request, url_for
from flask_login import current_user, login_required

from revive.accounts.models import Role
from revive.accounts.permissions import roles_required
from revive.api import bp
from revive.api.common import optional_json_body, page_meta, requested_page, requested_per_page
from revive.demands.importers import create_demand_import
from revive.errors import PermissionDenied, ValidationFailed
from revive.imports import registry, services
from revive.imports.models import ImportJob
from revive.onboarding.importers import create_institution_import
from revive.web import int_arg

# kind → how a file of that kind is registered (each checks who may import what).
CREATORS: dict[str, Callable[..., ImportJob]] = {
    services.PATENTS: services.create_patent_import,
    "demands": create_demand_import,
    "institutions": create_institution_import,
}
IMPORTER_ROLES = frozenset(
    {Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.PLATFORM_ADMIN, Role.OFFICER}
)
_TRUE, _FALSE = frozenset({"1", "true", "on", "yes"}), frozenset({"", "0", "false", "off", "no"})
MODES = ("valid_only", "all_or_nothing")


def job_json(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "filename": job.filename,
        "status": job.status.value,
        "status_label": job.status.label,
        "is_active": job.status in services.ACTIVE,
        "progress": round(job.progress, 4),
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "committed_rows": job.committed_rows,
        "all_or_nothing": bool(job.all_or_nothing),
        "preview_counts": job.preview_counts,
        "result_counts": job.result_counts,
        "error": job.error,
    }


@bp.get("/import-jobs/<int:job_id>")
@login_required
def import_job(job_id: int):
    """One import job's progress.

    Output: {id, kind, filename, status, status_label, is_active, progress (0–1), total_rows,
    processed_rows, committed_rows, all_or_nothing, preview_counts {new, changed, unchanged,
    invalid, rows} | null, result_counts {created, updated, unchanged, skipped_invalid} | null,
    error | null}. 404 when the job belongs to another institution.
    """
    return jsonify(job_json(services.get_job_for(current_user, job_id)))


def _flag(raw: str | None, name: str) -> bool:
    text = (raw or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationFailed(f"{name} 须为 true 或 false", details={name: "须为 true 或 false"})


@bp.post("/import-jobs")
@roles_required(*IMPORTER_ROLES)
def create_import_job():
    """Upload a spreadsheet (.xlsx / CSV) and queue its dry run.

    Input (multipart/form-data): file (required), kind (patents | demands | institutions;
    default patents), institution_id (patents, platform admin only: the target university),
    all_or_nothing (true/false). Output: 201 ImportJob (status queued), Location: its URL.
    403 when the caller's role may not import this kind; 422 for a missing or refused file.
    """
    kind = (request.form.get("kind") or services.PATENTS).strip()
    if kind not in CREATORS:
        allowed = "、".join(CREATORS)
        raise ValidationFailed(f"kind 须为 {allowed} 之一", details={"kind": f"可选：{allowed}"})
    if current_user.role not in registry.get(kind).roles:
        raise PermissionDenied(f"您的角色不能导入{registry.get(kind).label}")
    options: dict[str, Any] = {
        "all_or_nothing": _flag(request.form.get("all_or_nothing"), "all_or_nothing")
    }
    if kind == services.PATENTS:
        raw = request.form.get("institution_id")
        institution_id = int_arg(raw, minimum=1)
        if raw not in (None, "") and institution_id is None:
            raise ValidationFailed(
                "institution_id 须为正整数", details={"institution_id": "须为正整数"}
            )
        options["institution_id"] = institution_id
    file = request.files.get("file")
    if file is None or not file.filename:
        raise ValidationFailed(
            "请上传文件：multipart/form-data 的 file 字段", details={"file": "缺少文件"}
        )
    job = CREATORS[kind](file, actor=current_user, **options)
    location = url_for("api.import_job", job_id=job.id)
    return jsonify(job_json(job)), 201, {"Location": location}


@bp.post("/import-jobs/<int:job_id>/commit")
@roles_required(*IMPORTER_ROLES)
def commit_import_job(job_id: int):
    """Confirm a validated job: queue the write in the mode chosen at upload.

    Input (JSON, optional): {mode: valid_only | all_or_nothing} — only to state the mode the
    client expects: a mode other than the upload's is a 422 (the mode is chosen at upload,
    as on the preview page; upload again to change it). Output: ImportJob (status
    commit_queued); poll it until committed. 409 unless the job is validated; 422 for
    all_or_nothing with invalid rows, or no valid row.
    """
    data = optional_json_body()
    mode = data.get("mode")
    if mode is not None and mode not in MODES:
        raise ValidationFailed(
            "mode 须为 valid_only 或 all_or_nothing",
            details={"mode": "可选：valid_only、all_or_nothing"},
        )
    job = services.get_job_for(current_user, job_id)
    if mode is not None and (mode == "all_or_nothing") != bool(job.all_or_nothing):
        chosen = "all_or_nothing" if job.all_or_nothing else "valid_only"
        raise ValidationFailed(
            f"导入方式已在上传时选定（{chosen}），确认时不能更改；如需更改请重新上传",
            details={"mode": f"上传时选定：{chosen}"},
        )
    job = services.request_commit(job_id, actor=current_user)
    return jsonify(job_json(job))


@bp.get("/import-jobs/<int:job_id>/errors")
@login_required
def import_job_errors(job_id: int):
    """The job's row errors, by line: {items: [{line, column, value, message}], _meta}."""
    job = services.get_job_for(current_user, job_id)
    page = services.errors_page(job, requested_page(), requested_per_page())
    items = [
        {"line": e.line, "column": e.column, "value": e.value, "message": e.message}
        for e in page.items
    ]
    return jsonify(items=items, _meta=page_meta(page))
