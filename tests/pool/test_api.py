"""The same operations through /api/v1: search, a public record, intents, the enterprise's
overview of a demand, officers' picks, alerts and settings."""

from __future__ import annotations

import json

import pytest

from revive.accounts.models import Role
from revive.matching import manual
from tests.matching.helpers import make_demand
from tests.pool.conftest import SILICON, abstaining_demand, match_now
from tests.pool.test_services import SILICON_DEMAND
from tests.pool.test_views import PRIVATE_TEXT

JSON = {"Accept": "application/json"}


def test_search_and_public_record(client, auth, world):
    auth.login(world.enterprise)
    data = client.get("/api/v1/pool/patents?q=硅碳负极&per_page=2").get_json()
    assert data["_meta"]["ranked"] is True and data["_meta"]["per_page"] == 2
    first = data["items"][0]
    assert first["title"] == SILICON["title"] and first["transfer_modes"] == [
        "license",
        "open_license",
    ]
    assert first["institution"]["name"] == "甲大学" and first["price_wan"] is None
    record = client.get(f"/api/v1/pool/patents/{first['id']}").get_json()
    text = json.dumps(record, ensure_ascii=False)
    for secret in PRIVATE_TEXT:
        assert secret not in text
    assert "value_grade" not in record and "contact_phone" not in record
    draft = client.get(f"/api/v1/pool/patents/{world.patents['draft'].id}")
    assert draft.status_code == 404 and draft.get_json()["error"] == "not_found"


def test_intents_through_the_api(client, auth, world):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    auth.login(world.enterprise)
    url = f"/api/v1/pool/patents/{world.patents['silicon'].id}/intents"
    created = client.post(url, json={"demand_id": demand.id, "message": "请安排交流"})
    assert created.status_code == 201
    body = created.get_json()
    assert body["status"] == "reviewing" and body["demand"]["id"] == demand.id
    again = client.post(url, json={"demand_id": demand.id, "message": "再来"})
    assert again.status_code == 409
    listed = client.get("/api/v1/intents").get_json()
    assert [i["id"] for i in listed["items"]] == [body["id"]]
    assert listed["_meta"]["total_items"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"message": "好"},
        {"message": "", "new_demand_title": "x"},
        {"message": "长" * 1001, "new_demand_title": "x"},
        {"message": "好", "demand_id": "1"},
        {"message": ["好"], "new_demand_title": "x"},
        {"message": "好", "new_demand_title": 5},
    ],
)
def test_bad_intents_are_422(client, auth, world, body):
    auth.login(world.enterprise)
    response = client.post(f"/api/v1/pool/patents/{world.patents['silicon'].id}/intents", json=body)
    assert response.status_code == 422, response.get_data(as_text=True)


def test_a_link_in_a_new_demands_title_is_refused(client, auth, world):
    """Security re-test F3: the new demand's title is quoted in notices and e-mails."""
    auth.login(world.enterprise)
    body = {"message": "好", "new_demand_title": "引进 revive-verify.io/login"}
    response = client.post(f"/api/v1/pool/patents/{world.patents['silicon'].id}/intents", json=body)
    assert response.status_code == 422
    assert "需求名称不能包含网址" in response.get_json()["details"]["new_demand_title"]


def test_the_enterprises_overview_of_its_demand(client, auth, world, enqueued):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    match_now(enqueued, demand.id)
    auth.login(world.enterprise)
    data = client.get(f"/api/v1/demands/{demand.id}/overview").get_json()
    assert data["matched"] is True and data["unmet"] is False
    assert data["suggestions"][0]["patent"]["title"] == SILICON["title"]
    assert data["suggestions"][0]["tier"] in ("strong", "medium")
    assert set(data["counts"]) == {"suggested", "under_review", "pushed", "declined", "intents"}
    # The share the page states (an integrator saw 0.67 beside the page's 约 61%).
    from revive.matching.strength import seen_share, share_basis

    top = data["suggestions"][0]
    page_text = seen_share(top["strength"], data["short_posting"])
    shown = f"约 {round(top['judged_share'] * 100):d}%"
    assert shown == page_text if page_text else top["judged_share"] == round(top["strength"], 4)
    # … and the judged pairs it rests on, the denominator the page names beside it
    assert top["judged_basis"] == share_basis(top["strength"], data["short_posting"]) > 0
    assert "reason_code" not in json.dumps(data) and "comment" not in json.dumps(data)
    auth.logout()
    auth.login(world.ent_b_user)
    assert client.get(f"/api/v1/demands/{demand.id}/overview").status_code == 404


def test_the_overview_lists_weak_suggestions_apart(client, auth, world):
    """Below the bar: in ``weak_suggestions``, never in ``suggestions`` (the page's 显示较弱的候选)."""
    demand = abstaining_demand(world, {world.patents["silicon"]: 0.04})
    auth.login(world.enterprise)
    data = client.get(f"/api/v1/demands/{demand.id}/overview").get_json()
    assert data["suggestions"] == [] and data["counts"]["suggested"] == 0
    assert [w["patent"]["title"] for w in data["weak_suggestions"]] == [SILICON["title"]]
    assert data["weak_suggestions"][0]["tier"] == "weak"


def test_officers_add_candidates_through_the_api(client, auth, world):
    demand = make_demand(world.ent)
    auth.login(world.officer)
    url = f"/api/v1/demands/{demand.id}/candidates"
    created = client.post(url, json={"patent_id": world.patents["water"].id, "note": "可考察"})
    assert created.status_code == 201
    m = created.get_json()
    assert m["source"] == "officer" and m["note"] == "可考察" and m["state"] == "candidate"
    assert client.post(url, json={"patent_id": world.patents["draft"].id}).status_code == 404
    assert client.post(url, json={"note": "x"}).status_code == 422
    matches = client.get(f"/api/v1/demands/{demand.id}/matches").get_json()["items"]
    assert matches[0]["source_label"] == "技术经理人添加"


def test_the_demand_matches_api_tells_the_source_and_the_intent(client, auth, world):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    manual.submit_intent(world.enterprise, world.patents["silicon"].id, "好", demand_id=demand.id)
    auth.login(world.officer)
    item = client.get(f"/api/v1/demands/{demand.id}/matches").get_json()["items"][0]
    assert item["source"] == "intent" and item["has_intent"] and item["intent_message"] == "好"


def test_alerts_and_settings_through_the_api(client, auth, world):
    demand = make_demand(world.ent)
    auth.login(world.enterprise)
    url = f"/api/v1/demands/{demand.id}/alerts"
    assert client.post(url, json={"subscribed": False}).get_json()["alert_subscribed"] is False
    assert client.post(url, json={"subscribed": "no"}).status_code == 422
    assert client.get("/api/v1/settings").status_code == 403
    auth.logout()
    auth.login(world.users[Role.PLATFORM_ADMIN])
    assert client.get("/api/v1/settings").get_json() == {"public_pool": False}
    assert client.patch("/api/v1/settings", json={"public_pool": True}).get_json() == {
        "public_pool": True
    }
    assert client.patch("/api/v1/settings", json={"public_pool": "yes"}).status_code == 422
    assert client.patch("/api/v1/settings", json={"other": True}).status_code == 422


def test_the_judged_share_is_the_figure_the_page_states(app):
    """Where the model is known to be off (its top, short postings) the pages state the
    measured share; the API's judged_share says the same number."""
    from revive import engine
    from revive.matching.strength import seen_share, shown_share

    measured = engine.shipped_reliability()
    for p, short in ((0.998, False), (0.95, True), (0.25, False)):
        text = seen_share(p, short)
        if text:  # off: the measured share, as the page words it
            assert text == f"约 {round(shown_share(p, short) * 100):d}%"
            assert shown_share(p, short) == round(measured.observed(p, short), 4)
        else:
            assert shown_share(p, short) == p
    assert seen_share(0.998, False) is not None  # the model's top is over-confident
    assert shown_share(None) is None
