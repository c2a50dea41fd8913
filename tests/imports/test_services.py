"""Job lifecycle: preview, commit, idempotency, all-or-nothing, resume, reaper, access."""

from __future__ import annotations

import gc
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import current_app

from revive.accounts.models import Role
from revive.db import utcnow
from revive.errors import InvalidTransition, NotFoundError, PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.imports import services
from revive.imports.models import ImportJob, ImportRowError, ImportStatus
from revive.inventory import importers as patent_importers
from revive.inventory.models import Patent, PatentRevision, PatentType
from tests.factories import make_org, make_patent, make_user
from tests.imports.helpers import appno, csv_bytes, row, write_csv, write_xlsx_file


def _count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _errors(job):
    return [(e.line, e.column, e.message) for e in services.first_errors(job, 1000)]


def test_preview_counts_and_row_errors_without_writing(uni, run_import, tmp_path):
    make_patent(
        uni.org,
        college=uni.college,
        application_no=appno(1),
        title="一种复合材料的制备方法1",
        trl=5,
        filing_date=date(2019, 3, 1),
    )
    make_patent(uni.org, college=uni.college, application_no=appno(2), title="旧名称", trl=5)
    path = write_csv(
        tmp_path / "f.csv",
        [
            row(1),  # unchanged
            row(2),  # changed title (and filing date)
            row(3),  # new
            ["201710601862.4", "坏号"],  # bad check digit
            row(4, college="化学学院"),  # unknown college
            row(3),  # duplicate of line 4
        ],
    )
    job = run_import(path, commit=False)
    assert job.status == ImportStatus.VALIDATED
    counts = dict(job.preview_counts)
    (changed,) = counts.pop("changed_rows")  # what the changed row changes, for the preview
    # the new row has no 专利价值分级自评 / 转化意愿: it cannot enter the pool before it has them
    assert counts == {
        "new": 1,
        "changed": 1,
        "unchanged": 1,
        "invalid": 3,
        "rows": 6,
        "ungraded": 1,
    }
    assert (changed["line"], changed["application_no"], changed["entered"]) == (3, appno(2), False)
    assert [f[0] for f in changed["fields"]] == ["专利名称", "申请日"]
    assert job.total_rows == job.processed_rows == 6
    errors = _errors(job)
    assert (5, "申请号", "申请号校验位错误：201710601862.4（按规则应为 201710601862.3）") in errors
    assert (6, "所属学院", "未知学院：化学学院（须为本校已登记的学院名称）") in errors
    assert (7, "申请号", "与第 4 行申请号重复") in errors
    assert _count(Patent) == 2
    assert _count(Patent, Patent.title == "旧名称") == 1


def test_commit_applies_valid_rows_only_with_history(uni, run_import, tmp_path):
    make_patent(uni.org, college=uni.college, application_no=appno(2), title="旧名称", trl=3)
    path = write_csv(tmp_path / "f.csv", [row(1), row(2, trl="6"), ["坏号", "x"]])
    job = run_import(path)
    assert job.status == ImportStatus.COMMITTED
    assert job.result_counts == {"created": 1, "updated": 1, "unchanged": 0, "skipped_invalid": 1}
    new = db.session.scalar(sa.select(Patent).where(Patent.application_no == appno(1)))
    assert new.college_id == uni.college.id
    assert new.trl == 5
    assert new.patent_type == PatentType.INVENTION
    assert new.created_by_id == uni.admin.id
    changed = db.session.scalar(sa.select(Patent).where(Patent.application_no == appno(2)))
    assert changed.title == "一种复合材料的制备方法2"
    assert changed.trl == 6
    (rev,) = db.session.scalars(
        sa.select(PatentRevision).where(PatentRevision.patent_id == changed.id)
    ).all()
    assert rev.source == "import"
    assert rev.import_job_id == job.id
    assert rev.actor_id == uni.admin.id
    assert rev.changes["trl"] == [3, 6]
    assert rev.changes["title"][0] == "旧名称"


def test_reimporting_the_same_file_changes_nothing(uni, run_import, tmp_path):
    path = write_xlsx_file(tmp_path / "f.xlsx", [row(i) for i in range(1, 6)])
    run_import(path)
    revisions = _count(PatentRevision)
    versions = list(db.session.scalars(sa.select(Patent.version).order_by(Patent.id)))
    again = run_import(path)
    assert again.preview_counts["unchanged"] == 5
    assert again.preview_counts["new"] == 0
    assert again.result_counts == {"created": 0, "updated": 0, "unchanged": 5, "skipped_invalid": 0}
    assert _count(Patent) == 5
    assert _count(PatentRevision) == revisions
    assert list(db.session.scalars(sa.select(Patent.version).order_by(Patent.id))) == versions


def test_empty_cells_never_erase_stored_values(uni, run_import, tmp_path):
    make_patent(uni.org, application_no=appno(1), title="一种材料", trl=7)
    path = write_csv(
        tmp_path / "f.csv",
        [[appno(1), "一种材料", "", ""]],
        header=["申请号", "专利名称", "技术成熟度", "专利价值分级自评"],
    )
    job = run_import(path)
    assert job.result_counts["unchanged"] == 1
    assert db.session.scalar(sa.select(Patent.trl)) == 7


def test_all_or_nothing_with_invalid_rows_is_refused_and_writes_nothing(uni, run_import, tmp_path):
    path = write_csv(tmp_path / "f.csv", [row(1), ["坏号", "x"]])
    job = run_import(path, commit=False, all_or_nothing=True)
    with pytest.raises(ValidationFailed, match="1 行无效数据"):
        services.request_commit(job.id, actor=uni.admin)
    assert db.session.get(ImportJob, job.id).status == ImportStatus.VALIDATED
    assert _count(Patent) == 0
    # The confirm does what was chosen at upload; "valid rows only" is a new upload.
    again = run_import(path, commit=False)
    services.request_commit(again.id, actor=uni.admin, enqueue=False)
    assert services.commit_job(again.id).result_counts["created"] == 1


def test_all_or_nothing_recheck_at_commit_time_rolls_back_everything(uni, run_import, tmp_path):
    path = write_csv(tmp_path / "f.csv", [row(i) for i in range(1, 4)])
    job = run_import(path, commit=False, all_or_nothing=True)
    services.request_commit(job.id, actor=uni.admin, enqueue=False)
    db.session.delete(uni.college)  # the database changed since the preview
    db.session.commit()
    job = services.commit_job(job.id)
    assert job.status == ImportStatus.FAILED
    assert "未写入任何数据" in job.error
    assert _count(Patent) == 0


def test_all_or_nothing_commits_every_row(uni, run_import, tmp_path):
    path = write_csv(tmp_path / "f.csv", [row(i) for i in range(1, 4)])
    job = run_import(path, all_or_nothing=True)
    assert job.status == ImportStatus.COMMITTED
    assert job.result_counts["created"] == 3


def test_commit_revalidates_against_the_current_database(uni, run_import, tmp_path):
    """A patent someone entered after the preview is not overwritten by the file: the row is
    reported instead (as below for an edit)."""
    path = write_csv(tmp_path / "f.csv", [row(1), row(2)])
    job = run_import(path, commit=False)
    make_patent(uni.org, college=uni.college, application_no=appno(1), title="别人刚录入的")
    services.request_commit(job.id, actor=uni.admin, enqueue=False)
    job = services.commit_job(job.id)
    assert job.result_counts == {"created": 1, "updated": 0, "unchanged": 0, "skipped_invalid": 1}
    assert _count(Patent) == 2
    assert _count(Patent, Patent.title == "别人刚录入的") == 1


def test_an_edit_made_after_the_preview_is_not_overwritten(uni, run_import, tmp_path):
    """Seen in exploratory testing: a college admin set 价值自评 after the preview, and the
    confirmed import wrote the file's older value over it without a word. Now that row is
    left alone and listed with why; a patent nobody touched since the preview is updated."""
    edited = make_patent(uni.org, college=uni.college, application_no=appno(1), trl=5)
    untouched = make_patent(uni.org, college=uni.college, application_no=appno(2), trl=5)
    db.session.commit()
    path = write_csv(tmp_path / "f.csv", [row(1, trl="3"), row(2, trl="3")])
    job = run_import(path, commit=False)
    assert job.preview_counts["changed"] == 2
    edited = db.session.get(Patent, edited.id)
    edited.trl = 8  # the edit form, after the preview
    db.session.commit()
    services.request_commit(job.id, actor=uni.admin, enqueue=False)
    job = services.commit_job(job.id)
    assert job.result_counts == {"created": 0, "updated": 1, "unchanged": 0, "skipped_invalid": 1}
    db.session.expire_all()
    assert db.session.get(Patent, edited.id).trl == 8
    assert db.session.get(Patent, untouched.id).trl == 3
    assert any("预检之后" in message and "已被修改" in message for _, _, message in _errors(job))


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: no except-Exception cleanup runs."""


def _upsert_failing(monkeypatch, fails, error):
    """upsert_rows raising ``error()`` on the calls for which ``fails(call number)`` holds
    (the real one otherwise); returns the calls counter ({"n": …})."""
    real = patent_importers.upsert_rows
    calls = {"n": 0}

    def upsert(*args, **kwargs):
        calls["n"] += 1
        if fails(calls["n"]):
            raise error()
        return real(*args, **kwargs)

    monkeypatch.setattr(patent_importers, "upsert_rows", upsert)
    return calls


def _confirmed_in_batches_of_3(monkeypatch, uni, run_import, path) -> ImportJob:
    """A previewed job of ``path`` whose import is confirmed, written three rows a batch."""
    monkeypatch.setitem(current_app.config, "REVIVE_IMPORT_COMMIT_BATCH", 3)
    job = run_import(path, commit=False)
    services.request_commit(job.id, actor=uni.admin, enqueue=False)
    return job


def test_killed_commit_resumes_from_committed_rows(uni, run_import, tmp_path, monkeypatch):
    rows = [row(i) for i in range(1, 11)]
    rows[4] = ["坏号", "x"]  # line 6 invalid
    rows[7] = row(2)  # line 9 duplicates line 3
    path = write_csv(tmp_path / "f.csv", rows)
    job = _confirmed_in_batches_of_3(monkeypatch, uni, run_import, path)

    real = patent_importers.upsert_rows
    _upsert_failing(monkeypatch, lambda n: n == 3, WorkerKilled)
    with pytest.raises(WorkerKilled):
        services.commit_job(job.id)
    db.session.rollback()
    job = db.session.get(ImportJob, job.id)
    assert job.status == ImportStatus.COMMITTING
    assert job.committed_rows == 6
    assert _count(Patent) == 5

    monkeypatch.setattr(patent_importers, "upsert_rows", real)
    job = services.commit_job(job.id)  # the redelivered task
    assert job.status == ImportStatus.COMMITTED
    assert job.committed_rows == 10
    assert job.result_counts == {"created": 8, "updated": 0, "unchanged": 0, "skipped_invalid": 2}
    assert _count(Patent) == 8
    assert _count(PatentRevision) == 8


def _racing(monkeypatch, uni, application_nos):
    """upsert_rows as if another import committed a patent with each of ``application_nos``
    just after this batch was planned."""
    real = patent_importers.upsert_rows

    def racing(*args, **kwargs):
        for n in application_nos:
            if not _count(Patent, Patent.application_no == appno(n)):
                make_patent(uni.org, college=uni.college, application_no=appno(n))
        db.session.commit()
        return real(*args, **kwargs)

    monkeypatch.setattr(patent_importers, "upsert_rows", racing)


def test_a_batch_that_raced_another_import_is_planned_again(uni, run_import, tmp_path, monkeypatch):
    """Two imports of the same patents confirmed together: a row the other one created is
    planned again, not an internal error; written after this preview, it is not overwritten
    but reported (see test_an_edit_made_after_the_preview_is_not_overwritten)."""
    path = write_csv(tmp_path / "f.csv", [row(i) for i in range(1, 7)])
    job = _confirmed_in_batches_of_3(monkeypatch, uni, run_import, path)
    _racing(monkeypatch, uni, [2])
    job = services.commit_job(job.id)
    assert job.status == ImportStatus.COMMITTED, job.error
    assert job.committed_rows == 6
    assert job.result_counts == {"created": 5, "updated": 0, "unchanged": 0, "skipped_invalid": 1}
    assert _count(Patent) == 6


def test_a_race_that_persists_fails_the_job_with_a_clear_message(
    uni, run_import, tmp_path, monkeypatch
):
    path = write_csv(tmp_path / "f.csv", [row(i) for i in range(1, 7)])
    job = _confirmed_in_batches_of_3(monkeypatch, uni, run_import, path)
    calls = _upsert_failing(  # the second batch, on every attempt
        monkeypatch,
        lambda n: n > 1,
        lambda: sa.exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")),
    )
    job = services.commit_job(job.id)
    assert job.status == ImportStatus.FAILED
    assert "另一个导入任务正在写入相同的记录，本任务已写入前 3 行" in job.error
    assert "内部错误" not in job.error
    assert calls["n"] == 1 + services.RACE_ATTEMPTS
    assert _count(Patent) == 3


def test_all_or_nothing_raced_by_another_import_writes_nothing(
    uni, run_import, tmp_path, monkeypatch
):
    path = write_csv(tmp_path / "f.csv", [row(i) for i in range(1, 5)])
    job = run_import(path, commit=False, all_or_nothing=True)
    services.request_commit(job.id, actor=uni.admin, enqueue=False)
    _racing(monkeypatch, uni, [3])
    job = services.commit_job(job.id)
    assert job.status == ImportStatus.FAILED
    assert "另一个导入任务同时写入了相同的记录，未写入任何数据" in job.error
    assert _count(Patent) == 1  # the other import's patent only


def test_tasks_run_twice_do_nothing_the_second_time(uni, run_import, tmp_path):
    path = write_csv(tmp_path / "f.csv", [row(1), ["坏号", "x"]])
    job = run_import(path)
    errors, revisions = _count(ImportRowError), _count(PatentRevision)
    services.validate_job(job.id)
    services.commit_job(job.id)
    job = db.session.get(ImportJob, job.id)
    assert job.status == ImportStatus.COMMITTED
    assert job.result_counts["created"] == 1
    assert _count(ImportRowError) == errors
    assert _count(PatentRevision) == revisions


def test_redelivered_validation_starts_over(uni, tmp_path):
    path = write_csv(tmp_path / "f.csv", [row(1), ["坏号", "x"]])
    job = services.create_patent_import(
        path, actor=uni.admin, institution_id=uni.org.id, enqueue=False
    )
    services.validate_job(job.id)
    job.status = ImportStatus.VALIDATING  # as if the worker died before finishing
    db.session.commit()
    job = services.validate_job(job.id)
    assert job.status == ImportStatus.VALIDATED
    assert _count(ImportRowError) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\n \n,,\n", "文件没有数据行（文件中没有任何内容）"),
        ("专利名称,发明人\n一种材料,张三\n".encode(), "找不到“申请号”列"),
        ("申请号,专利名称\n".encode(), "没有数据行"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "另存为 .xlsx 或 CSV"),
    ],
)
def test_file_level_problems_fail_the_job_with_a_message(uni, tmp_path, content, message):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    job = services.create_patent_import(
        path, actor=uni.admin, institution_id=uni.org.id, enqueue=False
    )
    job = services.validate_job(job.id)
    assert job.status == ImportStatus.FAILED
    assert message in job.error


def test_unexpected_crash_fails_the_job_and_reraises(uni, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "f.csv", [row(1)])
    job = services.create_patent_import(
        path, actor=uni.admin, institution_id=uni.org.id, enqueue=False
    )
    monkeypatch.setattr(patent_importers, "college_index", lambda _id: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        services.validate_job(job.id)
    job = db.session.get(ImportJob, job.id)
    assert job.status == ImportStatus.FAILED
    assert job.error == services.GENERIC_FAILURE


def test_create_enqueues_validation_after_commit(uni, tmp_path, enqueued):
    path = write_csv(tmp_path / "f.csv", [row(1)])
    job = services.create_patent_import(path, actor=uni.admin, institution_id=uni.org.id)
    assert enqueued == [("imports.validate", (job.id,))]
    assert job.status == ImportStatus.QUEUED
    assert job.celery_task_id == "fake-1"
    services.validate_job(job.id)
    services.request_commit(job.id, actor=uni.admin)
    assert enqueued[-1] == ("imports.commit", (job.id,))


def test_broker_down_leaves_job_queued_and_the_sweep_sends_it(uni, tmp_path, monkeypatch, enqueued):
    import revive.queue
    from revive.errors import ServiceUnavailable

    def down(*_):
        raise ServiceUnavailable()

    spy = revive.queue.enqueue
    monkeypatch.setattr(revive.queue, "enqueue", down)
    path = write_csv(tmp_path / "f.csv", [row(1)])
    job = services.create_patent_import(path, actor=uni.admin, institution_id=uni.org.id)
    assert job.status == ImportStatus.QUEUED and job.task_sent_at is None
    fresh = services.create_patent_import(path, actor=uni.admin, institution_id=uni.org.id)
    monkeypatch.setattr(revive.queue, "enqueue", spy)
    job.updated_at = utcnow() - timedelta(minutes=30)
    db.session.commit()
    assert revive.queue.resend_stuck() == {"imports.validate": [job.id]}
    assert enqueued == [("imports.validate", (job.id,))]
    assert fresh.id not in revive.queue.resend_stuck().get("imports.validate", [])


def test_cancel(uni, run_import, tmp_path):
    job = run_import(write_csv(tmp_path / "f.csv", [row(1)]), commit=False)
    services.cancel_job(job.id, actor=uni.admin)
    assert services.commit_job(job.id).status == ImportStatus.CANCELLED
    with pytest.raises(InvalidTransition):
        services.request_commit(job.id, actor=uni.admin)
    assert _count(Patent) == 0


def test_roles_that_may_not_import(uni, tmp_path):
    path = write_csv(tmp_path / "f.csv", [row(1)])
    for role in (Role.INVENTOR, Role.ENTERPRISE, Role.OFFICER, Role.REGULATOR):
        user = make_user(role, organization=uni.org if role == Role.INVENTOR else None)
        with pytest.raises(PermissionDenied):
            services.create_patent_import(
                path, actor=user, institution_id=uni.org.id, enqueue=False
            )
    other_admin = make_user(Role.UNIVERSITY_ADMIN)
    with pytest.raises(PermissionDenied):
        services.create_patent_import(
            path, actor=other_admin, institution_id=uni.org.id, enqueue=False
        )


def test_platform_admin_imports_for_any_university(uni, run_import, tmp_path):
    platform = make_user(Role.PLATFORM_ADMIN)
    job = run_import(write_csv(tmp_path / "f.csv", [row(1)]), actor=platform)
    assert job.status == ImportStatus.COMMITTED
    assert job.institution_id == uni.org.id
    with pytest.raises(ValidationFailed, match="请选择"):
        services.create_patent_import(
            write_csv(tmp_path / "g.csv", [row(1)]),
            actor=platform,
            institution_id=None,
            enqueue=False,
        )


def test_college_admin_job_is_limited_to_their_college(uni, run_import, tmp_path):
    make_patent(uni.org, college=uni.other_college, application_no=appno(9), title="别院的")
    college_admin = make_user(Role.COLLEGE_ADMIN, organization=uni.org, college=uni.college)
    path = write_csv(
        tmp_path / "f.csv", [row(1, college=""), row(2, college="计算机学院"), row(9, college="")]
    )
    job = run_import(path, actor=college_admin)
    assert job.college_id == uni.college.id
    assert job.result_counts == {"created": 1, "updated": 0, "unchanged": 0, "skipped_invalid": 2}
    reasons = " ".join(m for _, _, m in _errors(job))
    assert "只能导入本学院" in reasons
    assert "已登记在其他学院" in reasons
    assert (
        db.session.scalar(sa.select(Patent.title).where(Patent.application_no == appno(9)))
        == "别院的"
    )


def test_jobs_are_visible_only_inside_the_institution(uni, run_import, tmp_path):
    job = run_import(write_csv(tmp_path / "f.csv", [row(1)]), commit=False)
    outsider = make_user(Role.UNIVERSITY_ADMIN, organization=make_org())
    with pytest.raises(NotFoundError):
        services.get_job_for(outsider, job.id)
    with pytest.raises(NotFoundError):
        services.request_commit(job.id, actor=outsider)
    assert services.list_jobs(outsider) == []
    assert services.list_jobs(uni.admin) == [job]


def test_new_rows_in_an_update_only_file_need_a_title(uni, run_import, tmp_path):
    make_patent(uni.org, application_no=appno(1), trl=3)
    path = write_csv(
        tmp_path / "f.csv", [[appno(1), "8"], [appno(2), "8"]], header=["申请号", "技术成熟度"]
    )
    job = run_import(path)
    counts = {k: v for k, v in job.preview_counts.items() if k != "changed_rows"}
    assert counts == {"new": 0, "changed": 1, "unchanged": 0, "invalid": 1, "rows": 2}
    assert _errors(job) == [(3, "专利名称", "新登记的专利须填写专利名称")]
    assert db.session.scalar(sa.select(Patent.trl)) == 8


def test_many_batches_of_rows(uni, run_import, tmp_path, monkeypatch):
    """A file of many validation and commit batches validates and commits through the
    services, every row once. (Throughput is measured by the import benchmark in the README,
    not asserted.)"""
    monkeypatch.setitem(current_app.config, "REVIVE_IMPORT_COMMIT_BATCH", 500)
    n = 6_000  # 12 batches of each (services.VALIDATE_BATCH is 500)
    path = write_csv(tmp_path / "big.csv", [row(i) for i in range(1, n + 1)])
    job = run_import(path)
    assert job.status == ImportStatus.COMMITTED
    assert job.result_counts["created"] == n
    assert _count(Patent) == n
    assert db.session.scalar(sa.select(sa.func.count(sa.distinct(Patent.application_no)))) == n


def test_xlsx_without_application_no_column_fails_and_releases_the_file(uni, tmp_path):
    path = write_xlsx_file(tmp_path / "f.xlsx", [["一种材料"]], header=["专利名称"])
    job = services.create_patent_import(
        path, actor=uni.admin, institution_id=uni.org.id, enqueue=False
    )
    job = services.validate_job(job.id)
    assert job.status == ImportStatus.FAILED
    assert "找不到“申请号”列" in job.error
    gc.collect()  # an unclosed workbook would surface here as a ResourceWarning (an error)


def test_progress_is_committed_batch_by_batch(uni, tmp_path, monkeypatch):
    monkeypatch.setattr(services, "VALIDATE_BATCH", 2)
    monkeypatch.setitem(current_app.config, "REVIVE_IMPORT_COMMIT_BATCH", 2)
    path = write_xlsx_file(tmp_path / "f.xlsx", [row(i) for i in range(1, 6)])
    job = services.create_patent_import(
        path, actor=uni.admin, institution_id=uni.org.id, enqueue=False
    )
    seen: list[tuple[int, int]] = []

    def report(j):
        seen.append((j.processed_rows, j.total_rows))

    services.validate_job(job.id, progress=report)
    assert seen == [(2, 5), (4, 5), (5, 5)]
    services.request_commit(job.id, actor=uni.admin, enqueue=False)
    seen.clear()
    services.commit_job(job.id, progress=report)
    assert [p for p, _ in seen] == [2, 4, 5]


def test_job_orphaned_mid_commit_is_resent_and_completes_without_duplicates(
    uni, tmp_path, enqueued
):
    path = write_csv(tmp_path / "f.csv", [row(i) for i in range(1, 6)])
    job = services.create_patent_import(path, actor=uni.admin, institution_id=uni.org.id)
    services.validate_job(job.id)
    services.request_commit(job.id, actor=uni.admin)
    # The worker took the commit and died before finishing (no redelivery on this broker).
    from revive import queue
    from workers import tasks

    assert queue.claim("imports.commit", job.id, "dead-worker")
    job.status = ImportStatus.COMMITTING
    job.task_sent_at = utcnow() - timedelta(minutes=40)
    job.task_heartbeat_at = utcnow() - timedelta(minutes=30)  # its last sign of life
    db.session.commit()
    enqueued.clear()
    assert queue.resend_stuck() == {"imports.commit": [job.id]}
    assert enqueued == [("imports.commit", (job.id,))]
    tasks.commit_import(job.id)  # the re-sent delivery takes the row over
    db.session.expire_all()
    done = db.session.get(ImportJob, job.id)
    assert done.status == ImportStatus.COMMITTED
    assert db.session.scalar(sa.select(sa.func.count(Patent.id))) == 5


def test_importing_inventor_names_links_no_account(uni, run_import, tmp_path):
    # Names collide (张伟 in two colleges): an imported 发明人 column links nobody, new rows
    # or changed ones; accounts are linked by an admin's explicit decision.
    zhang = make_user(Role.INVENTOR, organization=uni.org, name="张伟")
    make_patent(uni.org, college=uni.college, application_no=appno(2), title="旧", trl=5)
    header = ["申请号", "专利名称", "所属学院", "发明人"]
    path = write_csv(
        tmp_path / "f.csv",
        [[appno(1), "一种新方法", "材料学院", "张伟；李四"], [appno(2), "旧", "材料学院", "张伟"]],
        header=header,
    )
    job = run_import(path)
    assert job.result_counts["created"] == 1 and job.result_counts["updated"] == 1
    db.session.expire_all()
    for patent in db.session.scalars(sa.select(Patent)):
        assert "张伟" in patent.inventors and zhang not in patent.inventor_users


def test_an_official_title_block_above_the_header_imports_and_is_named(uni, run_import, tmp_path):
    """单位（盖章）：… 填表人：… fills several cells: the header is still found by its names,
    and the preview names what was skipped and which line is the header."""
    from tests.imports.helpers import HEADER

    block = [
        ["华北理工示范大学2025年度存量专利盘点表"],
        ["填表日期：2025年10月"],
        ["单位（盖章）：", None, None, "填表人：王某"],
    ]
    path = write_xlsx_file(tmp_path / "f.xlsx", [*block, HEADER, row(1), row(2)], header=None)
    job = run_import(path)
    assert job.status == ImportStatus.COMMITTED, job.error
    assert job.result_counts["created"] == 2
    assert job.header_map["header_line"] == 4
    assert "单位（盖章）： 填表人：王某" in job.header_map["title"]
    assert not _errors(job)


def test_an_import_that_marks_a_patent_assigned_withdraws_its_open_licence(
    uni, run_import, tmp_path
):
    from revive.licensing.models import DeclarationStatus, OpenLicenceDeclaration
    from tests.audit.helpers import events
    from tests.licensing.helpers import make_declaration

    kept, sold = (make_patent(uni.org, application_no=appno(i)) for i in (1, 2))
    declarations = [make_declaration(kept), make_declaration(sold)]
    path = write_csv(
        tmp_path / "f.csv",
        [[appno(1), kept.title, "已许可"], [appno(2), sold.title, "已转让"]],
        header=["申请号", "专利名称", "实施状态"],
    )
    job = run_import(path)
    assert job.result_counts["updated"] == 2
    db.session.expire_all()
    statuses = [db.session.get(OpenLicenceDeclaration, d.id).status for d in declarations]
    assert statuses == [DeclarationStatus.ACTIVE, DeclarationStatus.WITHDRAWN]
    [event] = [e for e in events(entity="open_licence") if e.action == "withdraw"]
    assert event.entity_id == declarations[1].id
    assert event.data["reason"] == f"实施状态改为已转让（导入任务 #{job.id}）"


def test_row_errors_are_written_a_batch_at_a_time(uni, tmp_path):
    """A file of many mixed errors (some with a column, some without a value) writes its
    error rows in a few statements, not one a row."""
    rows = [[appno(i), "", "材料学院", "99" if i % 2 else "", ""] for i in range(1, 401)]
    path = write_csv(tmp_path / "bad.csv", rows)
    job = services.create_patent_import(
        path, actor=uni.admin, institution_id=uni.org.id, enqueue=False
    )
    inserts: list[str] = []

    def spy(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO IMPORT_ROW_ERRORS"):
            inserts.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", spy)
    try:
        job = services.validate_job(job.id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", spy)
    assert job.preview_counts["invalid"] == 400
    assert _count(ImportRowError) >= 400
    assert len(inserts) <= 4  # one validation batch of 400 rows


def test_a_job_no_worker_takes_says_so_after_two_minutes(uni, tmp_path, enqueued):
    """With every worker stopped a job would read 排队中 for ever; after two minutes its page
    (and the API's notice) says no worker has taken it, and that nothing needs redoing."""
    path = write_csv(tmp_path / "f.csv", [row(1)])
    job = services.create_patent_import(path, actor=uni.admin, institution_id=uni.org.id)
    assert job.status == ImportStatus.QUEUED and job.task_sent_at is not None
    assert services.stall_notice(job) is None  # just sent
    job.task_sent_at = utcnow() - timedelta(minutes=3)
    db.session.commit()
    notice = services.stall_notice(job)
    assert notice.startswith("任务已排队 3 分钟，仍没有后台处理进程接手")
    assert "无需重新提交" in notice
    job.task_claimed_by = "worker-1"  # taken (then the heartbeat rule watches it)
    job.task_heartbeat_at = utcnow()
    db.session.commit()
    assert services.stall_notice(job) is None


def test_the_preview_warns_of_patents_not_the_universitys_and_of_missing_grading(
    uni, run_import, tmp_path
):
    """An ops trial imported 3,139 of 4,780 rows whose 专利权人 was 华为技术有限公司 … under a
    university, nothing said; then none of 4,780 could enter the pool, for want of the
    self-assessment, and nothing had said so either. Both are said at the preview; the rows
    are imported all the same (a patentee may be written another way)."""
    header = ["申请号", "专利名称", "专利权人", "技术成熟度", "专利价值分级自评", "转化意愿"]
    rows = [
        [appno(1), "一种电池", "示例理工大学；某某公司", "5", "3", "愿意"],  # ours, graded
        [appno(2), "一种通信方法", "华为技术有限公司", "5", "2", "愿意"],
        [appno(3), "一种传感器", "", "", "", ""],  # no patentee: nothing to say; ungraded
        [appno(4), "一种阀门", "福建农林大学", "4", "", ""],
    ]
    path = tmp_path / "f.csv"
    path.write_bytes(csv_bytes(rows, header=header))
    job = run_import(path, commit=False)
    counts = job.preview_counts
    assert (counts["new"], counts["invalid"]) == (4, 0)
    assert (counts["not_owned"], counts["ungraded"]) == (2, 2)
    notes = patent_importers.PATENT_KIND.preview_notes(counts)
    assert any(
        "2 行的专利权人中没有“示例理工大学”" in n and "第 3 行：华为技术有限公司" in n
        for n in notes
    )
    assert any("新登记的 2 件专利缺少入库前必须的自评" in n for n in notes)
    run_import(path)  # imported all the same
    assert _count(Patent) == 4
