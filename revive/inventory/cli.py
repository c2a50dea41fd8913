"""revive import-patents FILE --institution NAME [--college NAME] [--dry-run] [--all-or-nothing]

Runs the same pipeline as the web upload (a job row, validate, commit) synchronously in this
process, no broker needed. Progress goes to stderr; the last line on stdout is a one-line JSON
summary. Exit status 1 on a file-level error (unreadable file, unknown institution, no 申请号
column, empty file, unsupported type …) or when --all-or-nothing finds invalid rows; invalid
rows alone are reported in the summary with exit status 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from revive.accounts.models import OrgKind
from revive.errors import DomainError
from revive.imports import services
from revive.imports.models import ImportJob, ImportStatus
from revive.inventory.services import college_index


def _summary(
    file: str,
    institution: str,
    dry_run: bool,
    job: ImportJob | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    preview = (job.preview_counts if job else None) or {}
    result = (job.result_counts if job else None) or {}
    errors = []
    if job is not None:
        errors = [
            {"line": e.line, "column": e.column, "message": e.message}
            for e in services.first_errors(job, 20)
        ]
    return {
        "file": file,
        "institution": institution,
        "job_id": job.id if job else None,
        "status": job.status.value if job else "failed",
        "rows": preview.get("rows", job.total_rows if job else 0),
        "new": preview.get("new", 0),
        "changed": preview.get("changed", 0),
        "unchanged": preview.get("unchanged", 0),
        "invalid": preview.get("invalid", 0),
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


def _progress(stage: str):
    step = {"n": 0}

    def report(job: ImportJob) -> None:
        # Roughly every 5 % (at least every 5,000 rows) so a 50,000-row file prints ~20 lines.
        every = max(1, min(5000, job.total_rows // 20))
        if job.processed_rows - step["n"] >= every or job.processed_rows >= job.total_rows:
            step["n"] = job.processed_rows
            click.echo(f"{stage}：{job.processed_rows}/{job.total_rows} 行", err=True)

    return report


@click.command("import-patents")
@click.argument("file")
@click.option("--institution", required=True, help="单位全称（须为已登记的高校/科研院所）")
@click.option("--college", default=None, help="只导入该学院的专利（文件中学院留空的行归入该学院）")
@click.option("--dry-run", is_flag=True, help="只校验并预览，不写入")
@click.option("--all-or-nothing", is_flag=True, help="有任何无效行则不写入任何数据")
@with_appcontext
def import_patents_command(
    file: str, institution: str, college: str | None, dry_run: bool, all_or_nothing: bool
) -> None:
    """Import a patent spreadsheet (.xlsx / CSV) for one institution."""
    fail = lambda message: _finish(_summary(file, institution, dry_run, error=message), 1)  # noqa: E731
    path = Path(file)
    if not path.is_file():
        fail(f"无法读取文件：{file}（文件不存在或不是普通文件）")
    org = services.find_institution(institution)
    if org is None or org.kind != OrgKind.UNIVERSITY:
        fail(f"未找到高校/科研院所：{institution}")
    college_id = None
    if college:
        college_id = college_index(org.id).get(college)
        if college_id is None:
            fail(f"{institution} 下没有学院：{college}")
    try:
        job = services.create_patent_import(
            path,
            actor=None,
            institution_id=org.id,
            college_id=college_id,
            all_or_nothing=all_or_nothing,
            enqueue=False,
        )
    except DomainError as exc:
        fail(exc.message)

    click.echo(f"已登记导入任务 #{job.id}：{job.filename}", err=True)
    job = services.validate_job(job.id, progress=_progress("校验"))
    if job.status == ImportStatus.FAILED:
        _finish(_summary(file, institution, dry_run, job, job.error), 1)
    counts = job.preview_counts or {}
    click.echo(
        f"预检完成：新增 {counts.get('new', 0)}，变更 {counts.get('changed', 0)}，"
        f"无变化 {counts.get('unchanged', 0)}，无效 {counts.get('invalid', 0)}",
        err=True,
    )
    if dry_run:
        _finish(_summary(file, institution, dry_run, job), 0)
    valid = counts.get("new", 0) + counts.get("changed", 0) + counts.get("unchanged", 0)
    if all_or_nothing and counts.get("invalid", 0):
        message = f"有 {counts['invalid']} 行无效数据，--all-or-nothing：未写入任何数据"
        _finish(_summary(file, institution, dry_run, job, message), 1)
    if valid:
        try:
            services.request_commit(
                job.id, actor=None, all_or_nothing=all_or_nothing, enqueue=False
            )
        except DomainError as exc:
            _finish(_summary(file, institution, dry_run, job, exc.message), 1)
        job = services.commit_job(job.id, progress=_progress("导入"))
        if job.status != ImportStatus.COMMITTED:
            _finish(_summary(file, institution, dry_run, job, job.error or "导入未完成"), 1)
        result = job.result_counts or {}
        click.echo(
            f"导入完成：新建 {result.get('created', 0)}，更新 {result.get('updated', 0)}", err=True
        )
    _finish(_summary(file, institution, dry_run, job), 0)


@click.command("requeue-jobs")
@click.option("--older-than", default=10, show_default=True, help="minutes without progress")
@with_appcontext
def requeue_jobs_command(older_than: int) -> None:
    """Re-send import jobs, index builds and match runs stuck in the queue or orphaned by a
    dead worker."""
    # Command-line code sits above every floor; the import is local so inventory's module
    # never depends on matching.
    from revive.matching.services import requeue_stale_runs

    sent = services.requeue_stale_jobs(older_than_minutes=older_than)
    matching = requeue_stale_runs(older_than_minutes=older_than)
    click.echo(json.dumps({"requeued": sent, "matching": matching}))


commands = [import_patents_command, requeue_jobs_command]
