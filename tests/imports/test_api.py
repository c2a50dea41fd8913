"""The import API: upload (multipart/form-data), follow the job, read its row errors, commit —
as another system does it, with a personal API token."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from revive.accounts import tokens
from revive.accounts.models import Organization, OrgKind, Role, TokenScope
from revive.extensions import db
from revive.imports import services
from revive.imports.models import ImportJob
from revive.inventory.models import Patent
from tests.factories import make_org, make_user
from tests.imports.helpers import csv_bytes, row
from tests.onboarding.helpers import institutions_csv
from tests.onboarding.helpers import row as institution_row


def bearer(user, scope=TokenScope.WRITE) -> dict[str, str]:
    _, token = tokens.create_token(actor=user, name="成果系统", scope=scope)
    return {"Authorization": f"Bearer {token}"}


def io_file(content: bytes) -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename="盘点.csv")


def upload(client, headers, content: bytes, **form):
    data = {"file": (io.BytesIO(content), "盘点.csv"), **form}
    return client.post(
        "/api/v1/import-jobs", data=data, headers=headers, content_type="multipart/form-data"
    )


def test_another_system_imports_a_patent_inventory(app, client, uni, enqueued):
    headers = bearer(uni.admin)
    content = csv_bytes([row(1), row(2), ["坏号", "一种方法"]])
    created = upload(client, headers, content)
    assert created.status_code == 201, created.get_json()
    job = created.get_json()
    assert (job["kind"], job["status"], job["filename"]) == ("patents", "queued", "盘点.csv")
    assert created.headers["Location"].endswith(f"/api/v1/import-jobs/{job['id']}")
    assert enqueued == [("imports.validate", (job["id"],))]

    services.validate_job(job["id"])  # what the worker does
    polled = client.get(f"/api/v1/import-jobs/{job['id']}", headers=headers).get_json()
    assert polled["status"] == "validated" and polled["is_active"] is False
    assert polled["preview_counts"]["new"] == 2 and polled["preview_counts"]["invalid"] == 1
    errors = client.get(f"/api/v1/import-jobs/{job['id']}/errors", headers=headers).get_json()
    assert errors["_meta"]["total_items"] == 1
    assert errors["items"][0]["line"] == 4 and errors["items"][0]["column"] == "申请号"

    refused = client.post(
        f"/api/v1/import-jobs/{job['id']}/commit",
        json={"mode": "all_or_nothing"},
        headers=headers,
    )
    # the mode is chosen at upload (valid rows only here), as on the preview page
    assert refused.status_code == 422 and "上传时选定" in refused.get_json()["message"]
    committed = client.post(f"/api/v1/import-jobs/{job['id']}/commit", headers=headers)
    assert committed.status_code == 200 and committed.get_json()["status"] == "commit_queued"
    services.commit_job(job["id"])
    done = client.get(f"/api/v1/import-jobs/{job['id']}", headers=headers).get_json()
    assert done["status"] == "committed" and done["result_counts"]["created"] == 2
    assert db.session.scalar(sa.select(sa.func.count(Patent.id))) == 2
    again = client.post(f"/api/v1/import-jobs/{job['id']}/commit", headers=headers)
    assert again.status_code == 409


def test_the_platform_admin_imports_institutions_through_the_api(app, client, enqueued):
    admin = make_user(Role.PLATFORM_ADMIN)
    headers = bearer(admin)
    content = institutions_csv([institution_row(1), institution_row(2)])
    created = upload(client, headers, content, kind="institutions", all_or_nothing="true")
    assert created.status_code == 201
    job_id = created.get_json()["id"]
    assert created.get_json()["all_or_nothing"] is True
    services.validate_job(job_id)
    client.post(f"/api/v1/import-jobs/{job_id}/commit", headers=headers)
    services.commit_job(job_id)
    assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 2


@pytest.mark.parametrize(
    ("role", "form", "status", "message"),
    [
        (Role.ENTERPRISE, {}, 403, None),
        (Role.OFFICER, {}, 403, "专利"),
        (Role.UNIVERSITY_ADMIN, {"kind": "institutions"}, 403, "高校/科研院所"),
        (Role.UNIVERSITY_ADMIN, {"kind": "contracts"}, 422, "kind 须为"),
        (Role.UNIVERSITY_ADMIN, {"all_or_nothing": "maybe"}, 422, "all_or_nothing"),
        (Role.PLATFORM_ADMIN, {}, 422, "请选择要导入的高校/科研院所"),
        (Role.PLATFORM_ADMIN, {"institution_id": "abc"}, 422, "institution_id"),
    ],
)
def test_bad_uploads_are_refused_in_chinese(app, client, enqueued, role, form, status, message):
    headers = bearer(make_user(role))
    resp = upload(client, headers, csv_bytes([row(1)]), **form)
    assert resp.status_code == status, resp.get_json()
    if message:
        assert message in resp.get_json()["message"]
    assert db.session.scalar(sa.select(sa.func.count(ImportJob.id))) == 0


def test_an_upload_without_a_file_or_into_another_university(app, client, uni, enqueued):
    headers = bearer(uni.admin)
    no_file = client.post("/api/v1/import-jobs", json={"kind": "patents"}, headers=headers)
    assert no_file.status_code == 422 and no_file.get_json()["details"] == {"file": "缺少文件"}
    other = make_org("乙大学")
    resp = upload(client, headers, csv_bytes([row(1)]), institution_id=str(other.id))
    assert resp.status_code == 403
    empty = upload(client, headers, b"")
    assert empty.status_code == 422 and empty.get_json()["message"] == "文件为空"


def test_a_read_token_follows_jobs_but_cannot_upload(app, client, uni, enqueued):
    read = bearer(uni.admin, TokenScope.READ)
    assert upload(client, read, csv_bytes([row(1)])).status_code == 403
    job = services.create_patent_import(
        io_file(csv_bytes([row(1)])), actor=uni.admin, institution_id=uni.org.id, enqueue=False
    )
    assert client.get(f"/api/v1/import-jobs/{job.id}", headers=read).status_code == 200


def test_bad_commit_modes_are_a_422(app, client, uni, enqueued):
    job = services.create_patent_import(
        io_file(csv_bytes([row(1)])), actor=uni.admin, institution_id=uni.org.id, enqueue=False
    )
    services.validate_job(job.id)
    headers = bearer(uni.admin)
    resp = client.post(
        f"/api/v1/import-jobs/{job.id}/commit", json={"mode": "all"}, headers=headers
    )
    assert resp.status_code == 422 and "mode" in resp.get_json()["details"]


def test_an_integrator_lists_its_own_jobs_newest_first_filtered_and_paged(
    app, client, uni, enqueued
):
    other_org = make_org("乙大学")
    other_admin = make_user(Role.UNIVERSITY_ADMIN, organization=other_org)
    mine = [
        services.create_patent_import(
            io_file(csv_bytes([row(i)])), actor=uni.admin, institution_id=uni.org.id, enqueue=False
        )
        for i in (1, 2, 3)
    ]
    services.create_patent_import(
        io_file(csv_bytes([row(9)])), actor=other_admin, institution_id=other_org.id, enqueue=False
    )
    services.validate_job(mine[0].id)
    headers = bearer(uni.admin, TokenScope.READ)

    listed = client.get("/api/v1/import-jobs", headers=headers).get_json()
    assert [j["id"] for j in listed["items"]] == [j.id for j in reversed(mine)]
    assert listed["_meta"]["total_items"] == 3  # not the other university's job

    validated = client.get("/api/v1/import-jobs?status=validated", headers=headers).get_json()
    assert [j["id"] for j in validated["items"]] == [mine[0].id]
    assert validated["items"][0]["preview_counts"]["new"] == 1
    demands = client.get("/api/v1/import-jobs?kind=demands", headers=headers).get_json()
    assert demands["items"] == [] and demands["_meta"]["total_items"] == 0

    second = client.get("/api/v1/import-jobs?per_page=2&page=2", headers=headers).get_json()
    assert [j["id"] for j in second["items"]] == [mine[0].id]
    past = client.get("/api/v1/import-jobs?per_page=2&page=5", headers=headers).get_json()
    assert past["items"] == [] and past["_meta"]["page"] == 5

    bad = client.get("/api/v1/import-jobs?status=done", headers=headers)
    assert bad.status_code == 422 and "status" in bad.get_json()["details"]
    assert client.get("/api/v1/import-jobs").status_code == 401


def test_an_enterprise_token_may_not_list_import_jobs(app, client, enqueued):
    poster = make_user(Role.ENTERPRISE, organization=make_org("甲企业", kind=OrgKind.ENTERPRISE))
    assert client.get("/api/v1/import-jobs", headers=bearer(poster)).status_code == 403


def test_a_file_named_xlsx_that_is_no_workbook_is_told_so(app, client, uni, enqueued):
    """A security review: "hello" saved as 盘点.xlsx was read as a CSV and said 文件没有数据行."""
    headers = bearer(uni.admin)
    data = {"file": (io.BytesIO(b"hello"), "盘点.xlsx")}
    resp = client.post(
        "/api/v1/import-jobs", data=data, headers=headers, content_type="multipart/form-data"
    )
    job_id = resp.get_json()["id"]
    services.validate_job(job_id)
    job = client.get(f"/api/v1/import-jobs/{job_id}", headers=headers).get_json()
    assert job["status"] == "failed" and "内容却不是 Excel 工作簿" in job["error"]
    as_csv = upload(client, headers, b"hello")  # the same text named .csv: read as one
    services.validate_job(as_csv.get_json()["id"])
    assert "没有数据行" in db.session.get(ImportJob, as_csv.get_json()["id"]).error
