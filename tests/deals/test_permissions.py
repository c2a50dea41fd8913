"""Every /deals and /api/v1/deals route × every role (+ anonymous) × own/other deal.

Allowed → 2xx/3xx and the write took effect; refused → 403 (role may not do this at all, or
may see the deal but not act) or 404 (the deal is outside the user's scope), and nothing
changed; anonymous → login redirect (HTML) or 401 JSON (API).
``test_every_deal_route_is_in_the_table`` fails when a route appears without a row here.

"own" is a deal between 甲大学 (the college admin's college, the inventor's patent) and 甲企业;
"other" is between 乙大学 and 乙企业.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from revive.accounts.models import UNIVERSITY_ROLES, Role
from revive.db import utcnow
from revive.deals.models import Deal, Stage, UniversityResponse
from revive.deals.permissions import (
    CONTRACT_ROLES,
    EXPORT_ROLES,
    REMIND_ROLES,
    RESPOND_ROLES,
    STAGE_ROLES,
)
from revive.extensions import db
from tests.deals.helpers import World, advance, contract_data

ROLES: list[Role | None] = [*Role, None]
ALL_ROLES = frozenset(Role)
SCOPED = UNIVERSITY_ROLES | {Role.ENTERPRISE}  # see only their own side's deals
OWN_MODULES = ("revive.deals.views", "revive.api.deals")


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    rule: str
    url: Callable[[Deal], str]
    roles: frozenset[Role]
    api: bool = False
    obj: bool = False
    start: Stage = Stage.RECOMMENDED
    body: Callable[[Deal], dict] | None = None
    effect: Callable[[Deal], bool] | None = None
    list_check: bool = False  # the response lists deals: check the scope in the body


def _stage_is(stage: Stage):
    return lambda d: db.session.get(Deal, d.id).stage == stage


def _answered(d: Deal) -> bool:
    return db.session.get(Deal, d.id).response is not None


def _contract(d: Deal) -> dict:
    return contract_data()


def _reminded(d: Deal) -> bool:
    return any(e.kind == "reminder" for e in db.session.get(Deal, d.id).events)


def _extended(d: Deal) -> bool:
    return any(e.kind == "deadline" for e in db.session.get(Deal, d.id).events)


ENDPOINTS = [
    Endpoint("board", "GET", "/deals/", lambda d: "/deals/", ALL_ROLES, list_check=True),
    Endpoint(
        "export",
        "GET",
        "/deals/export.<fmt>",
        lambda d: "/deals/export.csv",
        EXPORT_ROLES,
        list_check=True,
    ),
    Endpoint(
        "detail", "GET", "/deals/<int:deal_id>", lambda d: f"/deals/{d.id}", ALL_ROLES, obj=True
    ),
    Endpoint(
        "stage",
        "POST",
        "/deals/<int:deal_id>/stage",
        lambda d: f"/deals/{d.id}/stage",
        STAGE_ROLES,
        obj=True,
        body=lambda d: {"action": "contact", "version": d.version},
        effect=_stage_is(Stage.CONTACTED),
    ),
    Endpoint(
        "response",
        "POST",
        "/deals/<int:deal_id>/response",
        lambda d: f"/deals/{d.id}/response",
        RESPOND_ROLES,
        obj=True,
        body=lambda d: {"response": "interested", "version": d.version},
        effect=_answered,
    ),
    Endpoint(
        "remind",
        "POST",
        "/deals/<int:deal_id>/remind",
        lambda d: f"/deals/{d.id}/remind",
        REMIND_ROLES,
        obj=True,
        effect=_reminded,
    ),
    Endpoint(
        "deadline",
        "POST",
        "/deals/<int:deal_id>/deadline",
        lambda d: f"/deals/{d.id}/deadline",
        REMIND_ROLES,
        obj=True,
        body=lambda d: {"days": "7", "reason": "学校委员会下周开会"},
        effect=_extended,
    ),
    Endpoint(
        "contract",
        "POST",
        "/deals/<int:deal_id>/contract",
        lambda d: f"/deals/{d.id}/contract",
        CONTRACT_ROLES,
        obj=True,
        start=Stage.NEGOTIATING,
        body=_contract,
        effect=_stage_is(Stage.SIGNED),
    ),
    # ----- API
    Endpoint(
        "api_list",
        "GET",
        "/api/v1/deals",
        lambda d: "/api/v1/deals",
        ALL_ROLES,
        api=True,
        list_check=True,
    ),
    Endpoint(
        "api_get",
        "GET",
        "/api/v1/deals/<int:deal_id>",
        lambda d: f"/api/v1/deals/{d.id}",
        ALL_ROLES,
        api=True,
        obj=True,
    ),
    Endpoint(
        "api_stage",
        "POST",
        "/api/v1/deals/<int:deal_id>/stage",
        lambda d: f"/api/v1/deals/{d.id}/stage",
        STAGE_ROLES,
        api=True,
        obj=True,
        body=lambda d: {"to": "contacted", "version": d.version},
        effect=_stage_is(Stage.CONTACTED),
    ),
    Endpoint(
        "api_response",
        "POST",
        "/api/v1/deals/<int:deal_id>/response",
        lambda d: f"/api/v1/deals/{d.id}/response",
        RESPOND_ROLES,
        api=True,
        obj=True,
        body=lambda d: {"response": "declined", "comment": "暂无团队"},
        effect=_answered,
    ),
    Endpoint(
        "api_contract",
        "POST",
        "/api/v1/deals/<int:deal_id>/contract",
        lambda d: f"/api/v1/deals/{d.id}/contract",
        CONTRACT_ROLES,
        api=True,
        obj=True,
        start=Stage.NEGOTIATING,
        body=_contract,
        effect=_stage_is(Stage.SIGNED),
    ),
]


def test_every_deal_route_is_in_the_table(app):
    covered = {(e.rule, e.method) for e in ENDPOINTS}
    routes = set()
    for rule in app.url_map.iter_rules():
        if app.view_functions[rule.endpoint].__module__ not in OWN_MODULES:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((rule.rule, method))
    assert routes - covered == set(), f"add rows to ENDPOINTS for: {routes - covered}"
    assert covered - routes == set(), f"stale rows: {covered - routes}"


def _expected(e: Endpoint, role: Role | None, which: str) -> str:
    if role is None:
        return "login"
    if role not in e.roles:
        return "forbidden"
    if e.obj and which == "other" and role in SCOPED:
        return "hidden"
    return "ok"


CASES = [
    pytest.param(e, role, which, id=f"{e.name}-{role.value if role else 'anonymous'}-{which}")
    for e in ENDPOINTS
    for role in ROLES
    for which in (("own", "other") if e.obj else ("own",))
]


@pytest.mark.parametrize(("e", "role", "which"), CASES)
def test_matrix(e: Endpoint, role: Role | None, which: str, world: World, client, auth):
    own, other = world.own_deal(), world.other_deal()
    deal = own if which == "own" else other
    if e.start == Stage.NEGOTIATING:
        advance(deal, Stage.CONTACTED, Stage.NEGOTIATING, actor=world.officer)
    if e.name == "remind":  # 催办 is for an answer past its deadline
        deal.response_due_at = utcnow() - timedelta(days=2)
        db.session.commit()
    if e.name in ("stage", "api_stage"):  # the parties move a deal the university wants
        deal.response, deal.responded_at = UniversityResponse.INTERESTED, utcnow()
        db.session.commit()
    if role is not None:
        auth.login(world.users[role])
    body = e.body(deal) if e.body else None
    if e.api:
        response = client.open(e.url(deal), method=e.method, json=body)
    else:
        response = client.open(e.url(deal), method=e.method, data=body)
    text = response.get_data(as_text=True)
    if response.is_json:
        text = json.dumps(response.get_json(), ensure_ascii=False)
    status = response.status_code
    expected = _expected(e, role, which)
    db.session.expire_all()
    if expected == "login":
        if e.api:
            assert status == 401 and response.get_json()["error"] == "unauthorized"
        else:
            assert status == 302 and "/login" in response.headers["Location"]
    elif expected == "forbidden":
        assert status == 403, text[:300]
    elif expected == "hidden":
        assert status == 404, text[:300]
        assert deal.patent.title not in text and deal.demand.title not in text
    else:
        assert status in (200, 201, 302), (status, text[:500])
        if status == 302:
            assert "/login" not in response.headers["Location"]
            assert f"/deals/{deal.id}" in response.headers["Location"]
        if e.effect is not None:
            assert e.effect(deal)
    if expected != "ok" and e.effect is not None:
        assert not e.effect(deal)
    if e.list_check and expected == "ok":
        assert own.demand.title in text
        assert (other.demand.title in text) is (role not in SCOPED)


def test_matrix_covers_every_role():
    assert set(ROLES) == {*Role, None}
    assert SCOPED | {Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR} == set(Role)


# ---------------------------------------------------------------------------- list scope


def test_college_admin_and_inventor_see_only_their_patents_deals(world, client, auth):
    own = world.own_deal(title="本学院的需求")
    neighbour = world.own_deal(title="隔壁学院的需求")
    # same university, another college, not the inventor's patent
    neighbour.patent.college = world.other_college_a
    neighbour.patent.inventor_users = []
    db.session.commit()
    expected = {
        Role.UNIVERSITY_ADMIN: {own.id, neighbour.id},
        Role.COLLEGE_ADMIN: {own.id},
        Role.INVENTOR: {own.id},
    }
    for role, ids in expected.items():
        auth.login(world.users[role])
        listed = {i["id"] for i in client.get("/api/v1/deals").get_json()["items"]}
        assert listed == ids, role
        board = client.get("/deals/").get_data(as_text=True)
        assert ("隔壁学院的需求" in board) is (neighbour.id in ids)
        assert client.get(f"/deals/{neighbour.id}").status_code == (
            200 if neighbour.id in ids else 404
        )
        auth.logout()
