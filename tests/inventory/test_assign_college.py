"""A school admin assigns many patents to a college at once: ticked rows or every row the
filter matches; the college-change rule decides each one, refusals are listed one by one."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.extensions import db
from revive.inventory import queries
from revive.inventory.models import EntryStatus, Patent, PatentRevision, StatusChange
from revive.selection import MAX_SELECTION
from tests.audit.helpers import events
from tests.factories import make_college, make_org, make_patent, make_user


@pytest.fixture
def uni(app):
    org = make_org("示范大学")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=org)
    return {
        "org": org,
        "admin": admin,
        "chem": make_college(org, "化学学院"),
        "phys": make_college(org, "物理学院"),
    }


def _post(client, **data):
    return client.post("/patents/assign-college", data=data)


def test_ticked_patents_move_and_refusals_are_listed_one_by_one(client, auth, uni):
    org, chem, phys = uni["org"], uni["chem"], uni["phys"]
    draft = make_patent(org)  # no college yet
    waiting = make_patent(org, college=chem, status=EntryStatus.PENDING_SCHOOL)
    entered = make_patent(org, college=chem, status=EntryStatus.ENTERED)
    there = make_patent(org, college=phys)
    foreign = make_patent(make_org("别的大学"), title="别校专利")
    auth.login(uni["admin"])
    ids = [draft.id, waiting.id, entered.id, there.id, foreign.id]
    resp = _post(client, scope="ids", ids=[str(i) for i in ids], target_college=str(phys.id))
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "已将 2 条专利分配到「物理学院」，1 条原已在该学院，2 条未分配" in page
    refused = re.search(r'id="assign-refused".*?</table>', page, re.S).group(0)
    assert entered.application_no in refused and "「已入库」的专利不能更改学院" in refused
    assert f"#{foreign.id}" in refused and "专利不存在或您无权查看" in refused
    assert "别校专利" not in page
    db.session.expire_all()
    assert db.session.get(Patent, draft.id).college_id == phys.id
    assert db.session.get(Patent, entered.id).college_id == chem.id
    # waiting for school review: back to the new college's review
    moved = db.session.get(Patent, waiting.id)
    assert (moved.college_id, moved.status) == (phys.id, EntryStatus.PENDING_COLLEGE)
    last = db.session.scalars(
        sa.select(StatusChange).where(StatusChange.patent_id == waiting.id)
    ).all()[-1]
    assert "须经物理学院审核" in last.comment
    (event,) = [e for e in events(entity="patent", entity_id=draft.id)]
    assert event.action == "assign_college" and event.actor_id == uni["admin"].id
    assert event.data["changes"] == {"college": [None, "物理学院"]}
    (rev,) = db.session.scalars(
        sa.select(PatentRevision).where(PatentRevision.patent_id == draft.id)
    ).all()
    assert rev.changes == {"college": [None, "物理学院"]}
    assert not events(entity="patent", entity_id=entered.id)


def test_every_patent_matching_the_filter(client, auth, uni):
    org, chem = uni["org"], uni["chem"]
    unassigned = [make_patent(org, legal_status="有效") for _ in range(3)]
    make_patent(org, legal_status="失效")  # filtered out
    make_patent(org, college=uni["phys"], legal_status="有效")  # filtered out (has a college)
    auth.login(uni["admin"])
    resp = _post(
        client,
        scope="filter",
        college="none",
        legal_status="有效",
        target_college=str(chem.id),
        ids=[str(unassigned[0].id)],  # ticks are ignored for the whole filter
    )
    assert "已将 3 条专利分配到「化学学院」" in resp.get_data(as_text=True)
    assert set(db.session.scalars(sa.select(Patent.id).where(Patent.college_id == chem.id))) == {
        p.id for p in unassigned
    }


def test_whole_filter_is_capped(client, auth, uni, monkeypatch):
    monkeypatch.setattr(queries, "MAX_FILTERED_IDS", 2)
    for _ in range(3):
        make_patent(uni["org"])
    auth.login(uni["admin"])
    resp = _post(client, scope="filter", target_college=str(uni["chem"].id))
    assert resp.status_code == 302
    flashed = client.get(resp.location).get_data(as_text=True)
    assert "符合筛选条件的专利超过 2 条" in flashed
    assert db.session.scalar(sa.select(sa.func.count()).where(Patent.college_id.is_not(None))) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"scope": "ids"}, "请先勾选要分配的专利"),
        ({"scope": "ids", "ids": ["x"]}, "无效的编号"),
        ({"scope": "ids", "ids": [str(i) for i in range(1, MAX_SELECTION + 2)]}, "一次最多处理"),
        ({"scope": "ids", "ids": ["1"], "target_college": ""}, "请选择本校的学院"),
        ({"scope": "ids", "ids": ["1"], "target_college": "abc"}, "请选择本校的学院"),
    ],
)
def test_bad_requests_are_explained(client, auth, uni, data, message):
    auth.login(uni["admin"])
    resp = _post(client, **data)
    assert resp.status_code == 302
    assert message in client.get(resp.location).get_data(as_text=True)


def test_another_universitys_college_is_no_target(client, auth, uni):
    p = make_patent(uni["org"])
    elsewhere = make_college(make_org("别的大学"), "别校学院")
    auth.login(uni["admin"])
    resp = _post(client, scope="ids", ids=[str(p.id)], target_college=str(elsewhere.id))
    assert "请选择本校的学院" in client.get(resp.location).get_data(as_text=True)
    assert db.session.get(Patent, p.id).college_id is None


def test_list_offers_the_action_to_school_admins_only(client, auth, uni):
    make_patent(uni["org"], college=uni["chem"])
    auth.login(uni["admin"])
    page = client.get("/patents/").get_data(as_text=True)
    assert 'action="/patents/assign-college"' in page
    assert 'name="csrf_token"' in page and 'name="ids"' in page
    assert "分配全部筛选结果（共 1 条）" in page
    auth.logout()
    college_admin = make_user(Role.COLLEGE_ADMIN, organization=uni["org"], college=uni["chem"])
    auth.login(college_admin)
    page = client.get("/patents/").get_data(as_text=True)
    assert "assign-college" not in page
    assert _post(client, scope="ids", ids=["1"], target_college="1").status_code == 403


def test_the_form_carries_the_list_filters(client, auth, uni):
    make_patent(uni["org"], legal_status="有效")
    auth.login(uni["admin"])
    page = client.get("/patents/?legal_status=有效&filed_from=2016-01-01").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/patents/assign-college".*?</form>', page, re.S)
    assert form is None  # the filter matched nothing: no table, no form
    page = client.get("/patents/?legal_status=有效").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/patents/assign-college".*?</form>', page, re.S)
    assert '<input type="hidden" name="legal_status" value="有效">' in form.group(0)
