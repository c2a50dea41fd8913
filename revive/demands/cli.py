"""revive import-demands FILE [--dry-run] [--all-or-nothing]

The same pipeline as the officers' upload (a job row, validate, commit), run synchronously.
Progress goes to stderr; the last line on stdout is a one-line JSON summary. Exit status 1 on
a file-level error or when --all-or-nothing finds invalid rows.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from revive.demands import importers
from revive.errors import DomainError
from revive.imports import services
from revive.imports.models import ImportJob, ImportStatus
from revive.inventory.cli import _progress


def _summary(file: str, dry_run: bool, job: ImportJob | None = None, error: str | None = None):
    preview = (job.preview_counts if job else None) or {}
    result = (job.result_counts if job else None) or {}
    errors: list[dict[str, Any]] = []
    if job is not None:
        errors = [
            {"line": e.line, "column": e.column, "message": e.message}
            for e in services.first_errors(job, 20)
        ]
    return {
        "file": file,
        "job_id": job.id if job else None,
        "status": job.status.value if job else "failed",
        "rows": preview.get("rows", job.total_rows if job else 0),
        "new": preview.get("new", 0),
        "changed": preview.get("changed", 0),
        "unchanged": preview.get("unchanged", 0),
        "invalid": preview.get("invalid", 0),
        "new_enterprises": preview.get("new_enterprises", 0),
        "created": result.get("created", 0),
        "updated": result.get("updated", 0),
        "dry_run": dry_run,
        "error": error,
        "errors": errors,
    }


def _finish(summary: dict[str, Any], code: int) -> None:
    if summary["error"]:
        click.echo(f"错误：{summary['error']}", err=True)
    click.echo(json.dumps(summary, ensure_ascii=False))
    sys.exit(code)


@click.command("import-demands")
@click.argument("file")
@click.option("--dry-run", is_flag=True, help="只校验并预览，不写入")
@click.option("--all-or-nothing", is_flag=True, help="有任何无效行则不写入任何数据")
@with_appcontext
def import_demands_command(file: str, dry_run: bool, all_or_nothing: bool) -> None:
    """Import enterprise demands collected offline (.xlsx / CSV)."""
    if not Path(file).is_file():
        _finish(
            _summary(file, dry_run, error=f"无法读取文件：{file}（文件不存在或不是普通文件）"), 1
        )
    try:
        job = importers.create_demand_import(
            Path(file), actor=None, all_or_nothing=all_or_nothing, enqueue=False
        )
    except DomainError as exc:
        _finish(_summary(file, dry_run, error=exc.message), 1)
    click.echo(f"已登记导入任务 #{job.id}：{job.filename}", err=True)
    job = services.validate_job(job.id, progress=_progress("校验"))
    if job.status == ImportStatus.FAILED:
        _finish(_summary(file, dry_run, job, job.error), 1)
    counts = job.preview_counts or {}
    click.echo(
        f"预检完成：新增 {counts.get('new', 0)}，变更 {counts.get('changed', 0)}，"
        f"无变化 {counts.get('unchanged', 0)}，无效 {counts.get('invalid', 0)}，"
        f"将新建企业 {counts.get('new_enterprises', 0)} 家",
        err=True,
    )
    if dry_run:
        _finish(_summary(file, dry_run, job), 0)
    if all_or_nothing and counts.get("invalid", 0):
        message = f"有 {counts['invalid']} 行无效数据，--all-or-nothing：未写入任何数据"
        _finish(_summary(file, dry_run, job, message), 1)
    if counts.get("new", 0) + counts.get("changed", 0) + counts.get("unchanged", 0):
        try:
            services.request_commit(
                job.id, actor=None, all_or_nothing=all_or_nothing, enqueue=False
            )
        except DomainError as exc:
            _finish(_summary(file, dry_run, job, exc.message), 1)
        job = services.commit_job(job.id, progress=_progress("导入"))
        if job.status != ImportStatus.COMMITTED:
            _finish(_summary(file, dry_run, job, job.error or "导入未完成"), 1)
    _finish(_summary(file, dry_run, job), 0)


commands = [import_demands_command]
