"""The export links: small exports and CSV stream as before, a large .xlsx becomes a job with a
progress page, then a download for its requester alone."""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import Role
from revive.audit import services as audit
from revive.exports import services
from revive.exports.models import ExportJob, ExportStatus
from revive.extensions import db
from tests.exports.helpers import XLSX_MIME, direct_xlsx, download, read_xlsx, run_worker
from tests.factories import make_user
from tests.spreadsheets import formula_cells

INVENTORY = "/patents/export.xlsx"


def _jobs() -> list[ExportJob]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ExportJob).order_by(ExportJob.id)))


def _job_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    prefix = "/exports/"
    path = response.location.split("localhost", 1)[-1]
    assert path.startswith(prefix), response.location
    return int(path[len(prefix) :])


def test_a_small_xlsx_and_every_csv_download_directly(client, auth, uni, threshold, enqueued):
    auth.login(uni.admin)
    threshold(5)  # the admin sees exactly five patents
    response = client.get(INVENTORY)
    assert response.status_code == 200 and response.mimetype == XLSX_MIME
    _, rows = read_xlsx(response.data)
    assert len(rows) == 1 + 5
    threshold(1)
    response = client.get("/patents/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data(as_text=True).count("导出测试材料") == 4
    assert _jobs() == [] and enqueued == []


def test_a_large_xlsx_becomes_a_job_with_a_progress_page(client, auth, uni, threshold, enqueued):
    auth.login(uni.admin)
    threshold(4)
    response = client.get(f"{INVENTORY}?sort=title&dir=asc&page=3")
    job_id = _job_id(response)
    (job,) = _jobs()
    assert job.id == job_id and job.status == ExportStatus.QUEUED
    assert job.created_by_id == uni.admin.id and job.kind == "patents"
    assert job.params == {"sort": "title", "dir": "asc"}  # the page plays no part
    assert job.filename.startswith("专利盘点-") and job.filename.endswith(".xlsx")
    assert enqueued == [("exports.build", (job_id,))]

    page = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert "超过 4 行，已转入后台生成" in page  # the flash
    assert "排队中" in page and 'data-active="1"' in page
    assert "export-progress.js" in page and "run-progress.js" in page
    assert "/download" not in page

    # Mid-way, as the worker leaves it between two progress updates.
    job.status, job.total_rows, job.processed_rows = ExportStatus.RUNNING, 5, 2
    db.session.commit()
    page = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert "导出中：已处理" in page
    assert '<span data-field="processed">2</span> / <span data-field="total">5</span> 行' in page
    progress = client.get(f"/exports/{job_id}/progress").get_json()
    assert progress["is_active"] is True and progress["status_label"] == "导出中"
    assert (progress["processed"], progress["total"], progress["progress"]) == (2, 5, 0.4)
    assert download(client, job_id).status_code == 404  # not finished

    run_worker(job_id)
    progress = client.get(f"/exports/{job_id}/progress").get_json()
    assert progress["is_active"] is False and progress["status"] == "succeeded"
    assert (progress["processed"], progress["total"], progress["progress"]) == (5, 5, 1.0)
    page = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert f"/exports/{job_id}/download" in page and "下载" in page
    assert 'data-active="0"' in page
    response = download(client, job_id)
    assert response.status_code == 200 and response.mimetype == XLSX_MIME
    assert (
        "filename*=UTF-8''%E4%B8%93%E5%88%A9%E7%9B%98%E7%82%B9-"
        in response.headers["Content-Disposition"]
    )
    assert 'filename="inventory.xlsx"' in response.headers["Content-Disposition"]
    # The same content the direct download gives (header, cells, neutralised formula, order).
    direct = direct_xlsx(client, client.application, f"{INVENTORY}?sort=title&dir=asc")
    assert read_xlsx(response.data) == read_xlsx(direct)
    titles = [r[1] for r in read_xlsx(response.data)[1][1:]]
    # formula-like text stays as written, in a text cell that is never run
    assert '=HYPERLINK("http://x")一种电池' in titles and "别校的专利" not in titles
    assert formula_cells(response.data) == []

    mine = client.get("/exports/").get_data(as_text=True)
    assert "我的导出" in mine and f"/exports/{job_id}/download" in mine


def test_the_audit_log_export_as_a_job_equals_the_direct_one(
    client, auth, uni, threshold, enqueued
):
    officer = make_user(Role.OFFICER)
    for i in range(6):
        audit.record(
            "patent", i + 1, "submit", actor=uni.admin, organization_id=uni.org.id, note=f"@sum{i}"
        )
    db.session.commit()
    auth.login(officer)
    threshold(5)
    job_id = _job_id(client.get("/audit/export.xlsx?action=submit"))
    run_worker(job_id)
    response = download(client, job_id)
    assert response.status_code == 200
    titles, rows = read_xlsx(response.data)
    assert titles == ["审计日志"] and len(rows) == 1 + 6
    assert read_xlsx(response.data) == read_xlsx(
        direct_xlsx(client, client.application, "/audit/export.xlsx?action=submit")
    )
    assert 'filename="revive-audit-' in response.headers["Content-Disposition"]


def test_demand_and_pool_exports_take_the_same_path(client, auth, threshold, enqueued):
    from revive.pools import services as pools
    from revive.pools.models import PoolDemand, PoolPatent
    from tests.matching.helpers import entered, make_demand

    officer = make_user(Role.OFFICER)
    demands = [make_demand(title=f"需求{i}", description="-1 开头的描述") for i in range(3)]
    pool = pools.save_pool(
        {"name": "导出池", "description": "电池", "key_terms": "电池"}, actor=officer
    )
    for rank, patent in enumerate([entered(title=f"池内专利{i}") for i in range(3)], start=1):
        db.session.add(
            PoolPatent(pool_id=pool.id, patent_id=patent.id, score=0.5, rank=rank, reasons=["电池"])
        )
    db.session.add(
        PoolDemand(pool_id=pool.id, demand_id=demands[0].id, score=0.3, rank=1, reasons=[])
    )
    db.session.commit()
    auth.login(officer)
    threshold(2)
    for url, kind in (
        ("/demands/export.xlsx?status=open", "demands"),
        (f"/pools/{pool.id}/export.xlsx", "pool_patents"),
    ):
        job_id = _job_id(client.get(url))
        assert db.session.get(ExportJob, job_id).kind == kind
        run_worker(job_id)
        response = download(client, job_id)
        assert response.status_code == 200
        assert read_xlsx(response.data) == read_xlsx(direct_xlsx(client, client.application, url))
    # Under the threshold (one demand in the pool): direct, as before.
    response = client.get(f"/pools/{pool.id}/export.xlsx?what=demands")
    assert response.status_code == 200 and response.mimetype == XLSX_MIME
    assert client.get("/pools/999999/export.xlsx").status_code == 404


def test_only_the_requester_sees_the_job_and_its_file(client, auth, uni, threshold, enqueued):
    auth.login(uni.admin)
    threshold(1)
    job_id = _job_id(client.get(INVENTORY))
    run_worker(job_id)
    assert download(client, job_id).status_code == 200
    auth.logout()
    # A colleague of the same university, and the platform admin: neither may open it.
    for other in (
        make_user(Role.UNIVERSITY_ADMIN, organization=uni.org),
        make_user(Role.PLATFORM_ADMIN),
    ):
        auth.login(other)
        for path in ("", "/progress", "/download"):
            response = client.get(f"/exports/{job_id}{path}")
            assert response.status_code == 404, path
            assert "导出测试材料" not in response.get_data(as_text=True)
        assert f"/exports/{job_id}" not in client.get("/exports/").get_data(as_text=True)
        auth.logout()
    assert download(client, job_id).status_code == 302  # anonymous: login


def test_an_identical_request_reuses_the_unfinished_job(client, auth, uni, threshold, enqueued):
    auth.login(uni.admin)
    threshold(1)
    first = _job_id(client.get(f"{INVENTORY}?q=导出"))
    again = client.get(f"{INVENTORY}?q=导出&page=2")  # the same rows
    assert _job_id(again) == first
    assert "相同条件的导出任务已在进行" in client.get(f"/exports/{first}").get_data(as_text=True)
    other = _job_id(client.get(f"{INVENTORY}?q=材料"))  # other rows: a job of its own
    assert other != first
    assert [args for _, args in enqueued] == [(first,), (other,)]
    run_worker(first)
    # Finished: asking again builds a new file (the data may have changed since).
    assert _job_id(client.get(f"{INVENTORY}?q=导出")) not in (first, other)
    assert len(_jobs()) == 3


def test_a_user_has_at_most_a_few_unfinished_exports(client, auth, uni, threshold, enqueued, app):
    auth.login(uni.admin)
    threshold(0)
    cap = app.config["REVIVE_EXPORT_MAX_ACTIVE"]
    assert cap == 3
    ids = [_job_id(client.get(f"{INVENTORY}?q=材料{i}")) for i in range(cap)]
    refused = client.get(f"{INVENTORY}?q=导出")
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert f"您已有 {cap} 个导出任务正在进行" in text and "我的导出" in text
    assert len(_jobs()) == cap
    # An identical request is still answered with its job, and the CSV still streams.
    assert _job_id(client.get(f"{INVENTORY}?q=材料0")) == ids[0]
    assert client.get("/patents/export.csv?q=导出").status_code == 200
    # Once one of them has finished, a new one is accepted.
    run_worker(ids[0])
    assert _job_id(client.get(f"{INVENTORY}?q=导出")) not in ids


def test_a_job_recorded_while_the_broker_is_down_is_announced(
    client, auth, uni, threshold, monkeypatch
):
    from flask import g

    from revive import queue
    from revive.errors import ServiceUnavailable

    def down(task_name, *args):
        g.revive_queue_deferred = True
        raise ServiceUnavailable(queue.QUEUE_DOWN)

    monkeypatch.setattr(queue, "enqueue", down)
    auth.login(uni.admin)
    threshold(1)
    job_id = _job_id(client.get(INVENTORY))
    job = db.session.get(ExportJob, job_id)
    assert job.status == ExportStatus.QUEUED and job.task_sent_at is None  # the sweep sends it
    assert "队列恢复后将自动开始" in client.get(f"/exports/{job_id}").get_data(as_text=True)


def test_the_status_page_says_when_the_worker_stopped_answering(
    client, auth, uni, threshold, enqueued
):
    from datetime import timedelta

    from revive.db import utcnow

    auth.login(uni.admin)
    threshold(1)
    job_id = _job_id(client.get(INVENTORY))
    job = db.session.get(ExportJob, job_id)
    job.status, job.task_claimed_by = ExportStatus.RUNNING, "gone"
    job.task_heartbeat_at = utcnow() - timedelta(seconds=100)  # > half of 120 s
    db.session.commit()
    notice = client.get(f"/exports/{job_id}/progress").get_json()["notice"]
    assert notice and "自动重新生成文件" in notice and "无需重新导出" in notice
    job.task_heartbeat_at = utcnow()
    db.session.commit()
    assert client.get(f"/exports/{job_id}/progress").get_json()["notice"] is None
    assert services.stall_notice(db.session.get(ExportJob, job_id)) is None


def test_the_status_page_says_when_no_worker_took_the_job(client, auth, uni, threshold, enqueued):
    from datetime import timedelta

    from revive.db import utcnow

    auth.login(uni.admin)
    threshold(1)
    job_id = _job_id(client.get(INVENTORY))
    job = db.session.get(ExportJob, job_id)
    assert job.status == ExportStatus.QUEUED and job.task_claimed_by is None
    assert client.get(f"/exports/{job_id}/progress").get_json()["notice"] is None
    job.task_sent_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    notice = client.get(f"/exports/{job_id}/progress").get_json()["notice"]
    assert notice.startswith("任务已排队 5 分钟，仍没有后台处理进程接手")
