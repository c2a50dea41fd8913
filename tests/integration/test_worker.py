"""End to end through the public path: HTTP upload → Redis → real Celery worker → PostgreSQL."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.extensions import db
from revive.inventory.appno import make_application_no
from revive.inventory.models import Patent
from tests.factories import make_college, make_org, make_user
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def _job_status(client, job_id: int) -> dict:
    response = client.get(f"/api/v1/import-jobs/{job_id}", headers={"Accept": "application/json"})
    assert response.status_code == 200
    return response.get_json()


def test_worker_processes_import_job(app, client, auth, live_queue):
    org = make_org("集成测试大学")
    make_college(org, "材料学院")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=org)
    appnos = [make_application_no(2020, 1, 700_000 + i) for i in range(3)]
    rows = "".join(
        f"{no},一种集成测试用合金的制备方法{i},材料学院,5,2020-05-0{i + 1}\n"
        for i, no in enumerate(appnos)
    )
    csv = ("申请号,专利名称,所属学院,技术成熟度,申请日\n" + rows).encode("utf-8")
    auth.login(admin)

    response = client.post(
        "/imports/",
        data={"file": (io.BytesIO(csv), "盘点.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])

    validated = wait_for(
        lambda: not (s := _job_status(client, job_id))["is_active"] and s,
        what="validation by the worker",
    )
    assert validated["status"] == "validated", validated
    assert validated["preview_counts"]["new"] == 3

    assert client.post(f"/imports/{job_id}/commit").status_code == 302
    committed = wait_for(
        lambda: (s := _job_status(client, job_id))["status"] == "committed" and s,
        what="commit by the worker",
    )
    assert committed["result_counts"]["created"] == 3

    db.session.rollback()
    stored = db.session.scalars(
        sa.select(Patent.application_no).where(Patent.institution_id == org.id)
    ).all()
    assert sorted(stored) == sorted(appnos)
