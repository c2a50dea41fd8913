"""Inventor-link pages through HTTP: invite → tick → accept, per person, per patent; CSRF and
bad input answer 4xx (or a flashed message), never 500."""

from __future__ import annotations

import re

import pytest

from revive.accounts.models import Role
from revive.extensions import db
from revive.inventory.models import Patent
from tests.audit.helpers import events
from tests.factories import make_college, make_org, make_patent, make_user


def html(resp) -> str:
    return resp.get_data(as_text=True)


@pytest.fixture
def uni(app):
    org = make_org("甲大学")
    chem, mech = make_college(org, "化学学院"), make_college(org, "机械学院")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=org, name="王管理")
    p_chem = make_patent(org, college=chem, title="一种化学方法")
    p_mech = make_patent(org, college=mech, title="一种机械装置")
    p_chem.inventors, p_mech.inventors = "张伟；李四", "张伟"
    db.session.commit()
    return org, chem, mech, admin, p_chem, p_mech


def _linked(patent_id: int) -> list[int]:
    db.session.expire_all()
    return [u.id for u in db.session.get(Patent, patent_id).inventor_users]


def test_invite_tick_and_accept_links_only_the_ticked_patent(client, auth, uni):
    org, chem, _, admin, p_chem, p_mech = uni
    auth.login(admin)
    resp = client.post(
        "/members/invite",
        data={
            "organization_id": str(org.id),
            "email": "zw@uni.edu.cn",
            "name": "张伟",
            "role": "inventor",
            "college_id": str(chem.id),
        },
    )
    page = html(resp)
    link = re.search(r'value="http://localhost(/invite/[^"]+)"', page).group(1)
    choose = re.search(r'href="(/patents/inventors/invitations/\d+)"', page).group(1)
    page = html(client.get(choose))
    assert "一种化学方法" in page and "一种机械装置" in page  # both name 张伟: the admin decides
    assert client.post(choose, data={"patent_ids": [str(p_chem.id)]}).status_code == 302
    assert f'value="{p_chem.id}" checked' in html(client.get(choose))
    auth.logout()
    resp = client.post(
        link, data={"name": "张伟", "password": "Welcome123", "confirm": "Welcome123"}
    )
    assert resp.status_code == 302
    assert len(_linked(p_chem.id)) == 1 and _linked(p_mech.id) == []
    page = html(client.get("/patents/"))
    assert "一种化学方法" in page and "一种机械装置" not in page


def test_typed_name_at_acceptance_shows_nobody_elses_patents(client, auth, uni):
    org, _, _, admin, p_chem, _ = uni
    victim = make_user(Role.INVENTOR, organization=org, name="张伟")
    p_chem.inventor_users = [victim]
    db.session.commit()
    from revive.accounts import services as accounts

    _, token = accounts.invite_user(
        actor=admin, organization_id=org.id, email="x@uni.edu.cn", name="王五", role=Role.INVENTOR
    )
    resp = client.post(
        f"/invite/{token}", data={"name": "张伟", "password": "Welcome123", "confirm": "Welcome123"}
    )
    assert resp.status_code == 302
    assert "一种化学方法" not in html(client.get("/patents/"))
    assert client.get(f"/patents/{p_chem.id}").status_code == 404
    assert _linked(p_chem.id) == [victim.id]


def test_admin_links_a_person_from_the_members_page(client, auth, uni):
    org, _, _, admin, p_chem, p_mech = uni
    zhang = make_user(Role.INVENTOR, organization=org, name="张伟")
    auth.login(admin)
    page = html(client.get("/members"))
    assert f"/patents/inventors/{zhang.id}" in page
    url = f"/patents/inventors/{zhang.id}"
    page = html(client.get(url))
    assert "一种化学方法" in page and "仅为建议" in page
    assert _linked(p_chem.id) == []  # shown, not linked
    resp = client.post(url, data={"op": "link", "patent_ids": [str(p_chem.id)]})
    assert resp.status_code == 302 and _linked(p_chem.id) == [zhang.id]
    resp = client.post(url, data={"op": "unlink", "patent_ids": [str(p_chem.id)]})
    assert resp.status_code == 302 and _linked(p_chem.id) == []
    assert [e.action for e in events(entity="patent", entity_id=p_chem.id)] == [
        "link_inventor",
        "unlink_inventor",
    ]
    assert _linked(p_mech.id) == []


def test_college_admin_links_on_the_patent_page(client, auth, uni):
    org, chem, _, _, p_chem, p_mech = uni
    zhang = make_user(Role.INVENTOR, organization=org, name="张伟", email="zw@uni.edu.cn")
    auth.login(make_user(Role.COLLEGE_ADMIN, organization=org, college=chem))
    page = html(client.get(f"/patents/{p_chem.id}"))
    assert 'id="inventor-accounts"' in page and "zw@uni.edu.cn" in page  # suggested
    url = f"/patents/{p_chem.id}/inventors"
    assert client.post(url, data={"op": "link", "email": "ZW@uni.edu.cn"}).status_code == 302
    assert _linked(p_chem.id) == [zhang.id]
    assert client.post(url, data={"op": "unlink", "user_ids": [str(zhang.id)]}).status_code == 302
    assert _linked(p_chem.id) == []
    # Another college's patent: not theirs to see, let alone link.
    resp = client.post(f"/patents/{p_mech.id}/inventors", data={"op": "link", "user_ids": "1"})
    assert resp.status_code == 404


def test_patent_page_hides_the_panel_from_those_who_cannot_decide(client, auth, uni):
    org, _, _, _, p_chem, _ = uni
    inventor = make_user(Role.INVENTOR, organization=org)
    p_chem.inventor_users = [inventor]
    db.session.commit()
    for user in (inventor, make_user(Role.OFFICER)):
        auth.login(user)
        assert 'id="inventor-accounts"' not in html(client.get(f"/patents/{p_chem.id}"))
        auth.logout()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"op": "delete", "patent_ids": ["1"]},
        {"op": "link"},
        {"op": "link", "patent_ids": ["abc"]},
        {"op": "link", "patent_ids": [str(n) for n in range(1, 1100)]},
        {"op": "link", "patent_ids": ["99999999999999999999"]},
    ],
)
def test_bad_input_is_a_message_not_a_500(client, auth, uni, data):
    org, _, _, admin, p_chem, _ = uni
    zhang = make_user(Role.INVENTOR, organization=org, name="张伟")
    auth.login(admin)
    for url in (f"/patents/inventors/{zhang.id}", f"/patents/{p_chem.id}/inventors"):
        body = dict(data)
        if "patent_ids" in body and url.endswith("/inventors"):
            body["user_ids"] = body.pop("patent_ids")
        resp = client.post(url, data=body)
        assert resp.status_code == 302, url
        assert "flash-error" in html(client.get(resp.headers["Location"]))
    assert _linked(p_chem.id) == []


def test_unknown_ids_are_404(client, auth, uni):
    *_, admin, p_chem, _ = uni
    auth.login(admin)
    assert client.get("/patents/inventors/999999").status_code == 404
    assert client.get(f"/patents/inventors/{admin.id}").status_code == 404  # not an inventor
    assert client.get("/patents/inventors/invitations/999999").status_code == 404


def test_forms_need_the_csrf_token(app, uni):
    org, *_ = uni
    zhang = make_user(Role.INVENTOR, organization=org, name="张伟")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"] = str(uni[3].id)
            sess["_fresh"] = True
        resp = client.post(f"/patents/inventors/{zhang.id}", data={"op": "link"})
        assert resp.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
