"""The audit log: state changes are recorded in the same transaction, each role sees only what
it may, the export matches the page and is formula-safe, and no route can change an event."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from revive.accounts.models import OrgKind, Role
from revive.demands import services as demand_services
from revive.errors import InvalidTransition
from revive.extensions import db
from revive.inventory import services as inventory_services
from tests.audit.helpers import events as _events
from tests.factories import make_org, make_patent, make_user
from tests.spreadsheets import formula_cells

ROLES = [*Role, None]
CAN_SEE = {
    Role.PLATFORM_ADMIN,
    Role.OFFICER,
    Role.REGULATOR,
    Role.UNIVERSITY_ADMIN,
    Role.ENTERPRISE,
}


@pytest.fixture
def world(app):
    uni_a, uni_b = make_org("甲大学"), make_org("乙大学")
    ent = make_org("丙企业", kind=OrgKind.ENTERPRISE)
    admin_a = make_user(Role.UNIVERSITY_ADMIN, organization=uni_a, name="=HYPERLINK(1)")
    admin_b = make_user(Role.UNIVERSITY_ADMIN, organization=uni_b)
    ent_user = make_user(Role.ENTERPRISE, organization=ent)
    pa, pb = make_patent(uni_a, title="甲校专利"), make_patent(uni_b, title="乙校专利")
    inventory_services.perform_action(pa.id, "submit", actor=admin_a)
    inventory_services.perform_action(pb.id, "submit", actor=admin_b)
    demand = demand_services.post_demand(
        {"title": "需要污水处理技术", "description": "氨氮超标，求处理工艺"}, actor=ent_user
    )
    return {
        "uni_a": uni_a,
        "uni_b": uni_b,
        "ent": ent,
        "admin_a": admin_a,
        "ent_user": ent_user,
        "pa": pa,
        "pb": pb,
        "demand": demand,
    }


def test_patent_transitions_are_audited_with_from_and_to(world):
    (event,) = _events(entity="patent", entity_id=world["pa"].id)
    assert event.action == "submit" and event.actor_id == world["admin_a"].id
    assert event.organization_id == world["uni_a"].id
    db.session.refresh(world["pa"])
    assert event.data == {"from_status": "draft", "to_status": world["pa"].status.value}


def test_demand_create_edit_close_are_audited(world):
    demand, user = world["demand"], world["ent_user"]
    demand_services.update_demand(demand.id, {"region": "内蒙古"}, actor=user)
    demand_services.update_demand(demand.id, {"region": "内蒙古"}, actor=user)  # no change
    demand_services.close_demand(demand.id, actor=user, reason="已解决")
    events = _events(entity="demand", entity_id=demand.id)
    assert [e.action for e in events] == ["create", "edit", "close"]
    assert events[1].data == {"fields": ["region"]}
    assert events[2].data == {"reason": "已解决"}
    assert {e.organization_id for e in events} == {world["ent"].id}


def test_a_refused_change_leaves_no_event(world):
    before = len(_events())
    with pytest.raises(InvalidTransition):
        inventory_services.perform_action(world["pa"].id, "submit", actor=world["admin_a"])
    assert len(_events()) == before


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
def test_who_sees_which_events(world, client, auth, role):
    if role is not None:
        org = {Role.UNIVERSITY_ADMIN: world["uni_a"], Role.ENTERPRISE: world["ent"]}.get(role)
        user = (
            world["admin_a"]
            if role == Role.UNIVERSITY_ADMIN
            else (
                world["ent_user"] if role == Role.ENTERPRISE else make_user(role, organization=org)
            )
        )
        auth.login(user)
    for url in ("/audit/", "/audit/export.xlsx"):
        resp = client.get(url)
        if role is None:
            assert resp.status_code == 302 and "/login" in resp.headers["Location"]
        elif role not in CAN_SEE:
            assert resp.status_code == 403
        else:
            assert resp.status_code == 200
    if role not in CAN_SEE:
        return
    page = client.get("/audit/?entity=patent").get_data(as_text=True)
    own, other = f"专利 #{world['pa'].id}", f"专利 #{world['pb'].id}"
    if role == Role.UNIVERSITY_ADMIN:
        assert own in page and other not in page
    elif role == Role.ENTERPRISE:
        assert own not in page and other not in page
        assert f"需求 #{world['demand'].id}" in client.get("/audit/").get_data(as_text=True)
    else:
        assert own in page and other in page


def test_export_has_the_filtered_events_and_neutralises_formulas(world, client, auth):
    auth.login(make_user(Role.REGULATOR))
    resp = client.get("/audit/export.xlsx?entity=patent")
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:5] == ("编号", "时间（北京时间）", "对象", "对象编号", "操作")
    assert sorted(r[3] for r in rows[1:]) == sorted([world["pa"].id, world["pb"].id])
    actors = {r[5] for r in rows[1:]}
    assert formula_cells(resp.data) == []  # "=HYPERLINK(1)" is a text cell, never run
    assert any(str(a).startswith("=HYPERLINK") for a in actors)  # shown as written
    assert any("HYPERLINK" in str(a) for a in actors)


def test_filters_by_date_and_action(world, client, auth):
    auth.login(make_user(Role.OFFICER))
    page = client.get("/audit/?action=create").get_data(as_text=True)
    assert f"需求 #{world['demand'].id}" in page and "专利 #" not in page
    page = client.get("/audit/?date_from=2000-01-01&date_to=2000-01-02").get_data(as_text=True)
    assert "没有符合条件的记录" in page


def test_no_route_can_change_an_event(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("audit.")]
    assert rules, "the audit blueprint has routes"
    for rule in rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    api = [
        r
        for r in app.url_map.iter_rules()
        if "audit" in r.rule and not r.endpoint.startswith("audit.")
    ]
    assert all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in api)


def test_an_enterprise_sees_the_events_of_its_deals(world, client, auth):
    from revive.inventory.models import EntryStatus
    from revive.matching.models import Match
    from revive.review import services as decisions

    patent = make_patent(world["uni_a"], title="甲校入库专利", status=EntryStatus.ENTERED)
    match = Match(demand_id=world["demand"].id, patent_id=patent.id, score=0.5, terms=[])
    db.session.add(match)
    db.session.commit()
    decisions.decide(match.id, "accepted", make_user(Role.OFFICER))
    (push,) = _events(entity="deal", action="push")
    assert push.organization_id == world["uni_a"].id

    auth.login(world["ent_user"])
    assert f"对接 #{push.entity_id}" in client.get("/audit/?entity=deal").get_data(as_text=True)
    other_ent = make_user(Role.ENTERPRISE)
    auth.logout()
    auth.login(other_ent)
    assert f"对接 #{push.entity_id}" not in client.get("/audit/").get_data(as_text=True)
