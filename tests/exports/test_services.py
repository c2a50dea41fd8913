"""The export job in the worker: as its requester, counted first, progress as it goes, a dead
worker's job written again from the start (never half a file), failures in Chinese with no
file left, and expired files deleted."""

from __future__ import annotations

import dataclasses
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from revive import queue
from revive.accounts.models import Role
from revive.db import utcnow
from revive.errors import NotFoundError, PermissionDenied
from revive.exports import registry, services
from revive.exports.models import ExportJob, ExportStatus
from revive.extensions import db
from tests.exports.helpers import direct_xlsx, read_xlsx, run_worker
from tests.factories import make_org

LONG = timedelta(hours=2)  # older than every delivery threshold


def _request(user, args=None) -> ExportJob:
    kind = registry.get("patents")
    job, reused = services.request_export("patents", user, kind.params(user, args or {}))
    assert not reused
    return job


def _job(job_id: int) -> ExportJob:
    db.session.expire_all()
    return db.session.get(ExportJob, job_id)


def _files(app) -> list[str]:
    folder = Path(app.config["REVIVE_DATA_DIR"]) / "exports"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_rows_are_counted_first_then_progress_is_written_as_they_go(
    app, uni, enqueued, monkeypatch
):
    job = _request(uni.admin)
    assert enqueued == [("exports.build", (job.id,))]
    seen: list[tuple[int, int, str]] = []
    record = services._record_progress

    def spy(job_id: int, processed: int) -> None:
        record(job_id, processed)
        # What the job's page reads meanwhile, on a connection of its own.
        with db.engine.connect() as conn:
            row = conn.execute(
                sa.select(ExportJob.processed_rows, ExportJob.total_rows, ExportJob.status).where(
                    ExportJob.id == job_id
                )
            ).one()
        seen.append((row.processed_rows, row.total_rows, row.status))

    monkeypatch.setattr(services, "_record_progress", spy)
    done = services.build_job(job.id, progress_every=2)
    running = ExportStatus.RUNNING.value
    assert [(p, t, str(s)) for p, t, s in seen] == [(2, 5, running), (4, 5, running)]
    assert done.status == ExportStatus.SUCCEEDED and done.error is None
    assert (done.processed_rows, done.total_rows, done.progress) == (5, 5, 1.0)
    assert done.started_at and done.finished_at and done.file_size > 0
    path = Path(done.stored_path)
    assert path.parent == Path(app.config["REVIVE_DATA_DIR"]) / "exports"
    assert _files(app) == [path.name]  # the file alone: no part file left beside it
    titles, rows = read_xlsx(path)
    assert titles == ["专利盘点"] and len(rows) == 6


def test_the_file_equals_what_the_direct_download_gives(app, client, auth, uni, enqueued):
    args = {"sort": "title", "dir": "asc", "college": str(uni.college.id)}
    job = _request(uni.admin, args)
    run_worker(job.id)
    job = _job(job.id)
    auth.login(uni.admin)
    query = "&".join(f"{k}={v}" for k, v in args.items())
    assert read_xlsx(Path(job.stored_path)) == read_xlsx(
        direct_xlsx(client, app, f"/patents/export.xlsx?{query}")
    )
    assert job.total_rows == 3  # the college's patents only


def test_a_job_killed_mid_way_is_written_again_from_the_start(app, client, auth, uni, enqueued):
    job = _request(uni.admin)
    final = Path(job.stored_path)
    # A worker took the job, wrote part of the file and was killed (SIGKILL: no clean-up).
    assert queue.claim("exports.build", job.id, "dead-worker")
    half = final.with_name(f"{final.name}.deadbeef.part")
    half.write_bytes(b"PK\x03\x04 half a workbook")
    db.session.execute(
        sa.update(ExportJob)
        .where(ExportJob.id == job.id)
        .values(
            status=ExportStatus.RUNNING,
            total_rows=5,
            processed_rows=2,
            task_sent_at=utcnow() - LONG,
            task_heartbeat_at=utcnow() - LONG,
        )
    )
    db.session.commit()
    with pytest.raises(NotFoundError, match="尚未生成"):  # half a file is never served
        services.file_for(uni.admin, job.id)
    assert not final.exists()

    assert queue.resend_stuck() == {"exports.build": [job.id]}  # the sweep re-sends it
    run_worker(job.id)
    done = _job(job.id)
    assert done.status == ExportStatus.SUCCEEDED and done.task_attempts == 2
    assert (done.processed_rows, done.total_rows) == (5, 5)
    assert _files(app) == [final.name]  # the dead worker's part file is gone
    auth.login(uni.admin)
    assert read_xlsx(final) == read_xlsx(direct_xlsx(client, app, "/patents/export.xlsx"))

    written = final.stat().st_mtime_ns
    run_worker(job.id)  # the dead worker's message, redelivered late: nothing
    assert _job(job.id).task_attempts == 2 and final.stat().st_mtime_ns == written


def test_a_job_started_too_often_is_given_up_in_chinese(app, uni, enqueued):
    job = _request(uni.admin)
    db.session.execute(
        sa.update(ExportJob)
        .where(ExportJob.id == job.id)
        .values(
            status=ExportStatus.RUNNING,
            task_claimed_by="dead",
            task_attempts=queue.MAX_ATTEMPTS,
            task_sent_at=utcnow() - LONG,
            task_heartbeat_at=utcnow() - LONG,
        )
    )
    db.session.commit()
    assert queue.resend_stuck() == {}
    failed = _job(job.id)
    assert failed.status == ExportStatus.FAILED and failed.error == queue.GAVE_UP
    assert failed.stored_path is None and _files(app) == []


def _deactivate(user) -> None:
    user.is_active_flag = False


def _demote(user) -> None:
    user.role = Role.ENTERPRISE  # exports no patents


def _move(user) -> None:
    user.organization = make_org("另一所大学")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_deactivate, services.DEACTIVATED),
        (_demote, services.ROLE_LOST.format(label="专利盘点")),
        (_move, services.SCOPE_CHANGED),
    ],
    ids=["deactivated", "lost the role", "another university"],
)
def test_a_requester_changed_meanwhile_gets_no_file(app, uni, enqueued, change, message):
    job = _request(uni.admin)
    change(uni.admin)
    db.session.commit()
    run_worker(job.id)
    failed = _job(job.id)
    assert failed.status == ExportStatus.FAILED and failed.error == message
    assert failed.stored_path is None and failed.finished_at is not None
    assert _files(app) == []


def test_a_finished_file_is_not_handed_to_a_requester_whose_scope_changed(app, uni, enqueued):
    job = _request(uni.admin)
    run_worker(job.id)
    assert services.file_for(uni.admin, job.id)[1].is_file()
    _move(uni.admin)
    db.session.commit()
    with pytest.raises(PermissionDenied, match="不再提供下载"):
        services.file_for(uni.admin, job.id)


def test_a_crash_fails_the_job_and_leaves_no_file(app, uni, enqueued, monkeypatch):
    kind = registry.get("patents")

    def rows(user, params):
        yield from list(kind.rows(user, params))[:2]
        raise RuntimeError("database went away")

    monkeypatch.setitem(registry._KINDS, "patents", dataclasses.replace(kind, rows=rows))
    job = _request(uni.admin)
    with pytest.raises(RuntimeError):
        services.build_job(job.id)
    failed = _job(job.id)
    assert failed.status == ExportStatus.FAILED and failed.error == services.GENERIC_FAILURE
    assert failed.stored_path is None and _files(app) == []


def test_an_unknown_kind_fails_with_a_clear_message(app, uni, enqueued):
    job = _request(uni.admin)
    job.kind = "retired"
    db.session.commit()
    run_worker(job.id)
    assert _job(job.id).error == "不支持的导出类型：retired"


def test_expired_files_and_stray_files_are_deleted(app, client, auth, uni, enqueued):
    from workers import tasks

    old, fresh = _request(uni.admin), _request(uni.admin, {"q": "材料"})
    for job in (old, fresh):
        run_worker(job.id)
    keep = app.config["REVIVE_EXPORT_KEEP_HOURS"]
    assert keep == 24
    db.session.execute(
        sa.update(ExportJob)
        .where(ExportJob.id == old.id)
        .values(finished_at=utcnow() - timedelta(hours=keep, minutes=1))
    )
    db.session.commit()
    folder = Path(_job(old.id).stored_path).parent
    stale = folder / "0123.xlsx.cafe.part"  # a dead worker's, long ago
    stale.write_bytes(b"half")
    aged = time.time() - (keep + 1) * 3600
    os.utime(stale, (aged, aged))
    recent = folder / "4567.xlsx.beef.part"  # a job being written right now
    recent.write_bytes(b"half")
    old_path, fresh_path = Path(_job(old.id).stored_path), Path(_job(fresh.id).stored_path)
    os.utime(fresh_path, (aged, aged))  # its file is old, but the job finished just now

    tasks.cleanup_exports()  # what beat runs every hour
    expired = _job(old.id)
    assert expired.status == ExportStatus.EXPIRED and expired.stored_path is None
    assert not old_path.exists() and not stale.exists()
    assert fresh_path.exists() and recent.exists()
    assert _job(fresh.id).status == ExportStatus.SUCCEEDED
    assert services.cleanup() == {"expired": 0, "strays": 0}  # nothing left to do

    auth.login(uni.admin)
    response = client.get(f"/exports/{old.id}/download")
    assert response.status_code == 404
    assert "已超过保留期限（24 小时）并已删除" in response.get_data(as_text=True)
    page = client.get(f"/exports/{old.id}").get_data(as_text=True)
    assert "已过期" in page and "/patents/export.xlsx" in page  # 重新导出


def test_the_cleanup_is_scheduled_hourly(app):
    schedule = app.config["CELERY"]["beat_schedule"]
    (entry,) = [e for e in schedule.values() if e["task"] == "exports.cleanup"]
    assert entry["schedule"] == 3600.0
