"""The command-line run of an import job, shared by ``revive import-patents`` and
``revive import-demands`` (the commands live with their domains).

The same pipeline as the web upload (a job row, validate, commit) runs synchronously in this
process, no broker needed. Progress goes to stderr; the last line on stdout is a one-line JSON
summary. Exit status 1 on a file-level error (unreadable file, missing column, empty file,
unsupported type …), when --all-or-nothing finds invalid rows, or when every row is
invalid (nothing can be written); some invalid rows beside valid ones are reported in the
summary with exit status 0.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from revive.errors import DomainError
from revive.imports import registry, services
from revive.imports.models import ImportJob, ImportStatus

PREVIEW_COUNTS = ("new", "changed", "unchanged", "invalid")


def progress(stage: str) -> services.Progress:
    step = {"n": 0}

    def report(job: ImportJob) -> None:
        # Roughly every 5 % (at least every 5,000 rows) so a 50,000-row file prints ~20 lines.
        every = max(1, min(5000, job.total_rows // 20))
        if job.processed_rows - step["n"] >= every or job.processed_rows >= job.total_rows:
            step["n"] = job.processed_rows
            click.echo(f"{stage}：{job.processed_rows}/{job.total_rows} 行", err=True)

    return report


def run_import(
    file: str,
    create: Callable[[Path], ImportJob],
    *,
    dry_run: bool,
    all_or_nothing: bool,
    extra_counts: Sequence[str] = (),
    **facts: Any,
) -> NoReturn:
    """Register the job with ``create(path)`` (a DomainError is a file-level error), validate,
    then commit unless ``dry_run`` or refused by ``all_or_nothing``; exit with the summary.

    ``extra_counts``: preview counts of this kind beyond new/changed/unchanged/invalid (e.g.
    new_enterprises); ``facts``: extra summary keys (e.g. institution)."""
    counted = (*PREVIEW_COUNTS, *extra_counts)

    def finish(job: ImportJob | None = None, error: str | None = None) -> NoReturn:
        preview = (job.preview_counts if job else None) or {}
        result = (job.result_counts if job else None) or {}
        errors = [
            {"line": e.line, "column": e.column, "message": e.message}
            for e in (services.first_errors(job, 20) if job is not None else [])
        ]
        summary = {
            "file": file,
            **facts,
            "job_id": job.id if job else None,
            "status": job.status.value if job else "failed",
            "rows": preview.get("rows", job.total_rows if job else 0),
            **{key: preview.get(key, 0) for key in counted},
            "created": result.get("created", 0),
            "updated": result.get("updated", 0),
            "dry_run": dry_run,
            "error": error,
            "errors": errors,
        }
        if error:
            click.echo(f"错误：{error}", err=True)
        click.echo(json.dumps(summary, ensure_ascii=False))
        sys.exit(1 if error else 0)

    path = Path(file)
    if not path.is_file():
        finish(error=f"无法读取文件：{file}（文件不存在或不是普通文件）")
    try:
        job = create(path)
    except DomainError as exc:
        finish(error=exc.message)

    click.echo(f"已登记导入任务 #{job.id}：{job.filename}", err=True)
    job = services.validate_job(job.id, progress=progress("校验"))
    if job.status == ImportStatus.FAILED:
        finish(job, job.error or "校验失败")
    counts = job.preview_counts or {}
    notes = "".join(f"；{n}" for n in registry.get(job.kind).preview_notes(counts))
    if counts.get("stripped"):
        lines = services.Lines.of(job).labels(counts.get("stripped_lines", []))
        notes += f"；{counts['stripped']} 行含控制字符（如 NUL），已删除：{lines}等"
    if counts.get("sheet_rows"):
        read = "、".join(f"“{name}”{n} 行" for name, n in counts["sheet_rows"])
        notes += f"；读取的工作表：{read}"
    skipped = (job.header_map or {}).get("skipped_sheets") or []
    if skipped:
        notes += "；未读取的工作表：" + "、".join(f"“{n}”（{why}）" for n, why in skipped)
    click.echo(
        f"预检完成：新增 {counts.get('new', 0)}，变更 {counts.get('changed', 0)}，"
        f"无变化 {counts.get('unchanged', 0)}，无效 {counts.get('invalid', 0)}{notes}",
        err=True,
    )
    valid = counts.get("new", 0) + counts.get("changed", 0) + counts.get("unchanged", 0)
    if not valid and counts.get("invalid", 0):
        # nothing can be written: a failure for a script (an operator's cron read exit 0),
        # a dry run's too
        finish(job, f"全部 {counts['invalid']} 行无效，未写入任何数据：请按错误说明修改后重新导入")
    if dry_run:
        finish(job)
    if all_or_nothing and counts.get("invalid", 0):
        finish(job, f"有 {counts['invalid']} 行无效数据，--all-or-nothing：未写入任何数据")
    if valid:
        try:
            services.request_commit(job.id, actor=None, enqueue=False)
        except DomainError as exc:
            finish(job, exc.message)
        job = services.commit_job(job.id, progress=progress("导入"))
        if job.status != ImportStatus.COMMITTED:
            finish(job, job.error or "导入未完成")
        result = job.result_counts or {}
        click.echo(
            f"导入完成：新建 {result.get('created', 0)}，更新 {result.get('updated', 0)}", err=True
        )
    finish(job)
