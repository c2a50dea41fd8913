"""The patent JSON API: list/detail/create/update/actions/batch, errors, CSRF header, 401."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent, Willingness
from tests.factories import make_college, make_org, make_patent, make_user

VALID = {"application_no": "CN201710601862.3", "title": "一种锂电池负极材料"}


@pytest.fixture
def admin(app):
    return make_user(Role.UNIVERSITY_ADMIN)


def test_list_paginates_with_meta_and_refuses_too_many_per_page(client, auth, admin):
    for i in range(5):
        make_patent(admin.organization, title=f"专利{i}", trl=4 if i % 2 else 2)
    auth.login(admin)
    body = client.get("/api/v1/patents?per_page=2&page=2&sort=title&dir=asc").get_json()
    assert body["_meta"] == {"page": 2, "per_page": 2, "total_pages": 3, "total_items": 5}
    assert [p["title"] for p in body["items"]] == ["专利2", "专利3"]
    item = body["items"][0]
    assert item["status"] == "draft"
    assert item["status_label"] == "草稿"
    assert item["patent_type"] == "invention"
    assert item["patent_type_label"] == "发明"
    assert "abstract" not in item  # the list carries no long text
    body = client.get("/api/v1/patents?per_page=100&trl=4").get_json()
    assert body["_meta"]["per_page"] == 100
    assert body["_meta"]["total_items"] == 2
    too_many = client.get("/api/v1/patents?per_page=1000&trl=4")
    assert too_many.status_code == 422 and "不能大于 100" in too_many.get_json()["message"]


def test_detail_has_every_field_labels_and_allowed_actions(client, auth, admin):
    college = make_college(admin.organization, "材料学院")
    patent = make_patent(
        admin.organization,
        college=college,
        status=EntryStatus.PENDING_SCHOOL,
        transfer_willingness=Willingness.CONDITIONAL,
        transfer_modes="assignment,license",
    )
    auth.login(admin)
    body = client.get(f"/api/v1/patents/{patent.id}").get_json()
    assert body["title"] == patent.title
    assert body["college"] == {"id": college.id, "name": "材料学院"}
    assert body["transfer_willingness_label"] == "视条件"
    assert body["transfer_modes"] == ["assignment", "license"]
    assert body["transfer_modes_labels"] == ["转让", "普通许可"]
    assert body["version"] == patent.version
    assert body["status"] == "pending_school"
    assert {a["name"] for a in body["actions"]} == {
        "enter",
        "school_return",
        "not_enter",
        "abandon",
    }


def test_create_returns_201_or_422_with_field_details(client, auth, admin):
    auth.login(admin)
    resp = client.post(
        "/api/v1/patents", json={**VALID, "trl": 6, "transfer_modes": ["转让", "license"]}
    )
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["application_no"] == "201710601862.3"
    assert body["trl"] == 6
    assert body["transfer_modes"] == ["assignment", "license"]
    resp = client.post("/api/v1/patents", json={"application_no": "123", "trl": 10})
    assert resp.status_code == 422
    err = resp.get_json()
    assert err["error"] == "validation_failed"
    assert set(err["details"]) == {"application_no", "title", "trl"}
    resp = client.post("/api/v1/patents", json={**VALID, "colour": "red"})
    assert resp.status_code == 422
    assert err["error"] == "validation_failed"
    assert resp.get_json()["details"] == {"colour": "未知字段"}
    assert client.post("/api/v1/patents", data="x").status_code == 422


def test_the_platform_admin_files_patents_under_a_university_only(client, auth, admin):
    """A security review filed a patent under an enterprise (201), and an unknown
    institution_id was a 500 (a foreign key), through the API and the form alike."""
    from revive.accounts.models import OrgKind

    auth.login(make_user(Role.PLATFORM_ADMIN))
    company = make_org("某某科技有限公司", kind=OrgKind.ENTERPRISE)
    for institution_id in (company.id, 999_999):
        resp = client.post("/api/v1/patents", json={**VALID, "institution_id": institution_id})
        assert resp.status_code == 422, resp.get_data(as_text=True)
        assert "高校/科研院所" in resp.get_json()["message"]
        resp = client.post("/patents/new", data={**VALID, "institution_id": institution_id})
        assert resp.status_code == 422 and "高校/科研院所" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Patent)) == 0
    resp = client.post("/api/v1/patents", json={**VALID, "institution_id": admin.organization_id})
    assert resp.status_code == 201


def test_patch_is_partial_and_a_stale_version_is_409(client, auth, admin):
    patent = make_patent(admin.organization, trl=3, value_grade=2)
    auth.login(admin)
    resp = client.patch(
        f"/api/v1/patents/{patent.id}", json={"trl": "5", "version": patent.version}
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["trl"] == 5
    assert body["value_grade"] == 2
    resp = client.patch(f"/api/v1/patents/{patent.id}", json={"trl": 6, "version": 1})
    assert resp.status_code == 409
    assert resp.get_json()["error"] == "conflict"
    # a program has no page to refresh: it reads the patent again
    assert resp.get_json()["message"] == "该专利已被他人修改，请重新读取最新内容后再保存"
    db.session.expire_all()
    assert patent.trl == 5
    resp = client.patch(f"/api/v1/patents/{patent.id}", json={"version": "x"})
    assert resp.status_code == 422


def test_patch_may_not_clear_an_entered_patents_self_assessment(client, auth, admin):
    """Found by schemathesis 4: a null value_grade on an entered patent broke the database
    check ck_patents_entered_is_graded (a 500); it is a 422 naming the field, nothing saved."""
    patent = make_patent(admin.organization, status=EntryStatus.ENTERED)
    title = patent.title
    auth.login(admin)
    url = f"/api/v1/patents/{patent.id}"
    resp = client.patch(url, json={"value_grade": None, "transfer_willingness": "willing"})
    assert resp.status_code == 422
    err = resp.get_json()
    assert err["error"] == "validation_failed"
    assert set(err["details"]) == {"value_grade"}
    assert "专利价值分级自评" in err["message"]
    resp = client.patch(url, json={"trl": None, "transfer_willingness": None, "title": "新标题"})
    assert resp.status_code == 422
    assert set(resp.get_json()["details"]) == {"trl", "transfer_willingness"}
    db.session.expire_all()
    assert (patent.trl, patent.value_grade, patent.title) == (5, 3, title)
    # Changing them is fine, and so is clearing them on a patent not in the pool.
    assert client.patch(url, json={"value_grade": 4}).get_json()["value_grade"] == 4
    draft = make_patent(admin.organization, trl=3, value_grade=2)
    resp = client.patch(f"/api/v1/patents/{draft.id}", json={"value_grade": None})
    assert resp.status_code == 200
    assert resp.get_json()["value_grade"] is None


def test_actions_and_batch_actions(client, auth, admin):
    patent = make_patent(admin.organization)
    auth.login(admin)
    resp = client.post(f"/api/v1/patents/{patent.id}/actions/submit", json={})
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "pending_school"
    resp = client.post(f"/api/v1/patents/{patent.id}/actions/submit")
    assert resp.status_code == 409
    assert resp.get_json()["error"] == "invalid_transition"
    resp = client.post(f"/api/v1/patents/{patent.id}/actions/not_enter", json={})
    assert resp.status_code == 422
    other = make_patent(admin.organization, status=EntryStatus.PENDING_SCHOOL)
    foreign = make_patent(make_org(), status=EntryStatus.PENDING_SCHOOL)
    resp = client.post(
        "/api/v1/patents/batch-actions",
        json={
            "ids": [patent.id, other.id, foreign.id],
            "action": "abandon",
            "comment": "已过保护期价值",
        },
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["done"] == [patent.id, other.id]
    assert body["refused"] == [{"id": foreign.id, "reason": "专利不存在或您无权查看"}]
    assert body["message"].startswith("已标记建议放弃 2 件：") and "；1 件未处理" in body["message"]
    assert (
        client.post(
            "/api/v1/patents/batch-actions", json={"ids": "1", "action": "abandon"}
        ).status_code
        == 422
    )
    resp = client.post(
        "/api/v1/patents/batch-actions",
        json={"ids": [patent.id], "action": "reopen", "comment": "重审"},
    )
    assert resp.status_code == 422  # not a batch action
    assert "不支持批量操作" in resp.get_json()["message"]


def test_other_universities_patents_are_404_in_the_api(client, auth, admin):
    foreign = make_patent(make_org())
    auth.login(admin)
    for method, url, body in [
        ("GET", f"/api/v1/patents/{foreign.id}", None),
        ("PATCH", f"/api/v1/patents/{foreign.id}", {"trl": 5}),
        ("POST", f"/api/v1/patents/{foreign.id}/actions/submit", {}),
    ]:
        resp = client.open(url, method=method, json=body)
        assert resp.status_code == 404
        assert resp.get_json()["error"] == "not_found"


def test_anonymous_api_call_is_401_json_and_pages_still_redirect(client):
    resp = client.get("/api/v1/patents")
    assert resp.status_code == 401
    assert resp.get_json() == {"error": "unauthorized", "message": "请先登录"}
    resp = client.get("/patents/?q=x")
    assert resp.status_code == 302
    assert "/login?next=" in resp.headers["Location"]


def test_writes_need_the_csrf_token_in_the_x_csrftoken_header(
    app, client, auth, admin, monkeypatch
):
    patent = make_patent(admin.organization)
    auth.login(admin)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get("/patents/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    url = f"/api/v1/patents/{patent.id}"
    assert client.patch(url, json={"trl": 4}).status_code == 400
    resp = client.patch(url, json={"trl": 4}, headers={"X-CSRFToken": token})
    assert resp.status_code == 200
    assert resp.get_json()["trl"] == 4
    assert db.session.scalar(sa.select(sa.func.count(Patent.id))) == 1


def test_an_integrator_finds_a_patent_by_application_no_and_syncs_what_changed(client, auth, admin):
    """A research-management system keyed by application number looks a patent up by it (in
    any spelling the import accepts) and reads only what changed since its last sync."""
    from datetime import timedelta

    from revive.db import utcnow

    old = make_patent(admin.organization, application_no="201710601862.3", title="旧")
    new = make_patent(admin.organization, title="新")
    old.updated_at = utcnow() - timedelta(days=2)
    db.session.commit()
    auth.login(admin)
    for spelling in ("201710601862.3", "CN 201710601862.3", "ＣＮ２０１７１０６０１８６２．３"):
        body = client.get("/api/v1/patents", query_string={"application_no": spelling}).get_json()
        assert [p["id"] for p in body["items"]] == [old.id], spelling
    wrong = client.get("/api/v1/patents?application_no=201710601862.4")
    assert wrong.status_code == 422 and "application_no" in wrong.get_json()["details"]

    since = (utcnow() - timedelta(days=1)).isoformat()
    body = client.get("/api/v1/patents", query_string={"updated_since": since}).get_json()
    assert [p["id"] for p in body["items"]] == [new.id]
    naive = (utcnow() + timedelta(hours=8) - timedelta(days=1)).replace(tzinfo=None).isoformat()
    body = client.get("/api/v1/patents", query_string={"updated_since": naive}).get_json()
    assert [p["id"] for p in body["items"]] == [new.id]  # Beijing time without an offset
    bad = client.get("/api/v1/patents?updated_since=yesterday")
    assert bad.status_code == 422 and "ISO 8601" in bad.get_json()["message"]


def test_updated_since_is_one_moment_in_any_spelling(client, auth, admin):
    """An integrator's +08:00 updated_since missed the 8 hours of changes before it on SQLite
    (the digits were compared as UTC), and -08:00 returned everything."""
    from datetime import UTC, datetime

    earlier = make_patent(admin.organization, title="早")
    later = make_patent(admin.organization, title="晚")
    earlier.updated_at = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    later.updated_at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    db.session.commit()
    auth.login(admin)
    spellings = (
        "2026-12-07T08:30:00Z",
        "2026-12-07T08:30:00+00:00",
        "2026-12-07T16:30:00+08:00",
        "2026-12-07T00:30:00-08:00",
        "2026-12-07T16:30:00",  # no offset: Beijing time
    )
    for since in spellings:
        body = client.get("/api/v1/patents", query_string={"updated_since": since}).get_json()
        assert [p["id"] for p in body["items"]] == [later.id], since


def test_filing_a_registered_application_number_names_the_record(client, auth, admin):
    """An integrator re-running its sync read 300 × 422 with no way to find the record."""
    held = make_patent(admin.organization, application_no="201710601862.3", title="已有")
    db.session.commit()
    auth.login(admin)
    r = client.post("/api/v1/patents", json={"application_no": "201710601862.3", "title": "新"})
    body = r.get_json()
    assert r.status_code == 422 and body["details"]["patent_id"] == held.id
    created = client.post(
        "/api/v1/patents", json={"application_no": "202110000005.4", "title": "新"}
    )
    assert created.status_code == 201
    assert created.headers["Location"].endswith(f"/api/v1/patents/{created.get_json()['id']}")
    assert f"编号 {held.id}" in body["details"]["application_no"]


def test_listing_another_units_patents_is_refused_not_ignored(client, auth, admin):
    """An integrator's ?institution=<another id> read its own university's patents."""
    mine = make_patent(admin.organization)
    other = make_org("别的大学")
    db.session.commit()
    auth.login(admin)
    r = client.get("/api/v1/patents", query_string={"institution": other.id})
    assert r.status_code == 403 and "institution" in r.get_json()["message"]
    r = client.get("/api/v1/patents", query_string={"institution": admin.organization_id})
    assert [p["id"] for p in r.get_json()["items"]] == [mine.id]


def test_naming_another_unit_is_refused_not_ignored(client, auth, admin):
    """A security review's university admin named another university's institution_id and got
    a 201 under its own; an enterprise naming another company's enterprise_id likewise."""
    from revive.accounts.models import OrgKind

    other = make_org("别的大学")
    auth.login(admin)
    resp = client.post("/api/v1/patents", json={**VALID, "institution_id": other.id})
    assert resp.status_code == 403 and "本单位" in resp.get_json()["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Patent)) == 0
    resp = client.post("/api/v1/patents", json={**VALID, "institution_id": admin.organization_id})
    assert resp.status_code == 201
    auth.logout()
    company = make_org("甲公司", kind=OrgKind.ENTERPRISE)
    rival = make_org("乙公司", kind=OrgKind.ENTERPRISE)
    auth.login(make_user(Role.ENTERPRISE, organization=company))
    body = {"title": "寻找正极材料技术", "description": "提高能量密度", "enterprise_id": rival.id}
    resp = client.post("/api/v1/demands", json=body)
    assert resp.status_code == 403 and "本企业" in resp.get_json()["message"]
    resp = client.post("/api/v1/demands", json={**body, "enterprise_id": company.id})
    assert resp.status_code == 201
