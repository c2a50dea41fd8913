"""Import-job JSON routes (polled by the job page's progress bar)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user, login_required

from revive.api import bp
from revive.imports import services
from revive.imports.models import ImportJob


def job_json(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status.value,
        "status_label": job.status.label,
        "is_active": job.status in services.ACTIVE,
        "progress": round(job.progress, 4),
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "committed_rows": job.committed_rows,
        "preview_counts": job.preview_counts,
        "result_counts": job.result_counts,
        "error": job.error,
    }


@bp.get("/import-jobs/<int:job_id>")
@login_required
def import_job(job_id: int):
    """One import job's progress.

    Output: {id, status, status_label, is_active, progress (0–1), total_rows, processed_rows,
    committed_rows, preview_counts {new, changed, unchanged, invalid, rows} | null,
    result_counts {created, updated, unchanged, skipped_invalid} | null, error | null}.
    404 when the job belongs to another institution.
    """
    return jsonify(job_json(services.get_job_for(current_user, job_id)))
