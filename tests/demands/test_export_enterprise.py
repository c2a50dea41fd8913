"""An enterprise downloads its own demands (我的需求 → 导出 Excel / CSV): every demand of its
organisation, whatever its visibility or state, with its contact details, and never a demand
of another enterprise — directly or through a background job; formula-like text neutralised."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from revive.accounts.models import Role
from revive.demands.models import DemandStatus, Visibility
from revive.exports.models import ExportJob
from revive.extensions import db
from tests.demands.helpers import make_demand
from tests.exports.helpers import download, read_xlsx, run_worker

FORMULA = '=HYPERLINK("http://x","点我")'
OWN = ["甲公开需求", "甲仅平台可见需求", "甲已关闭需求", FORMULA]
OTHERS = ["乙公开需求", "乙仅平台可见需求", "乙已关闭需求"]


@pytest.fixture
def demands(world):
    make_demand(world.ent_a, title="甲公开需求", contact_phone="13800000001")
    make_demand(world.ent_a, title="甲仅平台可见需求", visibility=Visibility.PLATFORM)
    make_demand(world.ent_a, title="甲已关闭需求", status=DemandStatus.CLOSED)
    make_demand(world.ent_a, title=FORMULA)
    make_demand(world.ent_b, title="乙公开需求", contact_phone="13900000002")
    make_demand(world.ent_b, title="乙仅平台可见需求", visibility=Visibility.PLATFORM)
    make_demand(world.ent_b, title="乙已关闭需求", status=DemandStatus.CLOSED)


def _csv(client, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"/demands/export.csv{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def _xlsx_rows(data: bytes) -> list[dict]:
    _, rows = read_xlsx(data)
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_an_enterprise_exports_all_its_own_demands_and_no_others(world, client, auth, demands):
    auth.login(world.users[Role.ENTERPRISE])
    rows = _csv(client)
    assert sorted(r["需求名称"] for r in rows) == sorted(["'" + FORMULA, *OWN[:3]])
    assert {r["企业名称"] for r in rows} == {"甲科技有限公司"}
    by_title = {r["需求名称"]: r for r in rows}
    assert by_title["甲公开需求"]["联系电话"] == "13800000001"  # its own contact details

    response = client.get("/demands/export.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    xlsx = _xlsx_rows(response.data)
    assert sorted(r["需求名称"] for r in xlsx) == sorted(OWN)
    ws = load_workbook(io.BytesIO(response.data)).active
    assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)  # never a formula

    # the list's filters narrow the enterprise's own rows, never widen them
    assert [r["需求名称"] for r in _csv(client, "?status=closed")] == ["甲已关闭需求"]
    assert _csv(client, "?q=乙") == []


def test_the_other_enterprise_gets_its_own_file(world, client, auth, demands):
    auth.login(world.other_enterprise_user)
    assert sorted(r["需求名称"] for r in _csv(client)) == sorted(OTHERS)


def test_the_my_demands_page_offers_the_export(world, client, auth, demands):
    auth.login(world.users[Role.ENTERPRISE])
    page = client.get("/demands/").get_data(as_text=True)
    assert "/demands/export.xlsx" in page and "/demands/export.csv" in page
    auth.logout()
    auth.login(world.users[Role.UNIVERSITY_ADMIN])  # reads public demands, exports none
    page = client.get("/demands/").get_data(as_text=True)
    assert "/demands/export." not in page
    assert client.get("/demands/export.csv").status_code == 403


def test_a_large_xlsx_is_built_in_the_background_as_the_enterprise(
    world, client, auth, demands, app, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "REVIVE_DATA_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "REVIVE_EXPORT_DIRECT_MAX_ROWS", 1)
    auth.login(world.users[Role.ENTERPRISE])
    response = client.get("/demands/export.xlsx")
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert db.session.get(ExportJob, job_id).kind == "demands"
    run_worker(job_id)
    built = download(client, job_id)
    assert built.status_code == 200
    assert 'filename="my-demands.xlsx"' in built.headers["Content-Disposition"]
    assert sorted(r["需求名称"] for r in _xlsx_rows(built.data)) == sorted(OWN)
