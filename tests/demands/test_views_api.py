"""Demand pages and JSON API over HTTP: forms, locking, contact privacy, escaping, pagination."""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import Role
from revive.demands.models import Demand, DemandStatus, Visibility
from revive.extensions import db
from tests.demands.helpers import FUTURE, PAST, make_demand

XSS = '<script>alert("x")</script>'


def test_enterprise_posts_through_the_form_and_sees_it_in_my_demands(world, client, auth):
    auth.login(world.users[Role.ENTERPRISE])
    form = client.get("/demands/new").get_data(as_text=True)
    assert "9 级：实际应用，批量生产或成功运行" in form  # TRL help texts
    response = client.post(
        "/demands/new",
        data={
            "title": "汽车零部件表面缺陷自动检测",
            "description": "铝合金压铸件表面缺陷靠人工目检",
            "cooperation_modes": ["license", "joint_dev"],
            "expected_trl": "6",
            "deadline": FUTURE,
            "visibility": "public",
        },
    )
    assert response.status_code == 302
    demand = db.session.scalar(sa.select(Demand))
    assert demand.cooperation_modes == "license,joint_dev"
    page = client.get("/demands/").get_data(as_text=True)
    assert "我的需求" in page and "汽车零部件表面缺陷自动检测" in page and "征集中" in page


NEW_DEMAND = {
    "title": "汽车零部件表面缺陷自动检测",
    "description": "铝合金压铸件表面缺陷靠人工目检",
    "cooperation_modes": ["license"],
    "deadline": FUTURE,
    "visibility": "public",
}


def test_the_same_form_sent_again_posts_no_second_demand(world, client, auth):
    """A double click or a resent form: the second POST lands on the demand the first one
    posted, told so; a different text, or the same text after the first was closed, posts."""
    auth.login(world.users[Role.ENTERPRISE])
    first = client.post("/demands/new", data=NEW_DEMAND)
    assert first.status_code == 302
    demand_id = db.session.scalar(sa.select(Demand.id))
    again = client.post("/demands/new", data=NEW_DEMAND, follow_redirects=True)
    assert again.status_code == 200
    assert again.request.path == f"/demands/{demand_id}"
    assert "这条需求已经发布过" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Demand.id))) == 1

    other = client.post("/demands/new", data={**NEW_DEMAND, "description": "另一条描述"})
    assert other.status_code == 302
    closed = client.post(f"/demands/{demand_id}/close", data={"reason": "已解决"})
    assert closed.status_code == 302
    assert db.session.get(Demand, demand_id).status == DemandStatus.CLOSED
    assert client.post("/demands/new", data=NEW_DEMAND).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Demand.id))) == 3


def test_the_api_refuses_a_demand_posted_twice_and_names_the_first(world, client, auth):
    auth.login(world.users[Role.ENTERPRISE])
    body = {"title": "API 需求", "description": "同一条需求"}
    first = client.post("/api/v1/demands", json=body)
    assert first.status_code == 201
    again = client.post("/api/v1/demands", json=body)
    assert again.status_code == 409
    answer = again.get_json()
    assert answer["error"] == "conflict" and "未重复发布" in answer["message"]
    assert answer["details"]["demand_id"] == first.get_json()["id"]
    # another enterprise may post the same words
    auth.logout()
    auth.login(world.other_enterprise_user)
    assert client.post("/api/v1/demands", json=body).status_code == 201


def test_a_new_demand_starts_with_the_posters_own_contact(world, client, auth):
    user = world.users[Role.ENTERPRISE]
    user.phone = "13900001111"
    db.session.commit()
    auth.login(user)
    form = client.get("/demands/new").get_data(as_text=True)
    assert 'value="13900001111"' in form and f'value="{user.email}"' in form
    auth.logout()
    auth.login(world.users[Role.OFFICER])  # an officer posts for an enterprise: not their own
    assert 'value="13900001111"' not in client.get("/demands/new").get_data(as_text=True)


def test_form_errors_are_shown_in_chinese_and_nothing_is_saved(world, client, auth):
    auth.login(world.users[Role.ENTERPRISE])
    response = client.post(
        "/demands/new", data={"title": "x", "description": "y", "deadline": PAST}
    )
    assert response.status_code == 422
    assert "截止日期不能早于今天" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Demand)) == 0


def test_an_implausible_budget_is_refused_and_a_large_one_is_shown_grouped(world, client, auth):
    """explore2 F10: 预算 1e9 was published and shown as "1000000000.00 万元"."""
    auth.login(world.users[Role.ENTERPRISE])
    form = {"title": "预算测试", "description": "铝合金压铸件表面缺陷检测", "budget": "1e9"}
    response = client.post("/demands/new", data=form)
    assert response.status_code == 422
    assert "不要用科学计数法" in response.get_data(as_text=True)
    response = client.post("/demands/new", data={**form, "budget": "1000000000"})
    assert response.status_code == 422
    assert "须小于 1,000,000 万元（100 亿元）" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Demand)) == 0
    api = client.post("/api/v1/demands", json={**form, "budget": 1e9})
    assert api.status_code == 422 and "100 亿元" in api.get_json()["details"]["budget"]
    response = client.post("/demands/new", data={**form, "budget": "250000"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "250,000 万元" in page.split('id="demand-budget"')[1].split("</dd>")[0]


def test_stale_edit_form_answers_conflict(world, client, auth):
    demand = make_demand(world.ent_a)
    auth.login(world.users[Role.ENTERPRISE])
    data = {"title": "第一次", "description": "d", "visibility": "public", "version": "1"}
    assert client.post(f"/demands/{demand.id}/edit", data=data).status_code == 302
    data["title"] = "过期页面"
    data["description"] = "在另一个窗口里写了很长的一段说明"
    response = client.post(f"/demands/{demand.id}/edit", data=data)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    # nothing saved, nothing lost: the form comes back with what was typed and the current
    # version, so saving it again (after checking) goes through
    assert "已有新的修改" in page and "您填写的内容保留在下方" in page
    assert "过期页面" in page and "在另一个窗口里写了很长的一段说明" in page
    assert 'name="version" value="2"' in page
    db.session.expire_all()
    assert db.session.get(Demand, demand.id).title == "第一次"
    data["version"] = "2"
    assert client.post(f"/demands/{demand.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Demand, demand.id).title == "过期页面"


def test_a_tampered_version_is_refused_not_ignored(world, client, auth):
    demand = make_demand(world.ent_a)
    auth.login(world.users[Role.ENTERPRISE])
    for version in ("abc", "99999999999999999999", "-1"):
        data = {"title": "改", "description": "d", "visibility": "public", "version": version}
        response = client.post(f"/demands/{demand.id}/edit", data=data)
        assert response.status_code == 422
        assert "版本号无效" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Demand, demand.id).title != "改"


def test_a_closed_demand_opens_no_edit_form(world, client, auth):
    demand = make_demand(world.ent_a)
    auth.login(world.users[Role.ENTERPRISE])
    client.post(f"/demands/{demand.id}/close", data={"reason": "已签约"})
    response = client.get(f"/demands/{demand.id}/edit", follow_redirects=True)
    assert response.request.path == f"/demands/{demand.id}"
    assert "需求已关闭，不能修改" in response.get_data(as_text=True)


def test_close_form_requires_reason(world, client, auth):
    demand = make_demand(world.ent_a)
    auth.login(world.users[Role.ENTERPRISE])
    response = client.post(f"/demands/{demand.id}/close", data={"reason": ""})
    assert response.status_code == 422
    assert "请填写关闭原因" in response.get_data(as_text=True)
    client.post(f"/demands/{demand.id}/close", data={"reason": "已签约"})
    db.session.expire_all()
    assert db.session.get(Demand, demand.id).status == DemandStatus.CLOSED
    page = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert "已签约" in page and "编辑" not in page.split("返回列表")[1][:200]


def test_contact_details_only_for_owner_and_officers(world, client, auth):
    demand = make_demand(world.ent_a, contact_phone="13800138000", contact_email="a@b.cn")
    for role, shown in [
        (Role.ENTERPRISE, True),
        (Role.OFFICER, True),
        (Role.PLATFORM_ADMIN, True),
        (Role.UNIVERSITY_ADMIN, False),
        (Role.INVENTOR, False),
        (Role.REGULATOR, False),
    ]:
        auth.login(world.users[role])
        page = client.get(f"/demands/{demand.id}").get_data(as_text=True)
        data = client.get(f"/api/v1/demands/{demand.id}").get_json()
        assert ("13800138000" in page) == shown, role
        assert ("contact_phone" in data) == shown, role
        auth.logout()


def test_contact_details_pasted_into_the_description_are_hidden_from_universities(
    world, client, auth
):
    """Listing-form text brings its contacts along; the promise "高校可见（不含联系方式）"
    holds for the text too, on the page and in the API; the technical figures stay."""
    text = (
        "吨铝直流电耗降至12800kWh以下，年产15000000000元。联系人：张经理 电话：138 0013 8000，"
        "座机 0471-6543210，邮箱 zhang@xibao.example，微信：zhangjl2026"
    )
    demand = make_demand(world.ent_a, description=text)
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    page = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    data = client.get(f"/api/v1/demands/{demand.id}").get_json()
    for shown in (page, data["description"]):
        for secret in ("138 0013 8000", "6543210", "zhang@xibao", "zhangjl2026"):
            assert secret not in shown
        assert "〔联系方式已隐藏〕" in shown
        assert "12800kWh" in shown and "15000000000元" in shown
    auth.logout()
    auth.login(world.users[Role.ENTERPRISE])  # the poster sees the text as written
    assert "138 0013 8000" in client.get(f"/demands/{demand.id}").get_data(as_text=True)


def test_the_poster_is_told_when_the_description_holds_contacts(world, client, auth):
    auth.login(world.users[Role.ENTERPRISE])
    response = client.post(
        "/demands/new",
        data={
            "title": "电解铝节能",
            "description": "降低直流电耗，联系电话 13800138000",
            "visibility": "public",
            "deadline": FUTURE,
        },
        follow_redirects=True,
    )
    assert "高校用户看不到这些内容（已自动隐藏）" in response.get_data(as_text=True)


def test_user_text_is_escaped(world, client, auth):
    demand = make_demand(world.ent_a, title=XSS, description=XSS, industry=XSS)
    auth.login(world.users[Role.OFFICER])
    for url in ("/demands/", f"/demands/{demand.id}", f"/demands/{demand.id}/edit"):
        page = client.get(url).get_data(as_text=True)
        assert XSS not in page
        assert "&lt;script&gt;" in page


def test_officer_filters_and_paginates(world, client, auth, app, monkeypatch):
    monkeypatch.setitem(app.config, "REVIVE_PAGE_SIZE", 2)
    for i in range(3):
        make_demand(world.ent_a, title=f"电池回收{i}", region="陕西省西安市")
    make_demand(world.ent_b, title="水稻", region="江苏省", status=DemandStatus.CLOSED)
    auth.login(world.users[Role.OFFICER])
    data = client.get("/api/v1/demands?q=电池&per_page=2").get_json()
    assert data["_meta"] == {"page": 1, "per_page": 2, "total_pages": 2, "total_items": 3}
    data = client.get("/api/v1/demands?status=closed").get_json()
    assert [i["title"] for i in data["items"]] == ["水稻"]
    page = client.get("/demands/?region=西安&page=2").get_data(as_text=True)
    assert "共 3 条" in page
    assert "水稻" not in page


def test_the_type_filter_reaches_the_next_page_and_the_export(
    world, client, auth, app, monkeypatch
):
    """The list's links carried the type filter as demand_type=, which the list does not read:
    page 2 and the export showed every type."""
    from revive.demands.models import DemandType

    monkeypatch.setitem(app.config, "REVIVE_PAGE_SIZE", 2)
    for i in range(3):
        make_demand(world.ent_a, title=f"难题{i}", demand_type=DemandType.PROBLEM)
    make_demand(world.ent_a, title="人才需求甲", demand_type=DemandType.TALENT)
    db.session.commit()
    auth.login(world.users[Role.OFFICER])
    page = client.get("/demands/?type=problem").get_data(as_text=True)
    assert "type=problem" in page and "demand_type=" not in page
    second = client.get("/demands/?type=problem&page=2").get_data(as_text=True)
    assert "人才需求甲" not in second and "共 3 条" in second
    exported = client.get("/demands/export.csv?type=problem").get_data(as_text=True)
    assert "难题0" in exported and "人才需求甲" not in exported


def test_api_post_patch_close_and_errors(world, client, auth):
    auth.login(world.users[Role.ENTERPRISE])
    response = client.post(
        "/api/v1/demands",
        json={"title": "API 需求", "description": "d", "cooperation_modes": ["equity"]},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["cooperation_modes"] == ["equity"]
    assert body["status"] == "open"
    demand_id, version = body["id"], body["version"]

    bad = client.post("/api/v1/demands", json={"title": "", "description": "d", "color": 1})
    assert bad.status_code == 422
    assert bad.get_json()["error"] == "validation_failed"
    assert "color" in bad.get_json()["details"]

    ok = client.patch(f"/api/v1/demands/{demand_id}", json={"budget": "50", "version": version})
    assert ok.status_code == 200 and ok.get_json()["budget"] == "50"
    stale = client.patch(f"/api/v1/demands/{demand_id}", json={"budget": "60", "version": version})
    assert stale.status_code == 409 and stale.get_json()["error"] == "conflict"
    assert "刷新" not in stale.get_json()["message"] and "重新读取" in stale.get_json()["message"]

    assert client.post(f"/api/v1/demands/{demand_id}/close", json={}).status_code == 422
    closed = client.post(f"/api/v1/demands/{demand_id}/close", json={"reason": "不需要了"})
    assert closed.get_json()["status"] == "closed"
    again = client.post(f"/api/v1/demands/{demand_id}/close", json={"reason": "x"})
    assert again.status_code == 409


def test_officer_api_post_needs_enterprise(world, client, auth):
    auth.login(world.users[Role.OFFICER])
    response = client.post("/api/v1/demands", json={"title": "t", "description": "d"})
    assert response.status_code == 422
    response = client.post(
        "/api/v1/demands",
        json={"title": "t", "description": "d", "enterprise_id": world.ent_b.id},
    )
    assert response.status_code == 201
    assert response.get_json()["enterprise"]["name"] == "乙制造有限公司"
    assert response.get_json()["source"] == "survey"


def test_university_users_see_no_private_demands_by_id(world, client, auth):
    private = make_demand(world.ent_a, visibility=Visibility.PLATFORM)
    auth.login(world.users[Role.COLLEGE_ADMIN])
    assert client.get(f"/demands/{private.id}").status_code == 404
    assert client.get(f"/api/v1/demands/{private.id}").status_code == 404


def test_officer_uploads_demand_file_and_lands_on_job_page(world, client, auth, enqueued):
    import io

    from openpyxl import load_workbook

    from tests.demands.helpers import HEADER, row
    from tests.imports.helpers import csv_bytes

    auth.login(world.users[Role.OFFICER])
    assert "下载需求导入模板" in client.get("/demands/import").get_data(as_text=True)
    template = client.get("/demands/import/template.xlsx")
    header = [c.value for c in load_workbook(io.BytesIO(template.data))["需求清单"][1]]
    assert header[:3] == ["企业名称", "统一社会信用代码", "需求名称"]
    response = client.post(
        "/demands/import",
        data={"file": (io.BytesIO(csv_bytes([row()], HEADER)), "d.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert "/imports/" in response.headers["Location"]
    assert enqueued[-1][0] == "imports.validate"
    jobs = client.get("/imports/jobs").get_data(as_text=True)
    assert "d.csv" in jobs and "导入企业需求" in jobs


def test_api_close_requires_a_reason_in_chinese(world, client, auth):
    """The close body's schema says what the service said: 请填写关闭原因 (422, by key)."""
    demand = make_demand(world.ent_a)
    auth.login(world.users[Role.ENTERPRISE])
    response = client.post(f"/api/v1/demands/{demand.id}/close", json={})
    assert response.status_code == 422
    assert response.get_json() == {
        "error": "validation_failed",
        "message": "请填写关闭原因",
        "details": {"reason": "请填写关闭原因"},
    }
    response = client.post(f"/api/v1/demands/{demand.id}/alerts", json={"subscribed": "yes"})
    assert response.status_code == 422
    assert response.get_json()["details"] == {"subscribed": "须为布尔值"}


def test_an_enterprise_cannot_claim_another_source(world, client, auth):
    """来源 counts demands for officials: an enterprise's own posting is 企业自填."""
    auth.login(world.users[Role.ENTERPRISE])
    body = {"title": "来源测试", "description": "一条需求", "source": "center"}
    refused = client.post("/api/v1/demands", json=body)
    assert refused.status_code == 422 and "企业自填" in refused.get_json()["message"]
    made = client.post("/api/v1/demands", json={**body, "source": "self"})
    assert made.status_code == 201
    demand_id = made.get_json()["id"]
    edit = client.patch(f"/api/v1/demands/{demand_id}", json={"source": "center"})
    assert edit.status_code == 422
    assert db.session.get(Demand, demand_id).source.value == "self"


def test_an_api_demand_starts_with_the_posters_contact(world, client, auth):
    user = world.users[Role.ENTERPRISE]
    auth.login(user)
    made = client.post("/api/v1/demands", json={"title": "联系人测试", "description": "需求"})
    demand = db.session.get(Demand, made.get_json()["id"])
    assert demand.contact_name == user.name and demand.contact_email == user.email
    bare = client.post(
        "/api/v1/demands",
        json={"title": "不留联系人", "description": "需求", "contact_name": None},
    )
    assert db.session.get(Demand, bare.get_json()["id"]).contact_name is None


def test_the_hourly_cap_says_when_to_retry(world, client, auth, app, monkeypatch):
    monkeypatch.setitem(app.config, "REVIVE_DEMANDS_PER_HOUR", 1)
    auth.login(world.users[Role.ENTERPRISE])
    assert (
        client.post("/api/v1/demands", json={"title": "一", "description": "甲"}).status_code == 201
    )
    capped = client.post("/api/v1/demands", json={"title": "二", "description": "乙"})
    assert capped.status_code == 429
    assert 3500 <= int(capped.headers["Retry-After"]) <= 3600


LINK = "请访问 revive-verify。com 核实"


def test_links_are_refused_in_a_demand_title_and_an_enterprises_texts(world, client, auth):
    """Security re-test F3: a demand's title is quoted in universities' push notices and
    e-mails, and an enterprise's description and targets in notices: no links in them. An
    officer importing a listing may keep a source address in the texts, not in the title."""
    auth.login(world.users[Role.ENTERPRISE])
    form = client.post("/demands/new", data={**NEW_DEMAND, "title": "检测 bit.ly/3xYz"})
    assert form.status_code == 422
    assert "需求名称不能包含网址" in form.get_data(as_text=True)
    for key, label in (("title", "需求名称"), ("description", "需求描述")):
        api = client.post("/api/v1/demands", json={"title": "t", "description": "d", key: LINK})
        assert api.status_code == 422
        assert label in api.get_json()["details"][key]
    api = client.post(
        "/api/v1/demands", json={"title": "t", "description": "d", "target_specs": LINK}
    )
    assert api.status_code == 422 and "量化技术指标" in api.get_json()["details"]["target_specs"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Demand)) == 0

    demand_id = client.post("/api/v1/demands", json={"title": "t", "description": "d"})
    demand_id = demand_id.get_json()["id"]
    for key in ("title", "description", "target_specs"):
        edit = client.patch(f"/api/v1/demands/{demand_id}", json={key: LINK})
        assert edit.status_code == 422 and "不能包含网址" in edit.get_json()["details"][key]
    edit = client.post(f"/demands/{demand_id}/edit", data={**NEW_DEMAND, "description": LINK})
    assert edit.status_code == 422
    assert "需求描述不能包含网址" in edit.get_data(as_text=True)
    demand = db.session.get(Demand, demand_id)
    assert (demand.title, demand.description, demand.target_specs) == ("t", "d", None)

    auth.logout()
    auth.login(world.users[Role.OFFICER])
    body = {
        "title": "t2",
        "description": "来源 https://example.cn/1",
        "enterprise_id": world.ent_b.id,
    }
    assert client.post("/api/v1/demands", json=body).status_code == 201
    titled = client.post("/api/v1/demands", json={**body, "title": LINK, "description": "d"})
    assert titled.status_code == 422 and "需求名称" in titled.get_json()["details"]["title"]
