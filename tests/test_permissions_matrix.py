"""Every inventory endpoint (HTML and API) × every role × own/other object.

Allowed → 2xx/3xx and the write took effect; not allowed → 403/404 and nothing changed;
anonymous → login redirect (HTML) or 401 JSON (API). Lists and exports must not contain the
other university's patent for scoped roles. ``test_every_inventory_route_is_in_the_matrix``
fails when a new /patents or /api/v1/patents route appears without a row here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from revive.accounts import services as account_services
from revive.accounts.models import College, Role
from revive.extensions import db
from revive.inventory import inventors
from revive.inventory.forms import initial_data
from revive.inventory.models import EntryStatus, FeeSetting, Patent, patent_inventors
from revive.inventory.permissions import INVENTORY_ROLES, READ_ALL_ROLES
from tests.factories import make_college, make_org, make_patent, make_user

FILERS = frozenset({Role.PLATFORM_ADMIN, Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.INVENTOR})
REVIEWERS = frozenset({Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN})
LINKERS = frozenset({Role.PLATFORM_ADMIN, Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN})
INVITERS = frozenset({Role.PLATFORM_ADMIN, Role.UNIVERSITY_ADMIN})
SCOPED = frozenset({Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.INVENTOR})
ROLES: list[Role | None] = [*Role, None]  # None = anonymous
NEW_APPNO = "201710601862.3"
SIDE_NAMES = ("甲发明", "乙发明")  # the unlinked inventor account / invitee of each side


@dataclass
class World:
    users: dict[Role, Any]
    own: dict[str, Any]  # patents ("draft", "pending"), an inventor account, an invitation
    other: dict[str, Any]
    inst_a: Any
    college_a: Any


@pytest.fixture
def world(app) -> World:
    inst_a, inst_b = make_org("甲大学"), make_org("乙大学")
    college_a, college_b = make_college(inst_a, "甲材料学院"), make_college(inst_b, "乙材料学院")
    users = {
        Role.PLATFORM_ADMIN: make_user(Role.PLATFORM_ADMIN),
        Role.UNIVERSITY_ADMIN: make_user(Role.UNIVERSITY_ADMIN, organization=inst_a),
        Role.COLLEGE_ADMIN: make_user(Role.COLLEGE_ADMIN, college=college_a),
        Role.INVENTOR: make_user(Role.INVENTOR, organization=inst_a, name="张发明"),
        Role.ENTERPRISE: make_user(Role.ENTERPRISE),
        Role.OFFICER: make_user(Role.OFFICER),
        Role.REGULATOR: make_user(Role.REGULATOR),
    }
    inventor = users[Role.INVENTOR]
    own = {
        "draft": make_patent(inst_a, college=college_a, inventors=[inventor], title="甲校草稿专利"),
        "pending": make_patent(
            inst_a,
            college=college_a,
            inventors=[inventor],
            status=EntryStatus.PENDING_COLLEGE,
            title="甲校待审专利",
        ),
    }
    other = {
        "draft": make_patent(inst_b, college=college_b, title="乙校草稿专利"),
        "pending": make_patent(
            inst_b, college=college_b, status=EntryStatus.PENDING_COLLEGE, title="乙校待审专利"
        ),
    }
    # Inventor links: an unlinked inventor account and a pending inventor invitation per side,
    # named on that side's draft.
    admin_b = make_user(Role.UNIVERSITY_ADMIN, organization=inst_b)
    own["draft"].inventors = f"{inventor.name}；{SIDE_NAMES[0]}"
    other["draft"].inventors = SIDE_NAMES[1]
    db.session.commit()
    for side, inst, admin, name in (
        (own, inst_a, users[Role.UNIVERSITY_ADMIN], SIDE_NAMES[0]),
        (other, inst_b, admin_b, SIDE_NAMES[1]),
    ):
        side["inventor"] = make_user(Role.INVENTOR, organization=inst, name=name)
        side["invitation"], _ = account_services.invite_user(
            actor=admin,
            organization_id=inst.id,
            email=f"invitee{inst.id}@example.edu.cn",
            name=name,
            role=Role.INVENTOR,
        )
    return World(users, own, other, inst_a, college_a)


# ---------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    rule: str  # the url_map rule this row covers
    url: Callable[[Any], str]  # of the object (a patent, an inventor account, an invitation)
    roles: frozenset[Role]
    api: bool = False
    state: str | None = None  # which object ("draft" | "pending" | "inventor" | "invitation")
    body: Callable[[World, Role, Patent | None], dict] | None = None
    effect: Callable[[Patent | None, int], bool] | None = None  # did the write happen?
    batch: bool = False  # other-object ids are refused inside a 2xx answer, not 403/404
    shows_list: bool = False  # response lists patents: check scope in the body
    read_all_other: bool = False  # READ_ALL roles may open other universities' objects
    kw: dict = field(default_factory=dict)


def _create_body(w: World, role: Role, _p: Patent | None) -> dict:
    body = {
        "application_no": NEW_APPNO,
        "title": "矩阵新建专利",
        "college": w.college_a.name,
        "inventors": w.users[Role.INVENTOR].name if role == Role.INVENTOR else "某人",
    }
    if role == Role.PLATFORM_ADMIN:
        body["institution_id"] = w.inst_a.id
    return body


def _edit_form(_w: World, _role: Role, p: Patent | None) -> dict:
    data = initial_data(p)
    data["title"] = "已修改的标题"
    return data


def _created(_p: Patent | None, _before: int) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).where(Patent.title == "矩阵新建专利")) == 1


def _title_changed(p: Patent | None, _before: int) -> bool:
    return db.session.get(Patent, p.id).title == "已修改的标题"


def _trl_changed(p: Patent | None, _before: int) -> bool:
    return db.session.get(Patent, p.id).trl == 7


def _deleted(p: Patent | None, _before: int) -> bool:
    pid = sa.inspect(p).identity[0]  # the row may be gone: no refresh of p
    return db.session.get(Patent, pid) is None


def _status_moved(p: Patent | None, before: int) -> bool:
    return db.session.get(Patent, p.id).version != before


def _side(w: World, obj: Any) -> dict[str, Any]:
    """The side ("own" or "other" objects) ``obj`` belongs to."""
    return w.own if any(obj is o for o in w.own.values()) else w.other


def _link_side_inventor(w: World, _role: Role, p: Patent | None) -> dict:
    return {"op": "link", "user_ids": [str(_side(w, p)["inventor"].id)]}


def _link_side_draft(w: World, _role: Role, obj: Any) -> dict:
    return {"op": "link", "patent_ids": [str(_side(w, obj)["draft"].id)]}


def _choose_side_draft(w: World, _role: Role, obj: Any) -> dict:
    return {"patent_ids": [str(_side(w, obj)["draft"].id)]}


def _side_inventor_linked(p: Patent | None, _before: int) -> bool:
    return any(u.name in SIDE_NAMES for u in db.session.get(Patent, p.id).inventor_users)


def _has_patents(user: Any, _before: int) -> bool:
    linked = sa.select(sa.func.count()).where(patent_inventors.c.user_id == user.id)
    return db.session.scalar(linked) > 0


def _chosen(invitation: Any, _before: int) -> bool:
    return bool(inventors.chosen_patent_ids(invitation.id))


def _assign_body(w: World, _role: Role, p: Patent | None) -> dict:
    """Move the patent to another college of 甲大学 (the other side's patent stays put)."""
    target = db.session.scalar(
        sa.select(College).where(
            College.institution_id == w.inst_a.id, College.name == "甲信息学院"
        )
    ) or make_college(w.inst_a, "甲信息学院")
    return {"scope": "ids", "ids": [str(p.id)], "target_college": str(target.id)}


def _fee_set(_p: Patent | None, _before: int) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(FeeSetting)) == 1


def _list_url(path: str) -> Callable[[Patent | None], str]:
    return lambda _p: path


ENDPOINTS: list[Endpoint] = [
    # ----- HTML pages
    Endpoint("list", "GET", "/patents/", _list_url("/patents/"), INVENTORY_ROLES, shows_list=True),
    Endpoint(
        "export_csv",
        "GET",
        "/patents/export.<fmt>",
        _list_url("/patents/export.csv"),
        INVENTORY_ROLES,
        shows_list=True,
    ),
    Endpoint(
        "export_xlsx",
        "GET",
        "/patents/export.<fmt>",
        _list_url("/patents/export.xlsx"),
        INVENTORY_ROLES,
    ),
    Endpoint(
        "detail",
        "GET",
        "/patents/<int:patent_id>",
        lambda p: f"/patents/{p.id}",
        INVENTORY_ROLES,
        state="draft",
        read_all_other=True,
    ),
    Endpoint("create_form", "GET", "/patents/new", _list_url("/patents/new"), FILERS),
    Endpoint(
        "create",
        "POST",
        "/patents/new",
        _list_url("/patents/new"),
        FILERS,
        body=_create_body,
        effect=_created,
    ),
    Endpoint(
        "edit_form",
        "GET",
        "/patents/<int:patent_id>/edit",
        lambda p: f"/patents/{p.id}/edit",
        FILERS,
        state="draft",
    ),
    Endpoint(
        "edit",
        "POST",
        "/patents/<int:patent_id>/edit",
        lambda p: f"/patents/{p.id}/edit",
        FILERS,
        state="draft",
        body=_edit_form,
        effect=_title_changed,
    ),
    Endpoint(
        "action",
        "POST",
        "/patents/<int:patent_id>/actions/<action>",
        lambda p: f"/patents/{p.id}/actions/submit",
        FILERS,
        state="draft",
        body=lambda *_: {},
        effect=_status_moved,
    ),
    Endpoint(
        "delete",
        "POST",
        "/patents/<int:patent_id>/delete",
        lambda p: f"/patents/{p.id}/delete",
        FILERS,
        state="draft",
        body=lambda *_: {},
        effect=_deleted,
    ),
    Endpoint(
        "patent_inventors",
        "POST",
        "/patents/<int:patent_id>/inventors",
        lambda p: f"/patents/{p.id}/inventors",
        LINKERS,
        state="draft",
        body=_link_side_inventor,
        effect=_side_inventor_linked,
    ),
    Endpoint(
        "inventor_page",
        "GET",
        "/patents/inventors/<int:user_id>",
        lambda u: f"/patents/inventors/{u.id}",
        LINKERS,
        state="inventor",
    ),
    Endpoint(
        "inventor_link",
        "POST",
        "/patents/inventors/<int:user_id>",
        lambda u: f"/patents/inventors/{u.id}",
        LINKERS,
        state="inventor",
        body=_link_side_draft,
        effect=_has_patents,
    ),
    Endpoint(
        "invitation_page",
        "GET",
        "/patents/inventors/invitations/<int:invitation_id>",
        lambda i: f"/patents/inventors/invitations/{i.id}",
        INVITERS,
        state="invitation",
    ),
    Endpoint(
        "invitation_choose",
        "POST",
        "/patents/inventors/invitations/<int:invitation_id>",
        lambda i: f"/patents/inventors/invitations/{i.id}",
        INVITERS,
        state="invitation",
        body=_choose_side_draft,
        effect=_chosen,
    ),
    Endpoint("review_queue", "GET", "/patents/review", _list_url("/patents/review"), REVIEWERS),
    Endpoint(
        "assign_college",
        "POST",
        "/patents/assign-college",
        _list_url("/patents/assign-college"),
        frozenset({Role.UNIVERSITY_ADMIN}),
        state="draft",
        batch=True,
        body=_assign_body,
        effect=_status_moved,
    ),
    Endpoint(
        "submit_batch",
        "POST",
        "/patents/submit",
        _list_url("/patents/submit"),
        frozenset({Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN}),
        state="draft",
        batch=True,
        body=lambda _w, _role, p: {"scope": "ids", "ids": [str(p.id)]},
        effect=_status_moved,
    ),
    Endpoint(
        "annual_fees",
        "GET",
        "/patents/annual-fees",
        _list_url("/patents/annual-fees"),
        INVENTORY_ROLES,
    ),
    Endpoint(
        "fee_reduction",
        "POST",
        "/patents/annual-fees/reduction",
        _list_url("/patents/annual-fees/reduction"),
        frozenset({Role.UNIVERSITY_ADMIN}),
        body=lambda *_: {"reduction_pct": "70"},
        effect=_fee_set,
    ),
    Endpoint(
        "batch",
        "POST",
        "/patents/review/batch",
        _list_url("/patents/review/batch"),
        REVIEWERS,
        state="pending",
        batch=True,
        body=lambda _w, _r, p: {"ids": [str(p.id)], "action": "college_approve"},
        effect=_status_moved,
    ),
    # ----- JSON API
    Endpoint(
        "api_list",
        "GET",
        "/api/v1/patents",
        _list_url("/api/v1/patents"),
        INVENTORY_ROLES,
        api=True,
        shows_list=True,
    ),
    Endpoint(
        "api_detail",
        "GET",
        "/api/v1/patents/<int:patent_id>",
        lambda p: f"/api/v1/patents/{p.id}",
        INVENTORY_ROLES,
        api=True,
        state="draft",
        read_all_other=True,
    ),
    Endpoint(
        "api_create",
        "POST",
        "/api/v1/patents",
        _list_url("/api/v1/patents"),
        FILERS,
        api=True,
        body=_create_body,
        effect=_created,
    ),
    Endpoint(
        "api_update",
        "PATCH",
        "/api/v1/patents/<int:patent_id>",
        lambda p: f"/api/v1/patents/{p.id}",
        FILERS,
        api=True,
        state="draft",
        body=lambda *_: {"trl": 7},
        effect=_trl_changed,
    ),
    Endpoint(
        "api_delete",
        "DELETE",
        "/api/v1/patents/<int:patent_id>",
        lambda p: f"/api/v1/patents/{p.id}",
        FILERS,
        api=True,
        state="draft",
        effect=_deleted,
    ),
    Endpoint(
        "api_action",
        "POST",
        "/api/v1/patents/<int:patent_id>/actions/<action>",
        lambda p: f"/api/v1/patents/{p.id}/actions/submit",
        FILERS,
        api=True,
        state="draft",
        body=lambda *_: {},
        effect=_status_moved,
    ),
    Endpoint(
        "api_batch",
        "POST",
        "/api/v1/patents/batch-actions",
        _list_url("/api/v1/patents/batch-actions"),
        REVIEWERS,
        api=True,
        state="pending",
        batch=True,
        body=lambda _w, _r, p: {"ids": [p.id], "action": "college_approve"},
        effect=_status_moved,
    ),
]


def _expected(ep: Endpoint, role: Role | None, which: str) -> str:
    """'ok' | 'noop' (2xx/3xx, nothing done) | 'denied' (403/404) | 'login'."""
    if role is None:
        return "login"
    if role not in ep.roles:
        return "denied"
    if ep.state is None or which == "own" or role == Role.PLATFORM_ADMIN:
        return "ok"
    if ep.read_all_other and role in READ_ALL_ROLES:
        return "ok"
    return "noop" if ep.batch else "denied"


CASES = [
    pytest.param(ep, role, which, id=f"{ep.name}-{role.value if role else 'anonymous'}-{which}")
    for ep in ENDPOINTS
    for role in ROLES
    for which in (("own", "other") if ep.state else ("own",))
]


@pytest.mark.parametrize(("ep", "role", "which"), CASES)
def test_permission_matrix(client, auth, world, ep: Endpoint, role: Role | None, which: str):
    patent = (world.own if which == "own" else world.other)[ep.state] if ep.state else None
    if role is not None:
        auth.login(world.users[role])
    before = getattr(patent, "version", 0)
    body = ep.body(world, role, patent) if ep.body else None
    url = ep.url(patent)
    if ep.api:
        resp = client.open(url, method=ep.method, json=body)
    else:
        resp = client.open(url, method=ep.method, data=body)
    text = resp.get_data(as_text=ep.name != "export_xlsx")
    if ep.api and resp.is_json and resp.data:
        text = json.dumps(resp.get_json(), ensure_ascii=False)
    resp.close()
    db.session.expire_all()

    expected = _expected(ep, role, which)
    if expected == "login":
        if ep.api:
            assert resp.status_code == 401
            assert resp.get_json()["error"] == "unauthorized"
        else:
            assert resp.status_code == 302
            assert "/login" in resp.headers["Location"]
    elif expected == "denied":
        assert resp.status_code in (403, 404), text[:500]
    else:
        assert 200 <= resp.status_code < 400, text[:500]
        if resp.status_code == 302:
            assert "/login" not in resp.headers["Location"]
    if ep.effect is not None:
        assert ep.effect(patent, before) is (expected == "ok")
    if ep.shows_list and expected == "ok":
        assert world.own["draft"].title in text
        assert (world.other["draft"].title in text) is (role in READ_ALL_ROLES)
    if expected != "ok" and which == "other" and isinstance(patent, Patent) and role in SCOPED:
        assert patent.title not in text  # a refusal never shows the other patent's data


def test_every_inventory_route_is_in_the_matrix(app):
    covered = {(ep.rule, ep.method) for ep in ENDPOINTS}
    routes = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/patents", "/api/v1/patents"))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    missing = routes - covered
    assert not missing, f"add these routes to ENDPOINTS in this test module: {missing}"
    assert covered <= routes, f"stale rows: {covered - routes}"


def test_matrix_covers_every_role():
    assert set(ROLES) == {*Role, None}
    assert SCOPED | READ_ALL_ROLES | {Role.ENTERPRISE} == set(Role)
