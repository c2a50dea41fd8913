"""Pages and JSON through HTTP: upload → queued task → worker → preview → commit."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from revive.accounts.models import Role
from revive.db import utcnow
from revive.extensions import db
from revive.imports import services
from revive.imports.models import ImportJob, ImportStatus
from revive.inventory.models import Patent
from tests.factories import make_org, make_user
from tests.imports.helpers import HEADER, csv_bytes, row
from tests.spreadsheets import formula_cells

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(client, content: bytes, name="专利.csv", **form):
    data = {"file": (io.BytesIO(content), name), **form}
    return client.post("/imports/", data=data, content_type="multipart/form-data")


def _previewed(client, content: bytes, **form) -> tuple[ImportJob, str]:
    """Upload ``content``, run the dry run as the worker does, and open the job's page."""
    _upload(client, content, **form)
    job = db.session.scalars(sa.select(ImportJob)).one()
    services.validate_job(job.id)
    return job, client.get(f"/imports/{job.id}").get_data(as_text=True)


def _sheet(response):
    assert response.status_code == 200
    assert response.mimetype == XLSX_MIME
    wb = load_workbook(io.BytesIO(response.data))
    return wb, [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


@pytest.fixture
def logged_in(client, auth, uni):
    auth.login(uni.admin)
    return client


def test_upload_queues_validation_then_preview_then_commit(logged_in, uni, enqueued):
    content = csv_bytes(
        [row(1), row(2), ["201710601862.4", '=HYPERLINK("http://x")']], encoding="gbk"
    )
    response = _upload(logged_in, content)
    job = db.session.scalars(sa.select(ImportJob)).one()
    assert response.status_code == 302
    assert response.location.endswith(f"/imports/{job.id}")
    assert enqueued == [("imports.validate", (job.id,))]

    page = logged_in.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "排队中" in page
    assert 'data-active="1"' in page
    assert "import-progress.js" in page

    services.validate_job(job.id)  # what the worker does
    page = logged_in.get(f"/imports/{job.id}").get_data(as_text=True)
    assert 'data-count="new">2<' in page
    assert 'data-count="invalid">1<' in page
    assert "申请号校验位错误" in page
    assert "确认导入（仅有效行）" in page

    api = logged_in.get(f"/api/v1/import-jobs/{job.id}").get_json()
    assert api["status"] == "validated"
    assert api["status_label"] == "待确认"
    assert api["progress"] == 1.0
    assert api["total_rows"] == api["processed_rows"] == 3
    assert api["preview_counts"]["new"] == 2
    assert api["error"] is None

    response = logged_in.post(f"/imports/{job.id}/commit", data={"mode": "valid_only"})
    assert response.status_code == 302
    assert enqueued[-1] == ("imports.commit", (job.id,))
    services.commit_job(job.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Patent)) == 2
    page = logged_in.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "已完成" in page
    assert 'data-result="created">2<' in page
    assert f"#{job.id}" in logged_in.get("/imports/jobs").get_data(as_text=True)


def test_all_or_nothing_chosen_at_upload_is_what_the_preview_confirms(logged_in, uni, enqueued):
    _upload(logged_in, csv_bytes([row(1), ["坏号", "x"]]), all_or_nothing="1")
    job = db.session.scalars(sa.select(ImportJob)).one()
    assert job.all_or_nothing
    services.validate_job(job.id)
    page = logged_in.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "导入方式（上传时选择）：<strong>全部有效才导入</strong>" in page
    assert "确认导入（仅有效行）" not in page  # no second button that does something else
    assert page.count(f'action="/imports/{job.id}/commit"') == 1
    assert "disabled>确认导入（全部有效才导入）" in page
    # Posting anyway (or with a stale form asking for valid rows only) writes nothing.
    response = logged_in.post(
        f"/imports/{job.id}/commit", data={"mode": "valid_only"}, follow_redirects=True
    )
    assert "上传时选择了“全部有效才导入”，不会写入任何数据" in response.get_data(as_text=True)
    assert db.session.get(ImportJob, job.id).status == ImportStatus.VALIDATED
    assert [name for name, _ in enqueued] == ["imports.validate"]


def test_valid_rows_only_chosen_at_upload_cannot_be_turned_into_all_or_nothing(
    logged_in, uni, enqueued
):
    job, page = _previewed(logged_in, csv_bytes([row(1), ["坏号", "x"]]))
    assert "导入方式（上传时选择）：<strong>仅导入有效行</strong>" in page
    assert "确认导入（全部有效才导入）" not in page
    logged_in.post(f"/imports/{job.id}/commit", data={"mode": "all_or_nothing"})
    assert db.session.get(ImportJob, job.id).status == ImportStatus.COMMIT_QUEUED
    assert not db.session.get(ImportJob, job.id).all_or_nothing
    services.commit_job(job.id)
    assert db.session.get(ImportJob, job.id).result_counts["skipped_invalid"] == 1


def test_all_or_nothing_with_every_row_valid_commits_in_that_mode(logged_in, uni, enqueued):
    job, page = _previewed(logged_in, csv_bytes([row(1), row(2)]), all_or_nothing="1")
    assert '">确认导入（全部有效才导入）</button>' in page
    logged_in.post(f"/imports/{job.id}/commit")
    job = services.commit_job(job.id)
    assert job.all_or_nothing and job.result_counts["created"] == 2


def test_error_downloads_neutralise_formulas(logged_in, uni, enqueued):
    _upload(logged_in, csv_bytes([row(1), ["=1+2", "@SUM(A1)"], row(1)]))
    job = db.session.scalars(sa.select(ImportJob)).one()
    services.validate_job(job.id)

    errors = logged_in.get(f"/imports/{job.id}/errors.xlsx")
    _, rows = _sheet(errors)
    assert rows[0] == ["行号", "列", "值", "原因"]
    assert rows[1][:3] == [3, "申请号", "=1+2"]  # as written, in a text cell
    assert formula_cells(errors.data) == []
    assert rows[2][0] == 4
    assert rows[2][3] == "与第 2 行申请号重复"

    again = logged_in.get(f"/imports/{job.id}/rows-with-errors.xlsx")
    _, rows = _sheet(again)
    assert rows[0] == ["行号", "申请号", "专利名称", "所属学院", "技术成熟度", "申请日", "错误原因"]
    assert rows[1][:3] == [3, "=1+2", "@SUM(A1)"]
    assert formula_cells(again.data) == []
    assert "申请号" in rows[1][-1]
    assert len(rows) == 3


def test_template_has_every_field_and_a_guide(logged_in):
    wb, rows = _sheet(logged_in.get("/imports/template.xlsx"))
    from revive.inventory.fields import IMPORT_FIELDS

    assert rows[0] == [f.label for f in IMPORT_FIELDS]
    guide = [list(r) for r in wb["填写说明"].iter_rows(values_only=True)]
    by_label = {r[0]: r for r in guide[1:]}
    assert by_label["申请号"][2] == "是"
    assert "视条件" in by_label["转化意愿"][4]
    assert by_label["技术成熟度"][4] == "1–9"


def test_upload_page_shows_the_limit(logged_in, app):
    page = logged_in.get("/imports/").get_data(as_text=True)
    assert f"{app.config['REVIVE_MAX_UPLOAD_MB']} MB" in page
    assert "下载导入模板" in page


def test_oversized_upload_is_refused_with_a_message(logged_in, app, monkeypatch, enqueued):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = _upload(logged_in, csv_bytes([row(i) for i in range(1, 200)]))
    assert response.status_code == 413
    assert "上传文件过大" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportJob)) == 0
    assert enqueued == []


def test_a_file_of_exactly_the_limit_is_taken_and_one_byte_more_is_not(
    logged_in, app, monkeypatch, enqueued
):
    """A security review's 52,428,623-byte file (under 50 MB) was refused with 413: the limit
    counted the whole request, form included."""
    from revive.config import request_limit

    monkeypatch.setitem(app.config, "REVIVE_MAX_UPLOAD_MB", 1)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", request_limit(1))
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    def upload(content: bytes):
        # encoded here in memory: the test client would spool a body this size to a
        # temporary file of its own and leave it open
        file = FileStorage(io.BytesIO(content), "专利.csv", "file")
        boundary, body = encode_multipart(MultiDict({"file": file}))
        kind = f"multipart/form-data; boundary={boundary}"
        return logged_in.post("/imports/", data=body, content_type=kind)

    body = csv_bytes([row(1)])
    exact = body + b"," * (1024 * 1024 - len(body))
    response = upload(exact)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    over = upload(exact + b",")
    assert over.status_code == 422 and "单个文件不能超过 1 MB" in over.get_data(as_text=True)


def test_too_many_form_fields_are_named_as_such_and_the_connection_closes(logged_in, app):
    """A security review's small upload with 5,000 extra fields was told the file was over
    50 MB, and its next request on the same connection failed (the body was left unread)."""
    data = {f"f{i}": "x" for i in range(app.config.get("MAX_FORM_PARTS") or 1000)}
    data["file"] = (io.BytesIO(csv_bytes([row(1)])), "f.csv")
    response = logged_in.post("/imports/", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "表单的字段过多" in text and "上传文件过大" not in text
    assert response.headers["Connection"] == "close"
    data["file"] = (io.BytesIO(csv_bytes([row(1)])), "f.csv")
    api = logged_in.post("/api/v1/import-jobs", data=data, content_type="multipart/form-data")
    assert api.status_code == 413 and "表单的字段过多" in api.get_json()["message"]


def test_a_refusal_before_the_form_is_read_leads_back_to_the_form(logged_in, app, monkeypatch):
    """The 413 is answered before the upload view runs: the error page offers the way back
    to the page the form was on (this site only), not only the home page."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    data = {"file": (io.BytesIO(csv_bytes([row(i) for i in range(1, 200)])), "f.csv")}
    response = logged_in.post(
        "/imports/",
        data=data,
        content_type="multipart/form-data",
        headers={"Referer": "http://localhost/imports/?kind=patents"},
    )
    assert response.status_code == 413
    assert (
        'href="/imports/?kind=patents" data-back data-history-back>返回修改'
        in response.get_data(as_text=True)
    )
    elsewhere = logged_in.get("/nope", headers={"Referer": "http://evil.example/imports/"})
    assert "data-back" not in elsewhere.get_data(as_text=True)


def test_server_side_size_check(logged_in, app, monkeypatch, enqueued):
    monkeypatch.setitem(app.config, "REVIVE_MAX_UPLOAD_MB", 0)
    response = _upload(logged_in, csv_bytes([row(1)]))
    assert response.status_code == 422
    assert "上传文件过大" in response.get_data(as_text=True)
    assert enqueued == []


def test_missing_or_empty_file(logged_in, enqueued):
    response = logged_in.post("/imports/", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "请选择要上传的文件" in response.get_data(as_text=True)
    response = _upload(logged_in, b"")
    assert response.status_code == 422
    assert "文件为空" in response.get_data(as_text=True)
    assert enqueued == []


def test_other_universitys_admin_gets_404(client, auth, uni, enqueued):
    auth.login(uni.admin)
    _upload(client, csv_bytes([row(1)]))
    job = db.session.scalars(sa.select(ImportJob)).one()
    auth.logout()
    outsider = make_user(Role.UNIVERSITY_ADMIN, organization=make_org())
    auth.login(outsider)
    for url in (
        f"/imports/{job.id}",
        f"/api/v1/import-jobs/{job.id}",
        f"/imports/{job.id}/errors.xlsx",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/imports/{job.id}/commit").status_code == 404
    assert client.post(f"/imports/{job.id}/cancel").status_code == 404
    assert client.get(f"/api/v1/import-jobs/{job.id}").get_json()["error"] == "not_found"


def test_inventor_cannot_import(client, auth, uni):
    auth.login(make_user(Role.INVENTOR, organization=uni.org))
    assert client.get("/imports/").status_code == 403
    assert _upload(client, csv_bytes([row(1)])).status_code == 403


def test_platform_admin_picks_the_institution(client, auth, uni, enqueued):
    auth.login(make_user(Role.PLATFORM_ADMIN))
    assert "示例理工大学" in client.get("/imports/").get_data(as_text=True)
    response = _upload(client, csv_bytes([row(1)]), institution_id=str(uni.org.id))
    assert response.status_code == 302
    assert db.session.scalars(sa.select(ImportJob)).one().institution_id == uni.org.id


def test_a_job_whose_worker_died_says_it_will_resume(logged_in, app, enqueued):
    """Killed mid-import, the bar stands still until the sweep re-sends the job (about two
    minutes): the page and the progress API say so, instead of nothing; a live job and a
    queued one say nothing of the kind (a queued one says it has not started)."""
    _upload(logged_in, csv_bytes([row(1), row(2)]))
    job = db.session.scalars(sa.select(ImportJob)).one()
    page = logged_in.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "排队中，尚未开始" in page and "没有响应" not in page
    lost = app.config["REVIVE_WORKER_LOST_SECONDS"]
    job.status, job.task_claimed_by = ImportStatus.VALIDATING, "task-1"
    job.task_heartbeat_at = utcnow() - timedelta(seconds=lost // 8)  # alive: beat on time
    db.session.commit()
    assert logged_in.get(f"/api/v1/import-jobs/{job.id}").get_json()["notice"] is None
    job.task_heartbeat_at = utcnow() - timedelta(seconds=lost * 3 // 4)  # beats missed
    db.session.commit()
    notice = logged_in.get(f"/api/v1/import-jobs/{job.id}").get_json()["notice"]
    assert "没有响应" in notice and "自动接着处理" in notice and "无需重新上传" in notice
    page = logged_in.get(f"/imports/{job.id}").get_data(as_text=True)
    assert notice in page
    job.task_claimed_by = None  # the delivery ended: nothing is waiting on a dead worker
    db.session.commit()
    assert logged_in.get(f"/api/v1/import-jobs/{job.id}").get_json()["notice"] is None


def test_a_title_row_above_the_header_is_skipped_and_named(logged_in, enqueued):
    content = (
        "华北理工示范大学 2026 年存量专利盘点表\n" + csv_bytes([row(1)]).decode("utf-8-sig")
    ).encode()
    job, page = _previewed(logged_in, content)
    assert "“华北理工示范大学 2026 年存量专利盘点表”看作表格标题，已跳过；第 2 行读作表头" in page
    assert 'data-count="new">1<' in page


def test_a_long_bad_value_does_not_squeeze_the_error_table(logged_in, enqueued):
    """An over-long title is shown cut (the whole in its tooltip), so the 列 and 原因 columns
    keep their width."""
    long_title = "一种" + "超长" * 300 + "的方法"
    job, page = _previewed(logged_in, csv_bytes([row(1, title=long_title)]))
    cell = page.split('<td class="mono">')[1].split("</td>")[0]
    assert cell.startswith('<span title="一种超长') and f">{long_title[:40]}…</span>" in cell


def test_an_all_or_nothing_commit_says_why_its_bar_stays_at_zero(logged_in, enqueued):
    job, _ = _previewed(logged_in, csv_bytes([row(1), row(2)]), all_or_nothing="1")
    logged_in.post(f"/imports/{job.id}/commit")
    page = logged_in.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "data-one-transaction" in page and "2 行在一个事务中一次写入" in page


def test_cancel_from_the_page(logged_in, enqueued):
    _upload(logged_in, csv_bytes([row(1)]))
    job = db.session.scalars(sa.select(ImportJob)).one()
    logged_in.post(f"/imports/{job.id}/cancel")
    assert db.session.get(ImportJob, job.id).status == ImportStatus.CANCELLED
    services.validate_job(job.id)  # a task still in the queue does nothing
    assert db.session.get(ImportJob, job.id).status == ImportStatus.CANCELLED


def test_preview_lists_ignored_columns(logged_in, enqueued):
    content = csv_bytes([[*row(1), "内部备注"]], header=[*HEADER, "备注"])
    job, page = _previewed(logged_in, content)
    assert "以下列未能识别，已忽略：备注" in page
    assert 'data-active="0"' in page


def test_preview_tells_export_only_columns_from_unknown_ones(logged_in, enqueued):
    """A school re-importing its own export read 「以下列未能识别」 beside 入库状态, 入库日期 and
    the other columns the platform itself wrote: they are named as read-only instead."""
    header = [*HEADER, "备注", "所属高校（单位）", "入库状态", "入库日期", "更新时间"]
    content = csv_bytes(
        [[*row(1), "内部备注", "示例理工大学", "草稿", "", "2026-03-01"]], header=header
    )
    job, page = _previewed(logged_in, content)
    assert job.preview_counts["new"] == 1 and job.preview_counts["invalid"] == 0
    assert "以下列未能识别，已忽略：备注<" in page
    assert (
        "以下列是导出文件附带的信息，导入时不写入：所属高校（单位）、入库状态、入库日期、更新时间"
        in page
    )


def test_preview_says_which_rows_had_control_characters_dropped(logged_in, uni, enqueued):
    """A NUL byte inside a cell is not stored (PostgreSQL and spreadsheets refuse it): the
    row imports without it, and the preview names the rows, so nothing changes unseen."""
    content = csv_bytes(
        [row(1), row(2, title="一种\x00复合材料"), row(3, title="一种\x00\x00薄膜")]
    )
    job, page = _previewed(logged_in, content)
    assert job.preview_counts["stripped"] == 2 and job.preview_counts["new"] == 3
    assert "2 行的单元格含有不可见的控制字符（如 NUL 空字符）" in page
    assert "第 3、4 行。" in page
    services.request_commit(job.id, actor=uni.admin, enqueue=False)
    services.commit_job(job.id)
    titles = set(db.session.scalars(sa.select(Patent.title)))
    assert {"一种复合材料", "一种薄膜"} <= titles


def test_preview_without_control_characters_says_nothing_of_them(logged_in, enqueued):
    job, page = _previewed(logged_in, csv_bytes([row(1)]))
    assert "stripped" not in job.preview_counts and "data-stripped" not in page


def test_rows_to_fix_keep_the_uploaded_dates_as_dates(logged_in, uni, enqueued, tmp_path):
    """A tester's 2020-07-02 came back in 「待修正的行」 as text 2020-07-02 08:00:00: the cell's
    date was taken for a UTC moment and shifted to Beijing time."""
    from datetime import date, datetime

    from tests.imports.helpers import write_xlsx_file

    bad = ["坏号", "一种材料", "材料学院", "5", datetime(2020, 7, 2)]
    path = write_xlsx_file(tmp_path / "专利.xlsx", [row(1), bad])
    _upload(logged_in, path.read_bytes(), name="专利.xlsx")
    job = db.session.scalars(sa.select(ImportJob)).one()
    services.validate_job(job.id)
    _, rows = _sheet(logged_in.get(f"/imports/{job.id}/rows-with-errors.xlsx"))
    assert rows[1][0] == 3 and rows[1][5] in (date(2020, 7, 2), datetime(2020, 7, 2))


def test_uploads_of_finished_imports_are_deleted_after_the_keep_days(logged_in, uni, enqueued, app):
    """An operator's data folder kept every upload (inventors' contacts) forever."""
    from datetime import timedelta
    from pathlib import Path

    from revive.db import utcnow

    _upload(logged_in, csv_bytes([row(1), ["bad", ""]]))
    old = db.session.scalars(sa.select(ImportJob)).one()
    services.validate_job(old.id)
    logged_in.post(f"/imports/{old.id}/commit")
    services.commit_job(old.id)
    _upload(logged_in, csv_bytes([row(2)]), name="待确认.csv")  # validated, not committed
    pending = db.session.scalars(sa.select(ImportJob).order_by(ImportJob.id.desc())).first()
    services.validate_job(pending.id)
    days = app.config["REVIVE_UPLOAD_KEEP_DAYS"]
    old = db.session.get(ImportJob, old.id)
    assert old.status == ImportStatus.COMMITTED
    old.finished_at = utcnow() - timedelta(days=days + 1)
    pending = db.session.get(ImportJob, pending.id)
    pending.updated_at = utcnow() - timedelta(days=days + 1)
    db.session.commit()
    assert Path(old.stored_path).exists() and Path(pending.stored_path).exists()
    assert services.cleanup_uploads() == 1
    assert not Path(old.stored_path).exists()
    assert Path(pending.stored_path).exists()  # it may still be committed
    gone = logged_in.get(f"/imports/{old.id}/rows-with-errors.xlsx")
    assert gone.status_code == 404 and "原文件已不可用" in gone.get_data(as_text=True)
    assert services.cleanup_uploads() == 0


def _api_upload(client, content: bytes, name="专利.csv"):
    data = {"file": (io.BytesIO(content), name), "kind": "patents"}
    return client.post("/api/v1/import-jobs", data=data, content_type="multipart/form-data")


def test_a_user_has_at_most_the_cap_of_unfinished_imports(
    logged_in, uni, enqueued, app, monkeypatch
):
    """A security review uploaded 12 files in a row: all accepted, each queued a validation,
    and every file (inventors' contacts) stayed on disk while nobody confirmed it. Now the
    upload beyond the cap is a 409 naming the unfinished jobs and what to do."""
    from pathlib import Path

    monkeypatch.setitem(app.config, "REVIVE_IMPORT_MAX_ACTIVE", 2)
    first = _api_upload(logged_in, csv_bytes([row(1)]))
    second = _api_upload(logged_in, csv_bytes([row(2)]))
    assert first.status_code == second.status_code == 201
    waiting, queued = first.get_json()["id"], second.get_json()["id"]
    services.validate_job(waiting)  # 待确认
    folder = Path(app.config["UPLOAD_FOLDER"]) / "imports"
    files = set(folder.iterdir())
    enqueued.clear()

    refused = _api_upload(logged_in, csv_bytes([row(3)]))
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["error"] == "too_many_imports"
    assert f"#{waiting}（待确认）" in body["message"] and f"#{queued}（排队中）" in body["message"]
    assert "确认导入或取消" in body["message"] and "每人最多同时 2 个" in body["message"]
    assert body["details"] == {
        "jobs": f"{waiting},{queued}",
        "awaiting_confirmation": str(waiting),
        "jobs_url": "/imports/jobs",
    }
    page = _upload(logged_in, csv_bytes([row(3)]))
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert 'id="too-many-imports"' in html and f'href="/imports/{waiting}" data-pending-job' in html
    assert db.session.scalar(sa.select(sa.func.count(ImportJob.id))) == 2
    assert set(folder.iterdir()) == files and enqueued == []  # nothing stored, nothing queued

    logged_in.post(f"/imports/{waiting}/cancel")
    assert _api_upload(logged_in, csv_bytes([row(3)])).status_code == 201
    # the cap is each uploader's own
    other = make_user(Role.UNIVERSITY_ADMIN, organization=uni.org)
    job = services.create_patent_import(
        _file(csv_bytes([row(4)])), actor=other, institution_id=uni.org.id
    )
    assert job.status == ImportStatus.QUEUED


def _file(content: bytes, name: str = "专利.csv"):
    from werkzeug.datastructures import FileStorage

    return FileStorage(io.BytesIO(content), filename=name)


def test_unconfirmed_imports_expire_and_their_files_are_deleted(logged_in, uni, enqueued, app):
    """A job left 待确认 never finished, so the upload cleanup never deleted its file: after
    REVIVE_IMPORT_PENDING_DAYS beat's cleanup cancels it, deletes the file, and its page says
    so."""
    from pathlib import Path

    days = app.config["REVIVE_IMPORT_PENDING_DAYS"]
    stale = _api_upload(logged_in, csv_bytes([row(1)])).get_json()["id"]
    fresh = _api_upload(logged_in, csv_bytes([row(2)])).get_json()["id"]
    for job_id in (stale, fresh):
        services.validate_job(job_id)
    old = db.session.get(ImportJob, stale)
    old.finished_at = utcnow() - timedelta(days=days, hours=1)
    recent = db.session.get(ImportJob, fresh)
    recent.finished_at = utcnow() - timedelta(days=days - 1)
    db.session.commit()
    stale_path, fresh_path = Path(old.stored_path), Path(recent.stored_path)

    services.cleanup_uploads()  # what beat runs every hour

    db.session.expire_all()
    old, recent = db.session.get(ImportJob, stale), db.session.get(ImportJob, fresh)
    assert old.status == ImportStatus.CANCELLED and not stale_path.exists()
    assert f"超过 {days} 天未确认导入" in old.error
    assert recent.status == ImportStatus.VALIDATED and fresh_path.exists()
    page = logged_in.get(f"/imports/{stale}").get_data(as_text=True)
    assert "已取消" in page and f"超过 {days} 天未确认导入" in page and "请重新上传" in page
    late = logged_in.post(f"/api/v1/import-jobs/{stale}/commit", json={})
    assert late.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count(Patent.id))) == 0
    services.cleanup_uploads()  # nothing more to do
    assert db.session.get(ImportJob, fresh).status == ImportStatus.VALIDATED


def test_error_reports_show_dates_without_a_time(logged_in, uni, enqueued, tmp_path):
    """A tester's error report read 2018-01-01 00:00:00 for a date cell of the upload."""
    from datetime import datetime

    from tests.imports.helpers import write_xlsx_file

    bad = [row(2)[0], "一种材料", "材料学院", "5", datetime(1980, 1, 1)]  # before 1985-04-01
    path = write_xlsx_file(tmp_path / "专利.xlsx", [row(1), bad])
    _upload(logged_in, path.read_bytes(), name="专利.xlsx")
    job = db.session.scalars(sa.select(ImportJob)).one()
    services.validate_job(job.id)
    (error,) = services.first_errors(job)
    assert (error.column, error.value) == ("申请日", "1980-01-01")
    assert ">1980-01-01<" in logged_in.get(f"/imports/{job.id}").get_data(as_text=True)
    _, rows = _sheet(logged_in.get(f"/imports/{job.id}/errors.xlsx"))
    assert rows[1][:3] == [3, "申请日", "1980-01-01"]
    wb, rows = _sheet(logged_in.get(f"/imports/{job.id}/rows-with-errors.xlsx"))
    cell = wb.worksheets[0].cell(row=2, column=6)
    assert cell.value == datetime(1980, 1, 1) and "h" not in cell.number_format.lower()


def test_preview_warns_of_changes_to_entered_patents_and_lists_what_changes(
    logged_in, uni, enqueued
):
    """A tester's import over 6 patents, 5 of them 已入库, previewed only 「变更 6」."""
    from revive.inventory.models import EntryStatus
    from tests.factories import make_patent
    from tests.imports.helpers import appno

    for n in range(1, 7):
        status = EntryStatus.ENTERED if n <= 5 else EntryStatus.DRAFT
        make_patent(uni.org, college=uni.college, status=status, application_no=appno(n), trl=5)
    db.session.commit()
    header = ["申请号", "技术成熟度"]
    job, page = _previewed(logged_in, csv_bytes([[appno(n), "7"] for n in range(1, 7)], header))
    assert job.preview_counts["changed"] == 6 and job.preview_counts["changed_entered"] == 5
    assert "变更的 6 行中，其中 5 件已入库，导入后资源库中的信息随之更新" in page
    assert "data-changed-rows" in page and "技术成熟度：5 → 7" in page
    assert page.count(">已入库</span>") == 5


def test_preview_without_changes_lists_none(logged_in, enqueued):
    job, page = _previewed(logged_in, csv_bytes([row(1)]))
    assert "changed_rows" not in job.preview_counts and "data-changed-rows" not in page
    assert "changed_entered" not in job.preview_counts


def test_preview_groups_errors_by_reason_with_example_lines(logged_in, enqueued):
    """UX review (c1-import-preview-d): 377 error rows in a flat list, no idea what to fix
    first. A summary above the rows: one line per reason (the row's own values left out),
    how many, their share, and the first line numbers."""
    rows = [row(i, trl="12") for i in range(1, 8)] + [row(8, trl="abc"), row(9)]
    job, page = _previewed(logged_in, csv_bytes(rows))
    groups = services.error_summary(job)
    assert [g.count for g in groups] == sorted((g.count for g in groups), reverse=True)
    top = groups[0]
    assert top.count == 7 and top.lines == [2, 3, 4, 5, 6]  # examples: the first five lines
    assert "12" not in top.reason  # the value is not part of the reason
    summary = page.split('id="error-groups"')[1].split("</table>")[0]
    assert summary.index(top.reason) < summary.index(groups[-1].reason)
    assert "第 2、3、4、5、6 行 等" in summary
    assert f"（7 / {services.error_count(job)}）" in summary
    assert page.index('id="error-groups"') < page.index("<th>值</th>")


def test_error_reasons_drop_the_rows_own_values():
    assert services.error_reason("申请号缺少校验位：20241234（应为 20241234.2）") == (
        "申请号缺少校验位"
    )
    assert (
        services.error_reason("专利类型「发明」与申请号所示类型「实用新型」不符")
        == "专利类型「…」与申请号所示类型「…」不符"
    )
