"""/api/v1/dashboard/…: the page figures as JSON, every rate with its denominator, scoped."""

from __future__ import annotations

import pytest

from revive.accounts.models import Role
from tests.factories import make_user


def get_json(client, auth, user, url, status=200):
    auth.login(user)
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response.get_json()


@pytest.mark.parametrize("role", [Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR])
def test_funnel_for_regional_roles(client, auth, pipeline, role):
    data = get_json(client, auth, make_user(role), "/api/v1/dashboard/funnel")

    assert data["scope"] == "全平台"
    assert [(s["key"], s["count"]) for s in data["steps"]] == [
        ("inventoried", 13),
        ("entered", 7),
        ("pushed", 6),
        ("evaluated", 3),
        ("contacted", 5),
        ("signed", 2),
    ]
    pushed = data["steps"][2]
    assert pushed["base"] == "entered"
    assert pushed["rate_of_base"] == {
        "numerator": 6,
        "denominator": 7,
        "value": 0.8571,
        "display": "85.7%（6 / 7）",
    }
    assert pushed["rate_of_inventoried"]["denominator"] == 13


def test_funnel_filter_and_own_scope(client, auth, pipeline):
    w = pipeline.world
    data = get_json(
        client, auth, pipeline.users["o1"], f"/api/v1/dashboard/funnel?university={w.uni_b.id}"
    )
    assert data["scope"] == "全平台 · 乙大学"
    assert [s["count"] for s in data["steps"]] == [3, 3, 3, 1, 3, 1]
    auth.logout()
    data = get_json(
        client, auth, w.college_admin_a, f"/api/v1/dashboard/funnel?university={w.uni_b.id}"
    )
    assert data["scope"] == "甲大学 · 材料学院"
    assert [s["count"] for s in data["steps"]] == [4, 2, 2, 1, 1, 0]


def test_funnel_unknown_university_is_404(client, auth, pipeline):
    data = get_json(
        client,
        auth,
        pipeline.users["o1"],
        f"/api/v1/dashboard/funnel?university={pipeline.ent_x.id}",
        404,
    )
    assert data["error"] == "not_found"


def test_breakdown(client, auth, pipeline):
    w = pipeline.world
    data = get_json(client, auth, pipeline.users["regulator"], "/api/v1/dashboard/breakdown")
    assert data["by"] == "university"
    items = {i["name"]: i for i in data["items"]}
    assert items["甲大学"]["counts"] == {
        "inventoried": 10,
        "entered": 4,
        "evaluated": 2,
        "pushed": 3,
        "contacted": 2,
        "signed": 1,
    }
    assert items["甲大学"]["rates"]["signed"]["display"] == "50.0%（1 / 2）"
    assert data["total"]["counts"]["inventoried"] == 13

    assert client.get("/api/v1/dashboard/breakdown?by=college").status_code == 422
    data = client.get(f"/api/v1/dashboard/breakdown?by=college&university={w.uni_a.id}").get_json()
    assert {i["name"] for i in data["items"]} == {
        "材料学院",
        "能源学院",
        "外国语学院",
        "未指定学院",
    }
    data = client.get("/api/v1/dashboard/breakdown?by=industry").get_json()
    assert [i["key"] for i in data["items"]] == ["C", "D", "other", "none"]


def test_breakdown_options_follow_the_role(client, auth, pipeline):
    auth.login(pipeline.world.admin_a)
    assert client.get("/api/v1/dashboard/breakdown").get_json()["by"] == "college"
    assert client.get("/api/v1/dashboard/breakdown?by=university").status_code == 404
    auth.logout()
    auth.login(pipeline.world.college_admin_a)
    assert client.get("/api/v1/dashboard/breakdown").get_json()["by"] == "industry"
    assert client.get("/api/v1/dashboard/breakdown?by=college").status_code == 404


def test_contracts(client, auth, pipeline):
    data = get_json(client, auth, pipeline.world.admin_a, "/api/v1/dashboard/contracts")
    assert (data["count"], data["amount_wan"]) == (2, "120.50")
    assert data["by_month"][:3] == [
        {"month": "2024-03", "count": 1, "amount_wan": "100.50"},
        {"month": "2024-04", "count": 0, "amount_wan": "0.00"},
        {"month": "2024-05", "count": 1, "amount_wan": "20.00"},
    ]
    assert {k["key"]: k["count"] for k in data["by_kind"]} == {
        "assignment": 1,
        "license": 1,
        "open_license": 0,
        "equity": 0,
    }


def test_overdue(client, auth, pipeline):
    data = get_json(client, auth, pipeline.world.admin_a, "/api/v1/dashboard/overdue")
    assert (data["awaiting"], data["overdue"]) == (2, 1)
    assert data["overdue_rate"]["display"] == "50.0%（1 / 2）"
    [item] = data["items"]
    assert item["id"] == pipeline.deals["d2"].id
    assert (item["stage"], item["days_overdue"], item["college"]) == ("recommended", 3, "材料学院")
    assert data["_meta"]["total_items"] == 1


def test_unmet_paginates(client, auth, pipeline):
    data = get_json(client, auth, pipeline.users["o1"], "/api/v1/dashboard/unmet?per_page=1&page=2")
    assert (data["open_demands"], data["unmet"], data["never_matched"], data["all_rejected"]) == (
        5,
        2,
        1,
        1,
    )
    assert data["unmet_rate"]["display"] == "40.0%（2 / 5）"
    assert [i["title"] for i in data["items"]] == ["污水深度处理"]
    assert data["items"][0]["rejected"] == 2
    assert data["_meta"] == {"page": 2, "per_page": 1, "total_pages": 2, "total_items": 2}


def test_workload(client, auth, pipeline):
    data = get_json(client, auth, pipeline.users["regulator"], "/api/v1/dashboard/workload")
    first = data["officers"][0]
    assert (first["name"], first["accepted_30d"], first["open_deals"], first["amount_wan"]) == (
        "王经理",
        5,
        3,
        "20.00",
    )
    assert (data["undecided"], data["demands_waiting"]) == (1, 1)


def test_enterprise(client, auth, pipeline):
    data = get_json(client, auth, pipeline.users["ent_x"], "/api/v1/dashboard/enterprise")
    assert {d["title"] for d in data["demands"]} == {
        "高能量密度电池材料",
        '=HYPERLINK("http://x")盐碱地改良',
        "已关闭的需求",
    }
    assert data["by_stage"] == {
        "recommended": 0,
        "contacted": 0,
        "negotiating": 1,
        "signed": 1,
        "failed": 2,
    }
    assert (data["pushed"], data["signed"]) == (4, 1)
    # the closed demand's undecided candidate is listed on its page, not in the open headline
    suggested = {d["title"]: d["suggested"] for d in data["demands"]}
    assert suggested["已关闭的需求"] == 1 and suggested["高能量密度电池材料"] == 0
    assert data["suggested_open"] == 0
